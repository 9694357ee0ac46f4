"""Start the TUI in a real terminal (tmux), look at it, switch mode, quit with exit code 0."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("tmux") is None, reason="needs the tmux system package"),
]


def _tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", *args], check=True, capture_output=True, text=True, timeout=10
    ).stdout


def _wait_for(session: str, text: str, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    screen = ""
    while time.monotonic() < deadline:
        screen = _tmux("capture-pane", "-p", "-t", session)
        if text in screen:
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{text!r} never appeared; screen was:\n{screen}")


def test_demo_renders_switches_mode_and_quits_cleanly(tmp_path: Path) -> None:
    session = f"voiceloop-smoke-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit"
    command = f"{sys.executable} -m voiceloop.tui --demo; echo $? > {exit_file}; sleep 5"
    _tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)
    try:
        screen = _wait_for(session, "f1 Help")
        screen = _wait_for(session, "Listening")
        assert "voiceloop" in screen and "Converse" in screen
        _tmux("send-keys", "-t", session, "F3")
        screen = _wait_for(session, "Dictation")
        assert "Dictate" in screen
        # One scripted dictation turn: talk, then stop talking.
        _tmux("send-keys", "-t", session, "C-t")
        time.sleep(0.3)
        _tmux("send-keys", "-t", session, "C-t")
        _wait_for(session, "This sentence was dictated.")
        _tmux("send-keys", "-t", session, "C-q")
        deadline = time.monotonic() + 15
        while not exit_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert exit_file.read_text().strip() == "0"
        assert "Traceback" not in _tmux("capture-pane", "-p", "-t", session)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
