"""Speech over a reply pauses it; words cut it, a cough or "mm-hmm" resumes it."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.engine.conftest import build
from tests.engine.fakes import (
    FakeResponder,
    FakeSink,
    FakeSynthesizer,
    FakeTranscriber,
    MemorySource,
    Say,
    Silence,
    Until,
    make_settings,
)
from tests.engine.test_bargein import REPLY, SENTENCES
from voiceloop.engine.overheard import is_backchannel
from voiceloop.events import ReplyDone, SpeakingChunk, TurnFinished


class PausableSink(FakeSink):
    """A fake speaker that can hold playback: what is queued plays later by the pause."""

    def __init__(self, *, speed: float = 1.0) -> None:
        super().__init__(speed=speed)
        self.pauses: list[float] = []
        self.resumes: list[float] = []
        self._paused_at: float | None = None

    def pause(self) -> None:
        if self._paused_at is not None:
            return
        loop = asyncio.get_running_loop()
        now = self._paused_at = loop.time()
        self.pauses.append(now)
        held = []
        for handle, *timers in self._pending:
            kept: list[Any] = []
            for timer in timers:
                if timer.when() > now and not timer.cancelled():
                    kept.append((timer.when(), timer._callback))  # type: ignore[attr-defined]
                    timer.cancel()
                else:
                    kept.append(timer)
            held.append((handle, *kept))
        self._pending = held  # type: ignore[assignment]

    def resume(self) -> None:
        if self._paused_at is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        shift = now - self._paused_at
        paused_at, self._paused_at = self._paused_at, None
        self.resumes.append(now)
        moved = []
        for handle, *timers in self._pending:
            moved.append(
                (
                    handle,
                    *(
                        loop.call_at(t[0] + shift, t[1]) if isinstance(t, tuple) else t
                        for t in timers
                    ),
                )
            )
        self._pending = moved  # type: ignore[assignment]
        for record in self.played:
            if record.end > paused_at:
                record.end += shift
        self._tail += shift

    def flush(self) -> None:
        self._pending = [
            (handle, *(_Dead() if isinstance(t, tuple) else t for t in timers))
            for handle, *timers in self._pending
        ]  # type: ignore[assignment]
        self._paused_at = None
        super().flush()


class _Dead:
    """Stands for a timer held by a pause (nothing to cancel)."""

    def cancel(self) -> None:
        pass


def slow_after_first(text: str) -> float:
    return 0.01 if text == SENTENCES[0] else 0.05


def harness(texts: list[str], over_reply: list[Any], **audio: Any) -> Any:
    h: Any = None

    def speaking() -> bool:
        return h is not None and h.events.count(SpeakingChunk) >= 1

    def replied() -> bool:
        return h is not None and h.events.count(TurnFinished) >= len(texts) - 1

    script = [Say(6), Silence(5), Until(speaking), *over_reply, Until(replied), Silence(5)]
    h = build(
        script,
        settings=make_settings(audio={"barge_in": True, **audio}),
        transcriber=FakeTranscriber(texts),
        synthesizer=FakeSynthesizer(latency=slow_after_first),
        responder=FakeResponder(lambda msgs: REPLY if len(msgs) == 2 else "Sure."),
        sink=PausableSink(speed=1.0),
    )
    return h


async def test_a_backchannel_pauses_the_reply_which_then_plays_to_its_end():
    h = harness(["tell me about the sky", "Mm-hmm."], [Say(6), Silence(5)])
    await h.run()
    assert len(h.sink.pauses) == 1 and len(h.sink.resumes) == 1
    assert h.sink.flushes == []
    assert h.sink.pauses[0] < h.sink.resumes[0] < h.sink.played[-1].end  # it went on after
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]
    done = h.events.of(ReplyDone)[0]
    assert not done.interrupted and done.heard == REPLY
    assert len(h.responder.requests) == 1  # the backchannel was not answered


async def test_words_over_the_reply_cut_it_and_are_answered():
    h = harness(["tell me about the sky", "stop, what about the sea"], [Say(6), Silence(5)])
    await h.run()
    transcriber = h.transcriber
    assert h.sink.pauses[0] < transcriber.calls[1].start  # silent before it was understood
    assert h.sink.flushes and h.sink.flushes[0] >= transcriber.calls[1].end
    assert [e.status for e in h.events.of(TurnFinished)] == ["interrupted", "answered"]
    assert h.events.of(ReplyDone)[0].interrupted
    assert len(transcriber.calls) == 2  # the check's transcript is the turn's own
    assert h.responder.requests[1][-1].content == "stop, what about the sea"


async def test_speech_longer_than_the_window_cuts_the_reply_before_it_ends():
    h = harness(
        ["tell me about the sky", "no no no"], [Say(250), Silence(5)], false_interruption_s=0.2
    )
    await h.run()
    transcriber = h.transcriber
    assert h.sink.flushes and h.sink.flushes[0] < transcriber.calls[1].start
    assert h.sink.flushes[0] - h.sink.pauses[0] >= 0.19
    assert [e.status for e in h.events.of(TurnFinished)] == ["interrupted", "answered"]


async def test_behaviour_cut_ends_the_reply_on_a_cough_without_answering_it():
    h = harness(["tell me about the sky", ""], [Say(6), Silence(5)], false_interruption="cut")
    await h.run()
    assert len(h.sink.pauses) == 1 and h.sink.flushes
    assert [e.status for e in h.events.of(TurnFinished)] == ["interrupted"]
    assert len(h.responder.requests) == 1


async def test_window_zero_cuts_at_speech_start():
    h = harness(["tell me about the sky", "mm-hmm"], [Say(6), Silence(5)], false_interruption_s=0.0)
    await h.run()
    assert h.sink.pauses == [] and h.sink.flushes
    assert h.events.of(TurnFinished)[0].status == "interrupted"


def test_backchannels() -> None:
    for text in [
        "",
        " ",
        "Mm-hmm.",
        "yeah",
        "Uh-huh, okay.",
        "Hmm?",
        "Yeah, right.",
        "Thank you.",
        "And Mm-hmm.",
        "So, yeah.",
    ]:
        assert is_backchannel(text), text
    for text in ["Stop.", "yeah but why", "No.", "wait", "What about the sea?", "and then what"]:
        assert not is_backchannel(text), text


def test_barge_in_follows_the_setting_whether_or_not_the_source_cancels_echo(monkeypatch):
    monkeypatch.setattr(MemorySource, "cancels_echo", True, raising=False)
    off = make_settings(audio={"barge_in": False})
    assert build([], settings=off).engine.barge_in is False
    on = make_settings(audio={"barge_in": True})
    assert build([], settings=on).engine.barge_in is True
