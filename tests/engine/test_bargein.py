"""Interrupt and barge-in: the turn stops at once, only what was heard is kept."""

from __future__ import annotations

import asyncio

from tests.engine.conftest import build
from tests.engine.fakes import (
    FakeResponder,
    FakeSink,
    FakeSynthesizer,
    FakeTranscriber,
    Say,
    Silence,
    Until,
    make_settings,
)
from voiceloop.engine.context import INTERRUPTED_MARK
from voiceloop.events import ReplyDone, SpeakingChunk, SpeechStarted, TurnFinished, TurnMetrics

SENTENCES = ["The sky is blue.", "Light scatters in the air.", "Short waves scatter most."]
REPLY = " ".join(SENTENCES)


def slow_after_first(text: str) -> float:
    # The second sentence's audio arrives long after the interrupt.
    return 0.01 if text == SENTENCES[0] else 0.4


async def test_interrupt_keeps_only_what_was_heard_and_plays_nothing_later():
    synth = FakeSynthesizer(latency=slow_after_first)
    tail = " More words follow here." * 30
    responder = FakeResponder(
        lambda msgs: REPLY + tail if len(msgs) == 2 else "Sure.",
        chunk=6,
        delay=0.01,  # still streaming when cut
    )
    transcriber = FakeTranscriber(["why is the sky blue", "go on"])
    h = None

    def speaking() -> bool:
        return h is not None and h.events.count(SpeakingChunk) >= 1

    interrupted_at: list[float] = []

    def interrupt() -> bool:
        interrupted_at.append(asyncio.get_running_loop().time())
        assert h is not None and h.engine.interrupt()
        return True

    def second_synthesizing() -> bool:
        return len(synth.started) >= 2

    script = [Say(6), Silence(5), Until(speaking), Until(second_synthesizing), Until(interrupt)]
    # then wait well past the slow synthesis, and ask again
    script += [Silence(300), Say(6), Silence(5)]
    h = build(
        script,
        transcriber=transcriber,
        responder=responder,
        synthesizer=synth,
        sink=FakeSink(speed=1.0),
    )
    await h.run()

    cut = interrupted_at[0]
    first_turn_plays = [p for p in h.sink.played if p.start <= cut + 0.001]
    assert [p.text for p in first_turn_plays] == [SENTENCES[0]]
    assert not first_turn_plays[0].complete  # cut off mid-sentence
    # nothing of the first turn was queued after the interrupt
    second_turn_start = min(c.start for c in transcriber.calls[1:])
    late = [t for t, at in h.sink.queued if cut < at < second_turn_start]
    assert late == []
    assert SENTENCES[1] in synth.cancelled
    assert responder.closed == 2  # both streams closed; the first before it finished
    assert h.sink.flushes and h.sink.flushes[0] - cut < 0.01

    first_done = h.events.of(ReplyDone)[0]
    assert first_done.interrupted and first_done.heard == SENTENCES[0]
    assert first_done.text != REPLY  # the stream was cut
    assert h.events.of(TurnFinished)[0].status == "interrupted"
    assert h.events.of(TurnMetrics)[0].metrics["interrupted"] is True
    first_id = h.events.of(TurnFinished)[0].turn_id
    assert h.recorder.turns[first_id]["status"] == "interrupted"
    assert h.recorder.turns[first_id]["reply_heard"] == SENTENCES[0]

    # the loop went on; the next question carries the interrupted answer as heard
    assert h.events.of(TurnFinished)[1].status == "answered"
    second_request = responder.requests[1]
    assert second_request[2].content == f"{SENTENCES[0]} {INTERRUPTED_MARK}"
    assert h.engine.conversation.history[0].interrupted


async def test_half_duplex_ignores_speech_while_the_assistant_speaks():
    h = None

    def speaking() -> bool:
        return h is not None and h.events.count(SpeakingChunk) >= 1

    script = [Say(6), Silence(5), Until(speaking), Say(8), Silence(5)]
    h = build(script, sink=FakeSink(speed=1.0))
    await h.run()
    assert h.events.count(SpeechStarted) == 1
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]
    assert h.endpointer.suppressed_log[:2] == [True, False]
    assert h.endpointer.suppressed is False


