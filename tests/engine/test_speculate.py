"""The reply asked for during the pause: used when the turn commits, dropped at once when
the speaker goes on, its failure the turn's only if the turn commits, and never made
while the rate limit runs low."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from types import SimpleNamespace

from tests.engine.conftest import build as build_paced
from tests.engine.fakes import FakeEndpointer, FakeResponder, FakeTranscriber, Say, Silence
from voiceloop.events import ReplyDone, TurnFailed, TurnFinished, TurnMetrics
from voiceloop.frames import Message


class Pausing(FakeEndpointer):
    """Reports a pause after 2 quiet frames, closes after 12, and says when speech is
    back inside an open utterance, as the real endpointer does."""

    def __init__(self) -> None:
        super().__init__(hangover=12, early=2)
        self.closed_at: list[float] = []

    @property
    def silence_frames(self) -> int:
        return self._quiet

    @property
    def is_open(self) -> bool:
        return self._in_speech

    def feed(self, frame):  # type: ignore[no-untyped-def]
        events = super().feed(frame)
        if any(type(e).__name__ == "UtteranceReady" for e in events):
            self.closed_at.append(asyncio.get_running_loop().time())
        return events


class Spy(FakeResponder):
    """Answers "Answer to <what was asked>." and records each request's fate."""

    def __init__(self, *, rate_limits: object = None, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(lambda msgs: f"Answer to {msgs[-1].content}.", **kw)
        self.rate_limits = rate_limits
        self.log: list[dict[str, object]] = []

    async def respond(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        entry: dict[str, object] = {
            "at": asyncio.get_running_loop().time(),
            "asked": messages[-1].content,
            "done": False,
        }
        self.log.append(entry)
        async for delta in super().respond(messages):
            yield delta
        entry["done"] = True


def build(*args, **kwargs):  # type: ignore[no-untyped-def]
    """The harness with 10 ms frames: a pause is reported 20 ms into it, speech back after
    5 quiet frames comes at 50 ms and the turn closes at 120 ms, so the transcription's
    20 ms fits between them however the machine is loaded."""
    return build_paced(*args, frame_delay=0.01, **kwargs)


def metrics(h) -> dict:  # type: ignore[no-untyped-def]
    (event,) = h.events.of(TurnMetrics)
    return event.metrics


async def test_a_committed_turn_plays_the_reply_asked_for_during_the_pause() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.02, language="en")
    responder, endpointer = Spy(), Pausing()
    h = build(
        [Say(6), Silence(16)], transcriber=transcriber, responder=responder, endpointer=endpointer
    )
    await h.run()
    [request] = responder.log
    assert request["at"] < endpointer.closed_at[0]  # asked before the turn was confirmed
    assert [e.text for e in h.events.of(ReplyDone)] == ["Answer to what time is it."]
    assert [p.text for p in h.sink.played if p.text] == ["Answer to what time is it."]
    assert [x.user for x in h.engine.conversation._history] == ["what time is it"]
    line = metrics(h)
    # the chat request, and the first chunk's synthesis when it started during the pause
    speech = line.get("speculative_speech", False)
    assert line["speculative_requests"] == 1 + speech and line["wasted_requests"] == 0
    assert line["speculative_reply"] is True


async def test_speaking_on_drops_the_speculative_reply_at_once() -> None:
    transcriber = FakeTranscriber(["what time", "what time is it in Tokyo"], latency=0.02)
    transcriber.language = "en"
    responder, endpointer = Spy(first_token=0.3), Pausing()
    script = [Say(6), Silence(5), Say(6), Silence(16)]
    h = build(script, transcriber=transcriber, responder=responder, endpointer=endpointer)
    await h.run()
    first, second = responder.log
    assert first["asked"] == "what time" and first["done"] is False  # closed unfinished
    assert second["asked"] == "what time is it in Tokyo"
    assert responder.closed == 2
    spoken = [p.text for p in h.sink.played if p.text]
    assert spoken == ["Answer to what time is it in Tokyo."]  # nothing of the dropped one
    assert [e.text for e in h.events.of(ReplyDone)] == spoken
    assert [x.user for x in h.engine.conversation._history] == ["what time is it in Tokyo"]
    line = metrics(h)
    assert line["speculative_requests"] == 2 and line["wasted_requests"] == 1


async def test_a_failing_speculative_request_fails_the_turn_that_commits() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.02, language="en")
    responder = Spy(fail_at=0, error=RuntimeError("chat down"))
    h = build(
        [Say(6), Silence(16)], transcriber=transcriber, responder=responder, endpointer=Pausing()
    )
    await h.run()
    assert len(responder.log) == 1
    assert [e.status for e in h.events.of(TurnFinished)] == ["failed"]
    assert h.events.of(TurnFailed)[0].stage == "responder"
    assert h.engine.conversation._history == []


async def test_a_failing_dropped_request_is_no_turns_failure() -> None:
    transcriber = FakeTranscriber(["what time", "what time is it in Tokyo"], latency=0.02)
    transcriber.language = "en"
    responder = Spy(fail_at=0, error=RuntimeError("chat down"), fail_requests=frozenset({0}))
    script = [Say(6), Silence(5), Say(6), Silence(16)]
    h = build(script, transcriber=transcriber, responder=responder, endpointer=Pausing())
    await h.run()
    assert len(responder.log) == 2
    assert h.events.of(TurnFailed) == []
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]


async def test_a_low_rate_limit_turns_speculation_off() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.02, language="en")
    responder = Spy(rate_limits=SimpleNamespace(remaining_requests=2))
    endpointer = Pausing()
    h = build(
        [Say(6), Silence(16)], transcriber=transcriber, responder=responder, endpointer=endpointer
    )
    await h.run()
    [request] = responder.log
    assert request["at"] >= endpointer.closed_at[0]  # asked only once the turn was confirmed
    assert [e.text for e in h.events.of(ReplyDone)] == ["Answer to what time is it."]
    assert "speculative_reply" not in metrics(h)


async def test_an_unfinished_transcript_is_not_answered_early() -> None:
    transcriber = FakeTranscriber(["book a table for"], latency=0.02, language="en")
    responder, endpointer = Spy(), Pausing()
    h = build(
        [Say(6), Silence(16)], transcriber=transcriber, responder=responder, endpointer=endpointer
    )
    await h.run()
    [request] = responder.log
    assert request["at"] >= endpointer.closed_at[0]


async def test_a_dropped_reply_is_counted_by_the_turn_that_follows_without_one() -> None:
    # the words after the pause look unfinished: the turn commits with no speculative reply
    transcriber = FakeTranscriber(["what time", "what time is it and"], latency=0.02)
    transcriber.language = "en"
    responder = Spy(first_token=0.3)
    script = [Say(6), Silence(5), Say(6), Silence(16)]
    h = build(script, transcriber=transcriber, responder=responder, endpointer=Pausing())
    await h.run()
    assert [entry["asked"] for entry in responder.log] == ["what time", "what time is it and"]
    line = metrics(h)
    assert line["speculative_requests"] == 1 and line["wasted_requests"] == 1
    assert "speculative_reply" not in line
