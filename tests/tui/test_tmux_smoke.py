"""Start the TUI in a real terminal (tmux), look at it, switch mode, quit with exit code 0."""

from __future__ import annotations

import shlex
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


def _run_in_tmux(session: str, argv: list[str], env: dict[str, str], exit_file: Path) -> None:
    """Start ``argv`` in a fresh 80x24 tmux session; its exit code lands in ``exit_file``."""
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = (
        f"env {assignments} {shlex.join(argv)}; echo $? > {shlex.quote(str(exit_file))}; sleep 5"
    )
    _tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24", command)


def _quit_and_exit_code(session: str, exit_file: Path) -> str:
    _tmux("send-keys", "-t", session, "C-q")
    deadline = time.monotonic() + 15
    while not exit_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "Traceback" not in _tmux("capture-pane", "-p", "-t", session)
    return exit_file.read_text().strip()


def _isolated_env(tmp_path: Path) -> dict[str, str]:
    return {
        "VOICELOOP_CONFIG": str(tmp_path / "config.toml"),
        "VOICELOOP_LOG_DIR": str(tmp_path / "logs"),
        "VOICELOOP_DATA_DIR": str(tmp_path / "data"),
        "GROQ_API_KEY": "",
        "TERM": "xterm-256color",
    }


def test_voiceloop_without_key_opens_first_run(tmp_path: Path) -> None:
    session = f"voiceloop-first-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit"
    argv = [sys.executable, "-m", "voiceloop"]  # bare `voiceloop`
    _run_in_tmux(session, argv, _isolated_env(tmp_path), exit_file)
    try:
        screen = _wait_for(session, "paste your API key")
        assert "Welcome to voiceloop" in screen and "GROQ_API_KEY" in screen
        assert _quit_and_exit_code(session, exit_file) == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_voiceloop_converse_on_loopback_server(tmp_path: Path, fake_groq) -> None:  # type: ignore[no-untyped-def]
    import soundfile as sf

    from tests.fakegroq.sounds import tone_track

    fake_groq.transcripts.append("Is the smoke test working?")
    fake_groq.chat_reply = "Yes, the smoke test works."
    wav = tmp_path / "question.wav"
    sf.write(wav, tone_track([(0.5, 1.2, 300.0)], total=4.0), 16_000)
    env = _isolated_env(tmp_path) | {
        "GROQ_API_KEY": fake_groq.api_key,
        "GROQ_BASE_URL": fake_groq.root_url,
        "VOICELOOP_VAD__ENGINE": "energy",
        "VOICELOOP_AUDIO__CUES": "false",
        "VOICELOOP_AUDIO__INPUT": str(wav),
        "VOICELOOP_AUDIO__OUTPUT": str(tmp_path / "reply.wav"),
    }
    argv = [sys.executable, "-m", "voiceloop"]  # bare `voiceloop`: the TUI, converse
    session = f"voiceloop-real-{uuid.uuid4().hex[:8]}"
    exit_file = tmp_path / "exit"
    _run_in_tmux(session, argv, env, exit_file)
    try:
        screen = _wait_for(session, "Yes, the smoke test works.", timeout=40)
        assert "Is the smoke test working?" in screen
        _tmux("send-keys", "-t", session, "F4")
        _wait_for(session, "Translate")
        assert _quit_and_exit_code(session, exit_file) == "0"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


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
