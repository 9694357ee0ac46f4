"""The first chunk of a reply asked for during the pause is synthesized during the pause
too: played once when the turn commits, its request closed unheard when the speaker goes
on, and its failure the turn's only if the turn commits."""

from __future__ import annotations

import asyncio

from tests.engine.conftest import build
from tests.engine.fakes import FakeSynthesizer, FakeTranscriber, Say, Silence, make_settings
from tests.engine.test_speculate import Pausing, Spy, metrics
from voiceloop.engine.services import EngineOptions
from voiceloop.engine.startup import default_splitter_factory
from voiceloop.events import ReplyDone, TurnFailed, TurnFinished

# The real splitter with the default settings: "what time is it," is a first chunk.
SPLITTER = default_splitter_factory(EngineOptions.from_settings(make_settings()))


class LongPause(Pausing):
    """A pause reported after 2 quiet frames, the utterance closed after 150 (0.3 s of
    fast frames): the reply and the first synthesis have time to start before the turn
    is confirmed, even on a loaded machine."""

    def __init__(self) -> None:
        super().__init__()
        self.hangover = 150


def answer(question: str) -> Spy:
    spy = Spy()
    spy.reply = lambda msgs: f"{msgs[-1].content}, here it is."
    return spy


class Recording(FakeSynthesizer):
    """Records when each synthesis was asked for."""

    def __init__(self, **kw) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kw)
        self.asked: list[tuple[str, float]] = []

    def synthesize(self, text: str):  # type: ignore[no-untyped-def]
        self.asked.append((text, asyncio.get_running_loop().time()))
        return super().synthesize(text)


def spoken(h) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.text for p in h.sink.played if p.text]


def paused_turns(script, transcriber, synthesizer):  # type: ignore[no-untyped-def]
    """The engine on ``script``, with a hangover long enough that pauses are rated (and
    spoken over) before a turn ends, and a responder that adds ", here it is."."""
    return build(
        script,
        transcriber=transcriber,
        responder=answer(""),
        synthesizer=synthesizer,
        endpointer=LongPause(),
        splitter_factory=SPLITTER,
    )


async def test_a_committed_turn_plays_the_first_chunk_synthesized_during_the_pause() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.02, language="en")
    synthesizer, endpointer = Recording(latency=0.01), LongPause()
    h = build(
        [Say(6), Silence(170)],
        transcriber=transcriber,
        responder=answer("what time is it"),
        synthesizer=synthesizer,
        endpointer=endpointer,
        splitter_factory=SPLITTER,
    )
    await h.run()
    assert endpointer.hangover == 150 and len(endpointer.closed_at) == 1
    # the first chunk was asked for once, before the turn was confirmed; the rest after
    (first, first_at), (second, second_at) = synthesizer.asked
    assert (first, second) == ("what time is it,", "here it is.")
    assert first_at < endpointer.closed_at[0] <= second_at
    assert spoken(h) == ["what time is it,", "here it is."]  # each played once
    assert [e.text for e in h.events.of(ReplyDone)] == ["what time is it, here it is."]
    assert [x.user for x in h.engine.conversation._history] == ["what time is it"]
    line = metrics(h)
    assert line["speculative_requests"] == 2 and line["wasted_requests"] == 0
    assert line["speculative_speech"] is True


async def test_speaking_on_closes_the_first_synthesis_unheard() -> None:
    transcriber = FakeTranscriber(["what time", "what time is it in Tokyo"], latency=0.02)
    transcriber.language = "en"
    synthesizer = Recording(latency=lambda text: 0.5 if text == "what time," else 0.01)
    script = [Say(6), Silence(80), Say(6), Silence(170)]
    h = paused_turns(script, transcriber, synthesizer)
    await h.run()
    asked = [text for text, _ in synthesizer.asked]
    assert asked == ["what time,", "what time is it in Tokyo,", "here it is."]
    assert synthesizer.cancelled == ["what time,"]  # the request closed unfinished
    assert spoken(h) == ["what time is it in Tokyo,", "here it is."]
    assert [x.user for x in h.engine.conversation._history] == ["what time is it in Tokyo"]
    line = metrics(h)
    assert line["speculative_requests"] == 4 and line["wasted_requests"] == 2


async def test_a_failing_first_synthesis_fails_the_turn_that_commits() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.02, language="en")
    synthesizer = Recording(fail_on="what time is it,", error=RuntimeError("tts down"))
    h = paused_turns([Say(6), Silence(170)], transcriber, synthesizer)
    await h.run()
    assert [text for text, _ in synthesizer.asked][:1] == ["what time is it,"]
    assert len(synthesizer.asked) <= 2  # never asked again
    assert [e.status for e in h.events.of(TurnFinished)] == ["failed"]
    assert h.events.of(TurnFailed)[0].stage == "synthesizer"
    assert spoken(h) == []


async def test_a_failing_dropped_first_synthesis_is_no_turns_failure() -> None:
    transcriber = FakeTranscriber(["what time", "what time is it in Tokyo"], latency=0.02)
    transcriber.language = "en"
    synthesizer = Recording(fail_on="what time,", error=RuntimeError("tts down"))
    script = [Say(6), Silence(80), Say(6), Silence(170)]
    h = paused_turns(script, transcriber, synthesizer)
    await h.run()
    assert next(text for text, _ in synthesizer.asked) == "what time,"
    assert h.events.of(TurnFailed) == []
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]
    assert spoken(h) == ["what time is it in Tokyo,", "here it is."]


async def test_a_turn_confirmed_before_the_first_chunk_synthesizes_it_itself() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.02, language="en")
    responder = answer("")
    responder.first_token = 1.0  # the reply's first words come after the turn is confirmed
    synthesizer = Recording()
    h = build(
        [Say(6), Silence(170)],
        transcriber=transcriber,
        responder=responder,
        synthesizer=synthesizer,
        endpointer=LongPause(),
        splitter_factory=SPLITTER,
    )
    await h.run()
    assert [text for text, _ in synthesizer.asked] == ["what time is it,", "here it is."]
    assert spoken(h) == ["what time is it,", "here it is."]
    line = metrics(h)
    assert line["speculative_requests"] == 1 and line["wasted_requests"] == 0
    assert "speculative_speech" not in line
