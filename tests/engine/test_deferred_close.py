"""The real endpointer with a reply prepared during the pause: a complete turn closes the
moment that reply's first chunk is being synthesized, not before, so a speaker who goes
on meanwhile keeps one utterance, and the reply still plays as soon as its audio is in."""

from __future__ import annotations

import asyncio

import numpy as np

from tests.engine.conftest import build
from tests.engine.fakes import FakeTranscriber, Say, Silence
from tests.engine.test_presynth import SPLITTER, Recording, spoken
from tests.engine.test_speculate import Spy, metrics
from tests.unit.test_endpointer import LoudIsSpeech
from voiceloop.audio.base import UtteranceReady
from voiceloop.audio.smartturn import TurnModel
from voiceloop.audio.vad import FRAME_S, Endpointer
from voiceloop.events import TurnStarted


class Complete:
    """An end-of-turn model that finds every pause complete."""

    def probability(self, pcm: np.ndarray) -> float:
        return 0.9


class Incomplete:
    """An end-of-turn model that finds every pause incomplete: a flat synthetic voice."""

    def probability(self, pcm: np.ndarray) -> float:
        return 0.1


class Watched(Endpointer):
    """The endpointer, noting on the loop's clock when it closed an utterance."""

    def __init__(
        self, *, early_ms: float = 64, quick_ms: float = 0, model: TurnModel | None = None
    ) -> None:
        super().__init__(
            LoudIsSpeech(),
            ignore_start_ms=0,
            min_speech_ms=64,
            early_ms=early_ms,  # by default the pause reported after 2 quiet frames
            quick_ms=quick_ms,
            hangover_ms=608,  # 19 frames
            turn_model=model if model is not None else Complete(),
            turn_min_silence_ms=256,  # rated at 8 frames
            turn_max_silence_ms=9600,  # the cap: 300 frames, 0.6 s of fast frames
        )
        self.closed_at: list[float] = []
        self.closed: list[UtteranceReady] = []

    def _close(self, reason, end, *, keep_open=False):  # type: ignore[no-untyped-def]
        events = super()._close(reason, end, keep_open=keep_open)
        if any(isinstance(e, UtteranceReady) for e in events):
            self.closed_at.append(asyncio.get_running_loop().time())
            self.closed += [e for e in events if isinstance(e, UtteranceReady)]
        return events


def engine(script, transcriber, synthesizer, endpointer, first_token=0.0):  # type: ignore[no-untyped-def]
    responder = Spy(first_token=first_token)
    responder.reply = lambda msgs: f"{msgs[-1].content}, here it is."
    return build(
        script,
        transcriber=transcriber,
        responder=responder,
        synthesizer=synthesizer,
        endpointer=endpointer,  # type: ignore[arg-type]
        splitter_factory=SPLITTER,
    )


async def test_a_complete_turn_closes_when_its_first_chunk_is_known() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.01, language="en")
    synthesizer, endpointer = Recording(latency=0.05), Watched()
    h = engine([Say(6), Silence(400)], transcriber, synthesizer, endpointer, first_token=0.15)
    await h.run()
    [closed] = endpointer.closed_at
    (first, asked), *_ = synthesizer.asked
    assert first == "what time is it,"
    # rated complete at 8 frames (16 ms of fast frames), closed once the chunk was known,
    # and at once then, far under the cap
    [request] = h.responder.log  # type: ignore[attr-defined]
    assert closed >= request["at"] + 0.15 and abs(closed - asked) < 0.1
    assert spoken(h) == ["what time is it,", "here it is."]
    assert [x.user for x in h.engine.conversation._history] == ["what time is it"]
    line = metrics(h)
    assert line["speculative_speech"] is True and line["wasted_requests"] == 0


async def test_speaking_on_while_the_reply_is_prepared_keeps_one_utterance() -> None:
    # 60 quiet frames: past the rating and the hangover, before the first words are in
    transcriber = FakeTranscriber(["what time", "what time is it in Tokyo"], latency=0.01)
    transcriber.language = "en"
    synthesizer, endpointer = Recording(latency=0.01), Watched()
    script = [Say(6), Silence(60), Say(6), Silence(400)]
    h = engine(script, transcriber, synthesizer, endpointer, first_token=0.4)
    await h.run()
    assert len(h.events.of(TurnStarted)) == 1 and len(endpointer.closed_at) == 1
    assert next(text for text, _ in synthesizer.asked) == "what time is it in Tokyo,"
    assert spoken(h) == ["what time is it in Tokyo,", "here it is."]
    assert [x.user for x in h.engine.conversation._history] == ["what time is it in Tokyo"]
    assert metrics(h)["wasted_requests"] == 1  # the chat request of the first pause


async def test_a_question_mark_ends_a_flat_voiced_question_at_the_hangover() -> None:
    transcriber = FakeTranscriber(["Why is the sky blue?"], latency=0.01, language="en")
    synthesizer, endpointer = Recording(latency=0.01), Watched(model=Incomplete())
    h = engine([Say(6), Silence(400)], transcriber, synthesizer, endpointer)
    await h.run()
    [closed] = endpointer.closed
    assert closed.reason == "question"  # rated incomplete, but the words ask
    waited = round((closed.utterance.end - closed.utterance.speech_end) / FRAME_S)
    assert 19 <= waited < 100, waited  # at the hangover (19 frames), far under the cap (300)
    assert endpointer.turn_decisions[:2] == [0.1, 0.1]
    assert spoken(h) == ["Why is the sky blue?,", "here it is."]  # the reply plays
    assert [x.user for x in h.engine.conversation._history] == ["Why is the sky blue?"]


async def test_in_conversation_the_quick_report_starts_the_transcription() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.01, language="en")
    endpointer = Watched(early_ms=192, quick_ms=64)  # reports after 2 and 6 quiet frames
    h = engine([Say(6), Silence(400)], transcriber, Recording(), endpointer)
    await h.run()
    [call] = transcriber.calls  # asked once, at the quick report, and taken over
    utterance = call.args[0]
    assert round((utterance.end - utterance.speech_end) / FRAME_S) == 2
    assert metrics(h)["early_transcript"] is True


async def test_dictation_waits_for_the_usual_report() -> None:
    transcriber = FakeTranscriber(["what time is it"], latency=0.01, language="en")
    endpointer = Watched(early_ms=192, quick_ms=64)
    h = build(
        [Say(6), Silence(400)],
        mode="dictate",
        transcriber=transcriber,
        endpointer=endpointer,  # type: ignore[arg-type]
    )
    await h.run()
    [call] = transcriber.calls
    utterance = call.args[0]
    assert round((utterance.end - utterance.speech_end) / FRAME_S) == 6
