"""pytest fixtures for the fake Groq server.

Use it from any test package with ``pytest_plugins = ["tests.fakegroq.plugin"]`` (the root
``tests/conftest.py`` already does). Fixtures:

- ``fake_groq``: a running :class:`~tests.fakegroq.server.FakeGroq`, reset for each test
  (one server per session: starting uvicorn costs ~0.2 s).
- ``groq_env``: ``fake_groq`` plus ``GROQ_API_KEY`` / ``GROQ_BASE_URL`` set to it and an
  empty config file, so CLI commands and ``load_settings()`` talk to it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakegroq.server import FakeGroq


@pytest.fixture(scope="session")
def _fake_groq_server() -> Iterator[FakeGroq]:
    server = FakeGroq().start()
    yield server
    server.stop()


@pytest.fixture
def fake_groq(_fake_groq_server: FakeGroq) -> Iterator[FakeGroq]:
    _fake_groq_server.reset()
    yield _fake_groq_server
    _fake_groq_server.reset()


@pytest.fixture
def groq_env(fake_groq: FakeGroq, monkeypatch: pytest.MonkeyPatch, tmp_path) -> FakeGroq:
    monkeypatch.setenv("GROQ_API_KEY", fake_groq.api_key)
    monkeypatch.setenv("GROQ_BASE_URL", fake_groq.root_url)
    monkeypatch.setenv("VOICELOOP_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("VOICELOOP_LOG_DIR", str(tmp_path / "logs"))
    for name in ("VOICELOOP_STT__BASE_URL", "VOICELOOP_LLM__BASE_URL", "VOICELOOP_TTS__BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return fake_groq
