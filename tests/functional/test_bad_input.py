"""Careless input to the one-shot and headless commands: a clear line, the bad-input exit
code, nothing on stdout, and never a crash at interpreter shutdown."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
EXIT_USAGE = 2


def _unreadable(tmp_path: Path) -> list[Path]:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.wav"
    text.write_text("this is a text file, renamed\n" * 40)
    headerless = tmp_path / "raw.wav"
    rng = np.random.default_rng(7)
    headerless.write_bytes((rng.standard_normal(16_000) * 3000).astype("<i2").tobytes())
    return [empty, text, headerless]


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("GROQ_API_KEY", None)  # the local engines: the models that once crashed at exit
    env["HOME"] = str(tmp_path)
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["VOICELOOP_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_dictate_on_unreadable_input_fails_fast_and_cleanly_every_time(tmp_path: Path) -> None:
    files = _unreadable(tmp_path)
    env = _env(tmp_path)
    slowest = 0.0
    for run in range(20):
        path = files[run % len(files)]
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "voiceloop", "dictate", "--headless", "--input", str(path)],
            cwd=REPO,
            env=env,
            capture_output=True,
            timeout=120,
        )
        slowest = max(slowest, time.monotonic() - started)
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == EXIT_USAGE, (run, path.name, proc.returncode, err)
        assert proc.stdout == b"", (run, path.name, proc.stdout[:200])
        assert str(path) in err and "Traceback" not in err
        assert err.strip().count("\n") == 0, err
    # Refused before any model is loaded: well under the seconds a model load takes,
    # with room for a loaded machine.
    assert slowest < 4.0, slowest


@pytest.mark.parametrize("command", ["transcribe", "dictate"])
def test_a_zero_byte_file_is_called_empty(tmp_path: Path, command: str) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    argv = [command, str(empty)] if command == "transcribe" else [
        command, "--headless", "--input", str(empty)
    ]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "voiceloop", *argv],
        cwd=REPO,
        env=_env(tmp_path),
        capture_output=True,
        timeout=60,
    )
    err = proc.stderr.decode()
    assert proc.returncode == EXIT_USAGE, err
    assert "empty file" in err and "Format not recognised" not in err


@pytest.mark.timeout(600)  # 20 runs that each load the local models
def test_a_readable_file_without_speech_exits_cleanly_every_time(tmp_path: Path) -> None:
    """The local models load and are used here: exit must still never be a crash."""
    import soundfile as sf

    rate = 16_000
    t = np.arange(rate * 3) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype("f4")
    full = tmp_path / "tone.wav"
    sf.write(str(full), tone, rate)
    truncated = tmp_path / "cut.wav"  # a header promising more than the file holds
    truncated.write_bytes(full.read_bytes()[: full.stat().st_size // 3])
    env = _env(tmp_path)
    for run in range(20):
        path = (full, truncated)[run % 2]
        proc = subprocess.run(
            [sys.executable, "-m", "voiceloop", "dictate", "--headless", "--input", str(path)],
            cwd=REPO,
            env=env,
            capture_output=True,
            timeout=120,
        )
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == 3, (run, path.name, proc.returncode, err[-400:])
        assert proc.stdout == b"", (run, path.name, proc.stdout[:200])
        assert "no speech found" in err
