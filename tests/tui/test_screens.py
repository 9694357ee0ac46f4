"""Pickers, settings, first run, history and help."""

from __future__ import annotations

import stat
import tomllib
from datetime import datetime
from pathlib import Path

from textual.widgets import Input, Markdown, OptionList, Select, Switch

from tests.tui.fakes import FIXED_NOW, Harness
from voiceloop.tui.app import VoiceloopApp
from voiceloop.tui.protocols import SessionSummary, TurnRecord
from voiceloop.tui.screens.first_run import FirstRunScreen
from voiceloop.tui.screens.help import HelpScreen
from voiceloop.tui.screens.history import HistoryScreen
from voiceloop.tui.screens.pickers import DevicesScreen, ModelPicker, VoicePicker
from voiceloop.tui.screens.settings import SettingsScreen
from voiceloop.tui.widgets.status import ProfileLine


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_device_picker_applies_live_and_persists(harness: Harness, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    app = VoiceloopApp(deps=harness.deps(config))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f7")
        await pilot.pause()
        assert isinstance(app.screen, DevicesScreen)
        await pilot.press("tab", "down", "enter")  # speaker list: "Headset"
        await pilot.pause()
        assert not isinstance(app.screen, DevicesScreen)
        assert harness.applied == [("audio", "output", 5)]
        assert tomllib.loads(config.read_text())["audio"]["output"] == 5
        assert mode_of(config) == 0o600
        assert app.query_one(ProfileLine).profile.output_device == "Headset"


async def test_model_picker_lists_server_models(harness: Harness, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    app = VoiceloopApp(deps=harness.deps(config))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f8")
        await pilot.pause(0.2)
        picker = app.screen
        assert isinstance(picker, ModelPicker)
        assert picker.names == ["openai/gpt-oss-120b", "openai/gpt-oss-20b", "qwen/qwen3-32b"]
        # The current model is highlighted; pick the one above it.
        assert picker.query_one(OptionList).highlighted == 1
        await pilot.press("up", "enter")
        await pilot.pause()
        assert harness.applied == [("llm", "model", "openai/gpt-oss-120b")]
        assert tomllib.loads(config.read_text())["llm"]["model"] == "openai/gpt-oss-120b"
        assert app.profile.chat_model == "openai/gpt-oss-120b"


async def test_model_picker_shows_listing_error(harness: Harness) -> None:
    from voiceloop.errors import ConnectError

    async def broken() -> list[str]:
        raise ConnectError("Cannot reach the server.", hint="Check base_url.")

    app = VoiceloopApp(deps=harness.deps(list_models=broken))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f8")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ModelPicker)
        text = str(app.screen.query_one("#picker-error").render())
        assert "Cannot reach the server" in text and "Check base_url" in text


async def test_voice_picker(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, VoicePicker)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert harness.applied == [("tts", "voice", "diana")]


async def test_settings_validates_masks_and_writes_0600(harness: Harness, tmp_path: Path) -> None:
    config = tmp_path / "voiceloop" / "config.toml"
    config.parent.mkdir()
    config.write_text('[llm]\nmodel = "openai/gpt-oss-20b"\napi_key = "gsk_old"\n')
    app = VoiceloopApp(deps=harness.deps(config))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("f10")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SettingsScreen)
        key = screen.query_one("#llm-api-key", Input)
        assert key.password and key.value == ""  # never shows the stored key

        # A bad number is refused and nothing is written.
        screen.query_one("#vad-hangover-ms", Input).value = "soon"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "not a valid number" in str(screen.query_one("#settings-error").render())
        assert "hangover" not in config.read_text()

        # A number the settings model refuses (temperature is 0..2) is named, not written.
        screen.query_one("#vad-hangover-ms", Input).value = "450"
        screen.query_one("#llm-temperature", Input).value = "5"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "llm.temperature" in str(screen.query_one("#settings-error").render())
        assert "temperature" not in config.read_text()
        screen.query_one("#llm-temperature", Input).value = ""
        screen.query_one("#llm-model", Input).value = "qwen/qwen3-32b"
        key.value = "gsk_new_secret"
        # The echo and barge-in fields show the defaults.
        assert screen.query_one("#audio-echo-cancellation", Switch).value is True
        assert screen.query_one("#audio-noise-suppression", Switch).value is False
        assert screen.query_one("#audio-barge-in", Switch).value is True
        assert screen.query_one("#audio-false-interruption-s", Input).value == "1.0"
        assert screen.query_one("#audio-false-interruption", Select).value == "resume"
        screen.query_one("#audio-barge-in", Switch).value = False
        screen.query_one("#audio-false-interruption", Select).value = "cut"
        screen.query_one("#audio-false-interruption-s", Input).value = "0.6"
        await pilot.press("ctrl+s")
        await pilot.pause()
        data = tomllib.loads(config.read_text())
        assert data["vad"]["hangover_ms"] == 450
        assert data["llm"]["model"] == "qwen/qwen3-32b"
        assert data["llm"]["api_key"] == "gsk_new_secret"
        assert data["audio"]["barge_in"] is False
        assert data["audio"]["false_interruption"] == "cut"
        assert data["audio"]["false_interruption_s"] == 0.6
        assert "echo_cancellation" not in data["audio"]  # unchanged: not written
        assert mode_of(config) == 0o600
        assert key.value == ""
        applied = {(s, f): v for s, f, v in harness.applied}
        assert applied[("vad", "hangover_ms")] == 450
        # The key goes to the live session as a secret, never as plain text.
        assert "gsk_new_secret" not in repr(applied[("llm", "api_key")])


async def test_first_run_saves_pasted_key_and_starts(harness: Harness, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    app = VoiceloopApp(deps=harness.deps(config, has_key=False, local_dictation=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        assert harness.engines == []  # nothing runs without a key
        assert "local dictation" in str(app.screen.query_one("#works-now").render())
        key = app.screen.query_one("#api-key", Input)
        assert key.password
        await pilot.press(*"gsk_pasted", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, FirstRunScreen)
        data = tomllib.loads(config.read_text())
        assert data["groq_api_key"] == "gsk_pasted"
        assert mode_of(config) == 0o600
        assert harness.engine.called("run")


async def test_first_run_offers_local_dictation(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps(has_key=False, local_dictation=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        assert not isinstance(app.screen, FirstRunScreen)
        assert harness.engine.mode == "dictate"


async def test_first_run_without_local_engine_says_so(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps(has_key=False, local_dictation=False))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, FirstRunScreen)
        assert "no local engine" in str(app.screen.query_one("#works-now").render())
        assert not app.screen.query("#local")


class FakeHistory:
    def sessions(self, limit: int = 100) -> list[SessionSummary]:
        return [SessionSummary(7, datetime(2026, 1, 1, 8, 0), "converse", 1, "Morning")]

    def turns(self, session_id: int | str) -> list[TurnRecord]:
        assert session_id == 7
        return [TurnRecord(1, FIXED_NOW, "What time is it?", "Half past nine.", "answered")]


async def test_history_open_copy_export(harness: Harness, tmp_path: Path) -> None:
    app = VoiceloopApp(deps=harness.deps(history=FakeHistory()))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("enter")
        await pilot.pause()
        source = app.screen.query_one("#session-text", Markdown).source
        assert "What time is it?" in source and "Half past nine." in source
        await pilot.press("c")
        assert app.clipboard == source
        await pilot.press("e")
        await pilot.pause()
        target = tmp_path / "session.md"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert target.read_text().strip() == source.strip()


async def test_history_without_store_explains(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert "History is off" in str(app.screen.query_one("#history-note").render())


async def test_help_lists_keys_and_states(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        source = app.screen.query_one(Markdown).source
        assert "Hearing speech" in source and "Ctrl+T" in source
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_picked_setting_rebuilds_the_engine_when_asked(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps(restart_on_change=True))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = harness.engine
        await pilot.press("f9", "down", "enter")
        await pilot.pause(0.1)
        assert harness.applied == [("tts", "voice", "diana")]
        assert first.called("stop") and len(harness.engines) == 2
        assert harness.engine.called("run")


async def test_unexpected_picker_failure_opens_modal_not_traceback(harness: Harness) -> None:
    from voiceloop.tui.screens.error import ErrorScreen

    async def broken() -> list[str]:
        raise RuntimeError("socket exploded")

    app = VoiceloopApp(deps=harness.deps(list_models=broken))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("f8")
        await pilot.pause(0.2)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.message == "A background task failed: RuntimeError: socket exploded"
        assert harness.engine.called("stop") == []  # the session itself goes on
