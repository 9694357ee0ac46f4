"""Converse flows: a streamed turn, an interrupted one, errors, responsiveness."""

from __future__ import annotations

import asyncio

from textual.widgets import Markdown

from tests.tui.fakes import Harness, converse_turn
from voiceloop import events as ev
from voiceloop.errors import AuthenticationError
from voiceloop.tui.app import VoiceloopApp
from voiceloop.tui.screens.error import ErrorScreen
from voiceloop.tui.widgets.conversation import AssistantTurn, UserTurn
from voiceloop.tui.widgets.latency import LatencyPanel
from voiceloop.tui.widgets.state import StateIndicator


async def test_converse_turn_streams_reply(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        engine = harness.engine
        assert engine.called("run")
        assert app.query_one(StateIndicator).state == "listening"

        events = converse_turn(1, "What is TTFA?", ["Time to ", "**first** audio", "."])
        start, rest = events[:6], events[6:]  # up to and including the second delta
        engine.emit(*start)
        await pilot.pause(0.1)
        user = app.query_one(UserTurn)
        assert user.text == "What is TTFA?"
        reply = app.query_one(AssistantTurn)
        assert reply.text == "Time to **first** audio"
        assert not reply.done
        assert app.query_one(StateIndicator).state == "thinking"
        markdown = reply.query_one(Markdown)
        assert markdown.source.startswith("Time to")

        engine.emit(ev.SpeakingChunk(turn_id=1, text="Time to first audio."))
        await pilot.pause()
        assert reply.has_class("speaking")
        engine.emit(*rest)
        await pilot.pause(0.1)
        assert not reply.has_class("speaking")
        assert reply.done
        assert markdown.source == "Time to **first** audio."
        assert app.query_one(StateIndicator).state == "listening"
        panel = app.query_one(LatencyPanel)
        assert [t.turn_id for t in panel.timings] == [1]
        assert panel.median("played") == 1490


async def test_escape_interrupts_turn_and_marks_it(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        engine = harness.engine
        engine.emit(*converse_turn(1, "Tell me a story", ["Once upon ", "a time"])[:6])

        def stop_speaking() -> None:
            engine.emit(
                ev.ReplyDone(
                    turn_id=1, text="Once upon a time", heard="Once upon", interrupted=True
                ),
                ev.TurnFinished(turn_id=1, status="interrupted"),
                ev.StateChanged(state="listening"),
            )

        engine.on_interrupt = stop_speaking
        await pilot.press("escape")
        await pilot.pause(0.1)
        assert engine.called("interrupt") == [None]
        reply = app.query_one(AssistantTurn)
        assert reply.done and reply.has_class("interrupted")
        assert "Once upon" in str(reply.query_one(".turn-note").render())
        assert app.query_one(StateIndicator).state == "listening"


async def test_failed_turn_shows_toast_and_ui_recovers(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        engine = harness.engine
        engine.emit(
            ev.TurnStarted(turn_id=1, mode="converse", duration=1.0),
            ev.StateChanged(state="error"),
            ev.TurnFailed(
                turn_id=1,
                stage="stt",
                title="Rate limited",
                message="Too many requests.",
                hint="Try again in 20 s.",
            ),
            ev.TurnFinished(turn_id=1, status="failed"),
            ev.StateChanged(state="listening"),
        )
        await pilot.pause(0.1)
        toasts = list(app._notifications)
        assert [n.title for n in toasts] == ["Rate limited"]
        assert "Try again in 20 s." in toasts[0].message
        assert toasts[0].severity == "error"
        # The pending user turn is settled, and the next turn works.
        assert not app.query_one(UserTurn).has_class("pending")
        assert app.query_one(StateIndicator).state == "listening"
        engine.emit(*converse_turn(2, "again", ["ok"]))
        await pilot.pause(0.1)
        assert [r.text for r in app.query(AssistantTurn)] == ["ok"]


async def test_engine_crash_opens_modal_not_traceback(harness: Harness) -> None:
    harness.fail_engine_with = AuthenticationError(
        "The key was refused.", hint="Check GROQ_API_KEY."
    )
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.error_title == "Key refused"
        assert app.screen.hint == "Check GROQ_API_KEY."
        harness.fail_engine_with = None
        await pilot.press("r")  # restart
        await pilot.pause(0.1)
        assert not isinstance(app.screen, ErrorScreen)
        assert len(harness.engines) == 2 and harness.engine.called("run")
    assert app.return_code in (0, None)


async def test_unexpected_crash_is_described_without_traceback(harness: Harness) -> None:
    harness.fail_engine_with = RuntimeError("boom")
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(0.1)
        assert isinstance(app.screen, ErrorScreen)
        assert "RuntimeError: boom" in app.screen.message
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ErrorScreen)


async def test_keys_handled_while_a_turn_is_running(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        engine = harness.engine
        events = converse_turn(1, "long question", [f"word{i} " for i in range(30)])
        emitted = 0

        async def stream() -> None:
            nonlocal emitted
            for event in events:
                engine.emit(event)
                emitted += 1
                await asyncio.sleep(0.03)

        handled_at: list[int] = []
        original = engine.push_to_talk

        def push_to_talk(pressed: bool) -> None:
            handled_at.append(emitted)
            original(pressed)

        engine.push_to_talk = push_to_talk  # type: ignore[method-assign]
        task = asyncio.get_running_loop().create_task(stream())
        await pilot.pause(0.2)
        await pilot.press("ctrl+t")  # talk
        await pilot.press("f6")  # latency panel
        assert app.query_one(LatencyPanel).display
        assert engine.called("push_to_talk") == [True]
        # The key took effect while the reply was still streaming.
        assert handled_at[0] < len(events) - 10
        await task
        await pilot.pause(0.1)
        assert app.query_one(AssistantTurn).text.count("word") == 30


async def test_push_to_talk_toggles_and_hands_free_switch(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+t", "ctrl+t", "f5")
        await pilot.pause()
        engine = harness.engine
        assert engine.called("push_to_talk") == [True, False]
        assert engine.called("hands_free") == [True, False]
        assert app.hands_free is False


async def test_engine_that_ends_is_reported_and_can_restart(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        harness.engine.stop()  # as when a file source runs out
        await pilot.pause(0.1)
        assert [n.title for n in app._notifications] == ["Engine stopped"]
        assert app.query_one(StateIndicator).state == "idle"
        app.action_restart_engine()
        # The new engine starts in a worker: on a loaded machine it may take a while.
        for _ in range(100):
            await pilot.pause(0.05)
            if app.query_one(StateIndicator).state == "listening":
                break
        assert len(harness.engines) == 2 and harness.engine.called("run")
        assert app.query_one(StateIndicator).state == "listening"
        titles = [n.title for n in app._notifications]
        assert titles.count("Engine stopped") == 1


async def test_latency_panel_toggles_on_narrow_and_wide_screens(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        panel = app.query_one(LatencyPanel)
        assert not panel.display
        await pilot.press("f6")
        assert panel.display
        await pilot.resize_terminal(140, 30)
        await pilot.pause()
        assert panel.display
        await pilot.press("f6")
        assert not panel.display
        await pilot.press("f6")
        assert panel.display


async def test_copy_all_in_converse_copies_the_conversation(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        harness.engine.emit(*converse_turn(1, "Hi?", ["Hello **there**."]))
        await pilot.pause(0.1)
        await pilot.press("ctrl+y")
        assert app.clipboard == "You (09:30:00): Hi?\n\nAssistant (09:30:00): Hello **there**."


async def test_fallback_is_explained(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        harness.engine.emit(
            ev.FallbackUsed(turn_id=1, stage="stt", reason="Groq timed out", provider="local")
        )
        await pilot.pause()
        note = list(app._notifications)[-1]
        assert note.title == "Speech-to-text: fallback"
        assert note.message == "Groq timed out. Using local for speech-to-text for now."


async def test_a_stage_that_keeps_a_turn_waiting_says_so(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        harness.engine.emit(ev.StageWaiting(turn_id=1, stage="responder", seconds=8.0))
        await pilot.pause()
        note = list(app._notifications)[-1]
        assert note.title == "Still waiting"
        assert note.message == "No answer from chat after 8 s; still waiting."
