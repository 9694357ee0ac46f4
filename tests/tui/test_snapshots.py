"""Screenshots of the main screen in each mode, the latency panel, errors and first run.

Deterministic: a fixed clock, a scripted engine and no level ticks. Regenerate with
``uv run pytest tests/tui/test_snapshots.py --snapshot-update`` after a deliberate change.
"""

from __future__ import annotations

from tests.tui.fakes import Harness, converse_turn
from voiceloop import events as ev
from voiceloop.tui.app import VoiceloopApp

SIZE = (80, 24)


def make_app(harness: Harness, mode: ev.Mode = "converse", **deps: object) -> VoiceloopApp:
    return VoiceloopApp(mode=mode, deps=harness.deps(**deps))


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    from textual.widgets import Input, TextArea

    await pilot.pause()
    for widget in pilot.app.screen.query("Input, TextArea"):
        if isinstance(widget, Input | TextArea):
            widget.cursor_blink = False  # a blinking cursor makes the picture random
    await pilot.pause(0.1)


def test_converse(snap_compare, harness: Harness) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        harness.engine.emit(ev.Level(level_db=-24.0))
        harness.engine.emit(
            *converse_turn(
                1,
                "What makes a voice assistant feel fast?",
                ["Mostly **latency**:\n\n", "- stream the reply\n", "- speak early\n"],
            )
        )
        await settle(pilot)

    assert snap_compare(make_app(harness), run_before=run_before, terminal_size=SIZE)


def test_converse_light_theme(snap_compare, harness: Harness) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.theme = "textual-light"
        await pilot.pause()
        harness.engine.emit(*converse_turn(1, "Hello?", ["Hi! How can I help?"]))
        harness.engine.emit(ev.StateChanged(state="speaking"))
        await settle(pilot)

    assert snap_compare(make_app(harness), run_before=run_before, terminal_size=SIZE)


def test_dictate(snap_compare, harness: Harness) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        harness.engine.emit(
            ev.StateChanged(state="hearing"),
            ev.DictationAppended(
                turn_id=1,
                text="Dear team, the release is ready.",
                buffer="Dear team, the release is ready.",
            ),
        )
        await settle(pilot)

    assert snap_compare(make_app(harness, "dictate"), run_before=run_before, terminal_size=SIZE)


def test_translate(snap_compare, harness: Harness) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        harness.engine.emit(
            ev.TurnStarted(turn_id=1, mode="translate", duration=2.0),
            ev.TranslationReady(
                turn_id=1,
                english="Where is the train station?",
                original="¿Dónde está la estación de tren?",
                language="es",
            ),
            ev.TurnFinished(turn_id=1, status="transcribed"),
        )
        await settle(pilot)

    assert snap_compare(make_app(harness, "translate"), run_before=run_before, terminal_size=SIZE)


def test_latency_panel(snap_compare, harness: Harness) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        harness.engine.emit(*converse_turn(1, "One?", ["First answer."]))
        harness.engine.emit(*converse_turn(2, "Two?", ["Second answer."]))
        await pilot.press("f6")
        await settle(pilot)

    assert snap_compare(make_app(harness), run_before=run_before, terminal_size=SIZE)


def test_error_toast_state(snap_compare, harness: Harness) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        harness.engine.emit(
            ev.TurnStarted(turn_id=1, mode="converse", duration=1.0),
            ev.StateChanged(state="error"),
            ev.TurnFailed(
                turn_id=1,
                stage="llm",
                title="Rate limited",
                message="Too many requests.",
                hint="Try again in 20 s.",
            ),
            ev.TurnFinished(turn_id=1, status="failed"),
        )
        await settle(pilot)

    assert snap_compare(make_app(harness), run_before=run_before, terminal_size=SIZE)


def test_fatal_error_modal(snap_compare, harness: Harness) -> None:
    from voiceloop.errors import PortAudioMissingError

    harness.fail_engine_with = PortAudioMissingError(
        "The PortAudio library is not installed.",
        hint="Install libportaudio2 (apt) or portaudio (brew), then restart.",
    )

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    assert snap_compare(make_app(harness), run_before=run_before, terminal_size=SIZE)


def test_first_run(snap_compare, harness: Harness) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await settle(pilot)

    app = make_app(harness, has_key=False, local_dictation=True)
    assert snap_compare(app, run_before=run_before, terminal_size=SIZE)


def test_wide_terminal_shows_latency_beside_log(snap_compare, harness: Harness) -> None:
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        await pilot.pause()
        harness.engine.emit(*converse_turn(1, "How long did that take?", ["About a second."]))
        await settle(pilot)

    assert snap_compare(make_app(harness), run_before=run_before, terminal_size=(130, 30))