async def test_barge_in_by_voice_cancels_the_speaking_turn():
    synth = FakeSynthesizer(latency=slow_after_first)
    transcriber = FakeTranscriber(["tell me a story", "stop, something else"])
    h = None

    def speaking() -> bool:
        return h is not None and h.events.count(SpeakingChunk) >= 1

    script = [Say(6), Silence(5), Until(speaking), Say(6), Silence(5)]
    h = build(
        script,
        settings=make_settings(audio={"barge_in": True}),
        transcriber=transcriber,
        synthesizer=synth,
        responder=FakeResponder(REPLY),
        sink=FakeSink(speed=1.0),
    )
    await h.run()
    statuses = [e.status for e in h.events.of(TurnFinished)]
    assert statuses == ["interrupted", "answered"]
    assert True not in h.endpointer.suppressed_log  # barge-in: never suppressed
    assert h.events.of(ReplyDone)[0].heard == SENTENCES[0]
    # the interrupt happened at speech start, before the second utterance closed
    assert h.sink.flushes[0] < transcriber.calls[1].start


async def test_interrupt_during_transcription_cancels_quietly():
    transcriber = FakeTranscriber(["a", "b"], latency=0.3)
    h = None

    def transcribing() -> bool:
        return h is not None and len(transcriber.calls) == 1

    def interrupt() -> bool:
        assert h is not None
        return h.engine.interrupt()

    h = build([Say(6), Silence(5), Until(transcribing), Until(interrupt)], transcriber=transcriber)
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["interrupted"]
    assert h.events.count(ReplyDone) == 0
    assert h.responder.requests == []
    assert h.engine.interrupt() is False  # nothing left to cancel


class SlowCancelSynthesizer(FakeSynthesizer):
    """A cancelled synthesis takes a while to unwind (like a connection being released)."""

    def __init__(self) -> None:
        super().__init__(latency=slow_after_first)
        self.unwound_at: list[float] = []

    async def synthesize(self, text: str):  # type: ignore[override]
        try:
            async for chunk in super().synthesize(text):
                yield chunk
        except asyncio.CancelledError:
            await asyncio.sleep(0.15)
            self.unwound_at.append(asyncio.get_running_loop().time())
            raise


class TimedEvents(list):
    """Events as usual, with the loop time each one arrived at."""

    def __init__(self) -> None:
        super().__init__()
        self.times: list[float] = []

    def append(self, event) -> None:  # type: ignore[override]
        super().append(event)
        self.times.append(asyncio.get_running_loop().time())


async def test_a_second_interrupt_does_not_cut_the_cleanup_short():
    synth = SlowCancelSynthesizer()
    h = None
    interrupts: list[bool] = []

    def speaking() -> bool:
        return h is not None and h.events.count(SpeakingChunk) >= 1

    def interrupt() -> bool:
        assert h is not None
        interrupts.append(h.engine.interrupt())
        return True

    async def interrupt_again() -> None:
        await asyncio.sleep(0.05)  # while the cancelled synthesis is still unwinding
        assert h is not None
        interrupts.append(h.engine.interrupt())

    def second_interrupt() -> bool:
        asyncio.get_running_loop().create_task(interrupt_again())
        return True

    def second_synthesizing() -> bool:
        return len(synth.started) >= 2

    script = [Say(6), Silence(5), Until(speaking), Until(second_synthesizing)]
    script += [Until(interrupt), Until(second_interrupt), Silence(150)]
    h = build(
        script,
        transcriber=FakeTranscriber(["why is the sky blue"]),
        responder=FakeResponder(REPLY),
        synthesizer=synth,
        sink=FakeSink(speed=1.0),
    )
    timed = TimedEvents()
    h.events.events = timed
    await h.run()
    assert interrupts == [True, True]  # the turn was still running at the second one
    events = zip(timed, timed.times, strict=True)
    finished = [(e, at) for e, at in events if isinstance(e, TurnFinished)]
    assert [e.status for e, _ in finished] == ["interrupted"]
    # the turn ended only once its cancelled synthesis had unwound
    assert SENTENCES[1] in synth.cancelled and synth.unwound_at
    assert max(synth.unwound_at) <= finished[0][1]
