"""No sound device: once the error is closed the screen says what is missing and what works."""

from __future__ import annotations

import pytest

from tests.tui.fakes import Harness
from voiceloop.config import load_settings
from voiceloop.errors import DeviceError, PortAudioMissingError
from voiceloop.tui.app import VoiceloopApp
from voiceloop.tui.screens.error import ErrorScreen
from voiceloop.tui.widgets.conversation import ConversationLog
from voiceloop.tui.widgets.state import StateIndicator
from voiceloop.tui.widgets.status import TalkBadge
from voiceloop.tui.wiring import profile_from_settings

NO_MIC = DeviceError(
    "No input device found (devices: none).",
    hint="plug in or enable a microphone",
    kind="input",
)


async def _settle(pilot, app: VoiceloopApp, screen: type | None = None) -> None:
    for _ in range(60):
        await pilot.pause(0.05)
        if screen is None or isinstance(app.screen, screen):
            return


async def test_without_a_microphone_the_reason_stays_and_talk_is_not_offered(
    harness: Harness,
) -> None:
    harness.fail_engine_with = NO_MIC
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app, ErrorScreen)
        assert isinstance(app.screen, ErrorScreen)
        await pilot.press("escape")  # close the device dialog
        await pilot.pause()
        assert not isinstance(app.screen, ErrorScreen)
        state = app.screen.query_one(StateIndicator)
        assert str(state.render()) == "● No microphone"
        notes = " ".join(
            str(n.render()) for n in app.screen.query_one(ConversationLog).query(".note")
        )
        assert "No microphone: nothing can be heard" in notes
        assert "history (Ctrl+R)" in notes and "Restart engine" in notes
        assert str(app.screen.query_one(TalkBadge).render()) == "no microphone"
        shown = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
        assert "ctrl+t" not in shown
        footer_keys = [str(w.render()) for w in app.screen.query("FooterKey") if w.display]
        assert not any("Talk" in text for text in footer_keys)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert not app.talking and not harness.engine.called("push_to_talk")

        harness.fail_engine_with = None  # plugged in: a restart listens again
        app.restart_engine()
        await _settle(pilot, app)
        await pilot.pause(0.2)
        assert app.missing_device is None
        assert str(app.screen.query_one(TalkBadge).render()) != "no microphone"
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.talking


def test_the_header_names_the_engines_in_use_without_a_key(monkeypatch, tmp_path) -> None:
    from voiceloop.session import serving as wiring

    monkeypatch.setattr(wiring, "_local_engine", lambda kind: True)
    settings = load_settings(path=tmp_path / "none.toml")
    profile = profile_from_settings(settings)
    assert profile.stt_model == "local tiny.en"
    assert profile.voice == "local joe"
    assert profile.chat_model == "none (no key)"
    monkeypatch.setenv("GROQ_API_KEY", "gsk_" + "x" * 40)
    with_key = profile_from_settings(load_settings(path=tmp_path / "none.toml"))
    assert with_key.stt_model == "whisper-large-v3-turbo" and with_key.voice == "autumn"
    assert with_key.chat_model == "openai/gpt-oss-20b"


@pytest.mark.parametrize(
    ("error", "label", "note", "badge"),
    [
        (
            DeviceError("No output device found.", hint="plug in a speaker", kind="output"),
            "● No speaker",
            "No speaker: replies and dictation cannot play",
            "no speaker",
        ),
        (
            PortAudioMissingError("PortAudio is not installed", hint="install libportaudio2"),
            "● No audio",
            "No sound device: nothing can be heard or played",
            "no microphone",
        ),
    ],
    ids=["no speaker", "no audio at all"],
)
async def test_without_a_speaker_or_any_audio_the_screen_says_which(
    harness: Harness, error: Exception, label: str, note: str, badge: str
) -> None:
    harness.fail_engine_with = error
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(100, 30)) as pilot:
        await _settle(pilot, app, ErrorScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert str(app.screen.query_one(StateIndicator).render()) == label
        notes = " ".join(
            str(n.render()) for n in app.screen.query_one(ConversationLog).query(".note")
        )
        assert note in notes and "history (Ctrl+R)" in notes
        shown = {b.binding.key for b in app.screen.active_bindings.values() if b.enabled}
        assert "ctrl+t" not in shown
        assert str(app.screen.query_one(TalkBadge).render()) == badge
