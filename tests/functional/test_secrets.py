"""No key anywhere it should not be: every command, on success and on failure, with sentinel
keys (one from the environment, one from the config file), then a search of everything the
program writes or shows: stdout, stderr, log files, the history database and recordings,
exports, subtitles, and the TUI's screens (its snapshots and a live settings screen)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tests.fakegroq import Fault
from tests.fakegroq.server import _err
from tests.fakegroq.sounds import tone_track, voice_bursts, write
from voiceloop.cli import main

ENV_KEY = "gsk_" + "SENTINELenv7q2w9e4r6t8y1u3i5o0pLKJHGFDSA"
CONFIG_KEY = "gsk_" + "SENTINELcfg3m5n7b9v1c2x4z6a8sQWERTYUIOP"
SENTINELS = (ENV_KEY, CONFIG_KEY, "SENTINEL")
RATE = 16_000
SNAPSHOTS = Path(__file__).resolve().parents[1] / "tui" / "__snapshots__"
KEY_SHAPE = re.compile(rb"gsk_[A-Za-z0-9]{16,}")


@pytest.fixture
def sentinel_env(groq_env, monkeypatch, tmp_path):
    """The loopback server accepting only the two sentinel keys; the environment holds one
    and the config file gives [translate] and [llm] the other."""
    fake = groq_env
    accepted = {f"Bearer {ENV_KEY}", f"Bearer {CONFIG_KEY}"}

    def check_auth(request):
        if request.headers.get("authorization") not in accepted:
            return _err(401, "Invalid API Key", code="invalid_api_key")
        return None

    monkeypatch.setattr(fake, "check_auth", check_auth)
    monkeypatch.setenv("GROQ_API_KEY", ENV_KEY)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[translate]\napi_key = "{CONFIG_KEY}"\n[llm]\napi_key = "{CONFIG_KEY}"\n'
        '[vad]\nengine = "energy"\n[stt]\nfallback = false\n[tts]\nfallback = false\n'
    )
    config.chmod(0o600)
    monkeypatch.setenv("VOICELOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", "0")
    return fake


def test_no_command_leaks_a_key_on_success_or_failure(
    sentinel_env, tmp_path, monkeypatch, capfd
) -> None:
    fake = sentinel_env
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    tones = write(tmp_path / "tones.wav", tone_track([(0.2, 0.5, 440), (1.0, 0.5, 660)], 2.0))
    speech = voice_bursts(tmp_path / "speech.wav", 2)
    long_file = write(
        tmp_path / "minute.wav",
        tone_track([(2.0, 1.0, 440), (27.0, 1.0, 660), (50.0, 1.0, 880)], 60.0)
        + np.random.default_rng(7).uniform(-0.003, 0.003, 960_000).astype(np.float32),
    )
    echo = {"error": {"message": f"Invalid API Key {ENV_KEY} / {CONFIG_KEY}", "type": "x"}}
    codes: dict[str, int] = {}

    def run(name: str, *argv: str, faults: dict[str, list[Fault]] | None = None) -> None:
        for route, queued in (faults or {}).items():
            fake.set_fault(route, *queued)
        codes[name] = main(list(argv))

    # Success paths.
    run("transcribe", "transcribe", str(tones))
    for fmt in ("json", "verbose_json", "srt", "vtt"):
        run(f"transcribe {fmt}", "transcribe", str(tones), "--format", fmt,
            "-o", str(out_dir / f"tones.{fmt}"))  # fmt: skip
    run("translate", "translate", str(tones))
    run("say", "say", "Hello there. How are you?", "-o", str(out_dir / "hello.wav"))
    run("ask", "ask", "What is the capital of Peru?")
    run("models", "models")
    run("models json", "models", "--json")
    run("config show", "config", "show")
    run("config path", "config", "path")
    run("dictate", "dictate", "--headless", "--input", str(speech))
    run("converse", "converse", "--headless", "--input", str(speech),
        "--output", str(out_dir / "reply.wav"))  # fmt: skip
    run("translate live", "translate", "--headless", "--input", str(speech), "--original")
    run("devices", "devices")

    # Failure paths: 401 (one echoing the keys back), 429, 500, cut and reset streams.
    run("transcribe 401", "transcribe", str(tones),
        faults={"transcriptions": [Fault.http(401, body=echo)]})  # fmt: skip
    run("transcribe 429 -v", "-v", "transcribe", str(tones),
        faults={"transcriptions": [Fault.http(429, retry_after=0.01)]})  # fmt: skip
    run("transcribe 500", "transcribe", str(tones),
        faults={"transcriptions": [Fault.http(500, body=echo)]})  # fmt: skip
    run("transcribe reset -v", "-v", "transcribe", str(tones),
        faults={"transcriptions": [Fault.reset()]})  # fmt: skip
    run("translate 401 -v", "-v", "translate", str(tones),
        faults={"translations": [Fault.http(401, body=echo)]})  # fmt: skip
    run("ask 401", "ask", "hello", faults={"chat": [Fault.http(401, body=echo)]})
    run("ask 429", "ask", "hello", faults={"chat": [Fault.http(429, retry_after=0.01)]})
    run("ask 500 -v", "-v", "ask", "hello", faults={"chat": [Fault.http(500, body=echo)]})
    run("ask cut", "ask", "hello", faults={"chat": [Fault.cut(after=2)]})
    run("ask error event -v", "-v", "ask", "hello", faults={"chat": [Fault.error_event(after=1)]})
    run("say 401", "say", "Hi.", "-o", str(out_dir / "x.wav"),
        faults={"speech": [Fault.http(401, body=echo)]})  # fmt: skip
    run("say cut -v", "-v", "say", "Hi there.", "-o", str(out_dir / "y.wav"),
        faults={"speech": [Fault.reset(after=1)]})  # fmt: skip
    run("models 401 -v", "-v", "models", faults={"models": [Fault.http(401, body=echo)]})
    run("dictate 500", "dictate", "--headless", "--input", str(speech),
        faults={"transcriptions": [Fault.http(500, body=echo), Fault.reset()]})  # fmt: skip
    run("converse cut -v", "-v", "converse", "--headless", "--input", str(speech),
        "--output", str(out_dir / "reply2.wav"),
        faults={"chat": [Fault.http(401, body=echo), Fault.cut(after=2)],
                "speech": [Fault.http(429, retry_after=0.01)]})  # fmt: skip
    run("translate live 500", "translate", "--headless", "--input", str(speech),
        faults={"translations": [Fault.http(500, body=echo)]})  # fmt: skip
    with monkeypatch.context() as m:
        m.setenv("VOICELOOP_HTTP__UPLOAD_LIMIT_MB", "0.5")
        run("transcribe long 401", "transcribe", str(long_file),
            faults={"transcriptions": [None, Fault.http(401, body=echo)]})  # type: ignore[list-item]  # fmt: skip

    # The history commands over what all that left behind.
    run("history", "history")
    run("history full", "history", "--full")
    run("history failed", "history", "--failed")
    for fmt in ("md", "json", "txt", "srt", "vtt"):
        run(f"export {fmt}", "export", "--all", "--format", fmt, "-o", str(out_dir / f"h.{fmt}"))
    run("export stdout", "export", "--all", "--format", "json")
    run("retry 401 -v", "-v", "retry", "--all-failed",
        faults={"transcriptions": [Fault.http(401, body=echo)] * 10,
                "translations": [Fault.http(401, body=echo)] * 10})  # fmt: skip
    fake.reset()  # drops the 401s retry did not use
    run("retry", "retry", "--all-failed")
    jobs_srt = out_dir / "job.srt"
    run("retry job", "retry", "--job", "1", "-o", str(jobs_srt))
    run("forget", "forget", "1", "--yes")

    out, err = capfd.readouterr()
    # Each run went the way its name says: a failure path that succeeded would prove nothing.
    # (``devices`` may fail on a machine without sound devices; that is a path too.)
    failure = re.compile(r"401|429|500|cut|reset|error")
    expected = {name: 1 if failure.search(name) else 0 for name in codes if name != "devices"}
    assert {name: min(codes[name], 1) for name in expected} == expected, codes
    assert "Invalid API Key" in err  # the echoed message is shown, its keys masked
    assert jobs_srt.read_text().count("-->") == 3

    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "config.toml"]
    log_files = [p for p in files if p.parent.name == "logs"]
    data_files = [p for p in files if "data" in p.relative_to(tmp_path).parts]
    assert log_files and any(p.name == "history.sqlite3" for p in data_files)
    assert any(p.suffix == ".flac" for p in data_files)
    assert len(list(out_dir.iterdir())) >= 10
    for path in [*log_files, *data_files, tmp_path / "data", tmp_path / "logs"]:
        assert path.stat().st_mode & 0o077 == 0, f"{path} is open to others"
    for secret in SENTINELS:
        assert secret not in out, f"{secret} on stdout"
        assert secret not in err, f"{secret} on stderr"
        for path in files:
            assert secret.encode() not in path.read_bytes(), f"{secret} in {path}"


def test_tui_snapshots_hold_no_key() -> None:
    snapshots = [p for p in SNAPSHOTS.rglob("*") if p.is_file()]
    assert snapshots, "no TUI snapshots to check"
    for path in snapshots:
        data = path.read_bytes()
        assert not KEY_SHAPE.search(data), path
        assert b"SENTINEL" not in data, path


async def test_tui_settings_screen_never_shows_a_configured_or_typed_key(tmp_path) -> None:
    from textual.widgets import Input

    from tests.tui.fakes import Harness
    from voiceloop.tui.app import VoiceloopApp
    from voiceloop.tui.screens.settings import SettingsScreen

    config = tmp_path / "config.toml"
    config.write_text(f'[llm]\napi_key = "{CONFIG_KEY}"\n[stt]\napi_key = "{CONFIG_KEY}"\n')
    app = VoiceloopApp(deps=Harness().deps(config))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f10")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        shown = app.export_screenshot()
        app.screen.query_one("#tts-api-key", Input).value = ENV_KEY  # typed, not yet saved
        await pilot.pause()
        typed = app.export_screenshot()
    assert "API&#160;key" in shown  # the key fields are on screen, empty or masked
    for screen in (shown, typed):
        assert CONFIG_KEY not in screen and ENV_KEY not in screen and "SENTINEL" not in screen
