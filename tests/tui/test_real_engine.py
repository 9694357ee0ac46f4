"""The TUI on the real engine: file audio in, the loopback Groq server, a WAV file out."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from textual.widgets import Markdown

from tests.fakegroq.faults import Fault
from tests.fakegroq.server import FakeGroq
from tests.fakegroq.sounds import tone_track
from voiceloop.config import load_settings
from voiceloop.tui.app import VoiceloopApp
from voiceloop.tui.screens.history import HistoryScreen
from voiceloop.tui.widgets.conversation import AssistantTurn, UserTurn
from voiceloop.tui.widgets.latency import LatencyPanel
from voiceloop.tui.wiring import deps_from_settings

pytestmark = pytest.mark.slow


def real_deps(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *speech: tuple[float, float],
    **sections: dict[str, object],
):
    monkeypatch.setenv("VOICELOOP_DATA_DIR", str(tmp_path / "data"))
    wav = tmp_path / "speech.wav"
    sf.write(wav, tone_track([(s, d, 300.0) for s, d in speech], total=6.0), 16_000)
    settings = load_settings(
        {
            "audio": {"input": str(wav), "output": str(tmp_path / "reply.wav"), "cues": False},
            "vad": {"engine": "energy"},
            "stt": {"fallback": False},
            "tts": {"fallback": False},
            **sections,
        }
    )
    return deps_from_settings(settings)


async def wait_for(pilot, condition, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(seconds / 0.1)):
        if condition():
            return
        await pilot.pause(0.1)
    raise AssertionError("timed out waiting for the screen")


async def test_spoken_question_streams_reply_and_latency(
    groq_env: FakeGroq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    groq_env.transcripts.append("What is the weather like?")
    groq_env.chat_reply = "It is sunny today. Enjoy the walk."
    app = VoiceloopApp(deps=real_deps(tmp_path, monkeypatch, (0.5, 1.2)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: any(r.done for r in app.query(AssistantTurn)))
        assert [u.text for u in app.query(UserTurn)] == ["What is the weather like?"]
        reply = app.query_one(AssistantTurn)
        assert reply.text == "It is sunny today. Enjoy the walk."
        assert reply.query_one(Markdown).source == reply.text
        panel = app.query_one(LatencyPanel)
        await wait_for(pilot, lambda: bool(panel.timings))
        labels = [label for label, _ in panel.timings[-1].points]
        assert labels[:2] == ["close", "transcript"] and "played" in labels
        # The file ends: the app says so instead of hanging or crashing.
        await wait_for(pilot, lambda: any(n.title == "Engine stopped" for n in app._notifications))
        # The turn is in the history store.
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        await pilot.press("enter")
        await pilot.pause()
        source = app.screen.query_one("#session-text", Markdown).source
        assert "What is the weather like?" in source and "It is sunny today." in source
    assert sf.info(tmp_path / "reply.wav").duration > 0.5


async def test_dictation_from_real_engine(
    groq_env: FakeGroq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import TextArea

    groq_env.transcripts.extend(["First sentence.", "Second sentence."])
    app = VoiceloopApp(
        mode="dictate", deps=real_deps(tmp_path, monkeypatch, (0.5, 1.0), (3.0, 1.0))
    )
    async with app.run_test(size=(80, 24)) as pilot:
        area = app.query_one(TextArea)
        await wait_for(pilot, lambda: "Second sentence." in area.text)
        assert area.text.startswith("First sentence.")
        await pilot.press("ctrl+y")
        assert app.clipboard == area.text


async def test_dictation_copied_through_the_app_when_the_clipboard_is_on(
    groq_env: FakeGroq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textual.widgets import TextArea

    import voiceloop.engine.osc52 as osc52

    written: list[str] = []
    monkeypatch.setattr(osc52, "copy_to_terminal", written.append)
    monkeypatch.setenv("VOICELOOP_DICTATE__CLIPBOARD", "true")
    groq_env.transcripts.extend(["First sentence.", "Second sentence."])
    app = VoiceloopApp(
        mode="dictate", deps=real_deps(tmp_path, monkeypatch, (0.5, 1.0), (3.0, 1.0))
    )
    async with app.run_test(size=(80, 24)) as pilot:
        area = app.query_one(TextArea)
        await wait_for(pilot, lambda: "Second sentence." in area.text)
        await wait_for(pilot, lambda: app.clipboard == "First sentence. Second sentence.")
    assert written == []  # never past Textual, straight to the terminal


async def test_rate_limited_turn_toasts_and_next_turn_works(
    groq_env: FakeGroq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    groq_env.transcripts.extend(["First question?", "Second question?"])
    groq_env.chat_reply = "Here is the answer."
    groq_env.set_fault("chat", Fault.http(429, retry_after=20))
    deps = real_deps(tmp_path, monkeypatch, (0.5, 1.0), (3.0, 1.0), http={"max_retries": 0})
    app = VoiceloopApp(deps=deps)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: any(r.done for r in app.query(AssistantTurn)))
        failures = [n for n in app._notifications if n.severity == "error"]
        assert [n.title for n in failures] == ["Rate limited"]
        assert "20" in failures[0].message  # says when to try again
        assert "Traceback" not in failures[0].message
        # The failed turn left the log usable: the next question got its answer.
        assert [r.text for r in app.query(AssistantTurn)] == ["Here is the answer."]
        assert [u.text for u in app.query(UserTurn)] == ["First question?", "Second question?"]


async def test_escape_interrupts_a_real_turn(
    groq_env: FakeGroq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    groq_env.transcripts.append("Tell me a long story.")
    groq_env.chat_reply = "Once upon a time there was a very long story that went on and on."
    groq_env.latency.per_token = 0.3
    app = VoiceloopApp(deps=real_deps(tmp_path, monkeypatch, (0.5, 1.0)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: any(r.text for r in app.query(AssistantTurn)))
        await pilot.press("escape")
        await wait_for(pilot, lambda: all(r.done for r in app.query(AssistantTurn)))
        reply = app.query_one(AssistantTurn)
        assert reply.has_class("interrupted")
        assert not reply.text.endswith("on and on.")  # cut short, not waited out


async def test_translation_from_real_engine_shows_original_beside_english(
    groq_env: FakeGroq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from voiceloop.tui.widgets.conversation import TranslationTurn

    deps = real_deps(tmp_path, monkeypatch, (0.5, 1.2), translate={"show_original": True})
    app = VoiceloopApp(mode="translate", deps=deps)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(app.query(TranslationTurn)))
        turn = app.query_one(TranslationTurn)
        # The loopback server derives both texts from the audio (a 300 Hz tone).
        assert str(turn.query_one(".english").render()) == "English: tone 300 hertz"
        assert str(turn.query_one(".original").render()) == "tone 300 hertz"
    (translation,) = groq_env.requests_to("translations")
    assert translation.form["model"] == ["whisper-large-v3"]
    assert len(groq_env.requests_to("transcriptions")) == 1  # the original, in parallel
