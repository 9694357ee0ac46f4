"""Every test runs against a private config file, log dir and data dir, with no keys in the
environment.

A developer's real config, keys and logs must never leak into (or be written by) the tests;
subprocesses inherit the same isolation through ``os.environ``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ["tests.fakegroq.plugin"]

_LEAKY_PREFIXES = ("VOICELOOP_", "GROQ_")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Point the config file, logs and history at a fresh temp dir; drop GROQ_*, VOICELOOP_*."""
    for name in list(os.environ):
        upper = name.upper()
        # VOICELOOP_TEST_* describe the test bench (e.g. the PulseAudio one CI starts).
        if upper.startswith(_LEAKY_PREFIXES) and not upper.startswith("VOICELOOP_TEST_"):
            monkeypatch.delenv(name)
    home: Path = tmp_path_factory.mktemp("voiceloop-home")
    monkeypatch.setenv("VOICELOOP_CONFIG", str(home / "config" / "config.toml"))
    monkeypatch.setenv("VOICELOOP_LOG_DIR", str(home / "logs"))
    monkeypatch.setenv("VOICELOOP_DATA_DIR", str(home / "data"))
    return home


@pytest.fixture(autouse=True)
def restore_logging():
    """Undo what ``setup_logging`` (run by in-process ``main()``) does to the loggers."""
    import logging

    names = ("", "voiceloop", "httpx")
    saved = {}
    for name in names:
        logger = logging.getLogger(name)
        saved[name] = (list(logger.handlers), logger.level)
    yield
    logging.captureWarnings(False)
    for name, (handlers, level) in saved.items():
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            if handler not in handlers:
                logger.removeHandler(handler)
                handler.close()
        logger.setLevel(level)
