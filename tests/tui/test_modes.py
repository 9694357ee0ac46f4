"""Mode switching, dictation (edit, copy, save, append, clear) and translation."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import ContentSwitcher, Input, TextArea

from tests.tui.fakes import Harness
from voiceloop import events as ev
from voiceloop.tui.app import VoiceloopApp
from voiceloop.tui.screens.prompt import PathPrompt
from voiceloop.tui.widgets.conversation import TranslationTurn, UserTurn
from voiceloop.tui.widgets.status import ModeBadge


async def test_mode_keys_switch_engine_and_view(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        switcher = app.query_one(ContentSwitcher)
        await pilot.press("f3")
        await pilot.pause()
        assert harness.engine.mode == "dictate"
        assert app.query_one(ModeBadge).mode == "dictate"
        assert switcher.current == "dictation"
        await pilot.press("f4")
        await pilot.pause()
        assert switcher.current == "log"
        await pilot.press("f2")
        await pilot.pause()
        assert harness.engine.called("set_mode") == ["dictate", "translate", "converse"]
        assert app.query_one(ModeBadge).mode == "converse"


async def test_mode_from_command_palette(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"mode: translate")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.1)
        assert harness.engine.called("set_mode") == ["translate"]
        assert app.mode == "translate"


async def test_engine_mode_change_is_shown(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        harness.engine.emit(ev.ModeChanged(mode="dictate"))
        await pilot.pause()
        assert app.query_one(ModeBadge).mode == "dictate"


async def test_dictation_edit_copy_save_append_clear(harness: Harness, tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    app = VoiceloopApp(mode="dictate", deps=harness.deps(dictation_file=str(target)))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        engine = harness.engine
        assert app.query_one(ContentSwitcher).current == "dictation"
        engine.emit(
            ev.DictationAppended(turn_id=1, text="Hello there.", buffer="Hello there."),
            ev.DictationAppended(
                turn_id=2, text="Second line.", buffer="Hello there. Second line."
            ),
        )
        await pilot.pause()
        area = app.query_one(TextArea)
        assert area.text == "Hello there. Second line."
        assert engine.called("set_text") == [] and engine.dictation.text == ""

        # An edit by hand reaches the engine's buffer.
        area.focus()
        area.move_cursor(area.document.end)
        await pilot.press("space", *"Bye.")
        await pilot.pause()
        assert engine.dictation.text == "Hello there. Second line. Bye."

        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard == "Hello there. Second line. Bye."

        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, PathPrompt)
        assert app.screen.query_one(Input).value == str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert target.read_text() == "Hello there. Second line. Bye.\n"

        await pilot.press("ctrl+o", "enter")
        await pilot.pause()
        assert target.read_text() == "Hello there. Second line. Bye.\n" * 2

        engine.dictation.set_text("x")
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert area.text == "" and engine.dictation.text == ""


async def test_save_to_unwritable_path_explains(harness: Harness, tmp_path: Path) -> None:
    app = VoiceloopApp(mode="dictate", deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.write_text(tmp_path / "missing" / "x.txt", "text", append=False)
        await pilot.pause()
        note = list(app._notifications)[-1]
        assert note.title == "Not saved" and "Pick another path" in note.message


async def test_translation_shows_original_beside_english(harness: Harness) -> None:
    app = VoiceloopApp(mode="translate", deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        harness.engine.emit(
            ev.TurnStarted(turn_id=1, mode="translate", duration=2.0),
            ev.TranslationReady(
                turn_id=1,
                english="Where is the station?",
                original="¿Dónde está la estación?",
                language="es",
            ),
            ev.TurnFinished(turn_id=1, status="transcribed"),
        )
        await pilot.pause()
        turn = app.query_one(TranslationTurn)
        assert str(turn.query_one(".english").render()) == "Where is the station?"
        assert str(turn.query_one(".original").render()) == "¿Dónde está la estación?"
        assert "(es) · 09:30:00" in str(turn.query_one(".turn-header").render())
        assert not app.query(UserTurn)  # the placeholder gave way to the translation
