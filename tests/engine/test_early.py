"""Transcription started at a pause, taken over by the turn when no speech followed."""

from __future__ import annotations

from tests.engine.conftest import build
from tests.engine.fakes import FakeEndpointer, FakeTranscriber, Say, Silence
from voiceloop.errors import ServerError
from voiceloop.events import (
    FallbackUsed,
    TranscriptReady,
    TranslationReady,
    TurnFailed,
    TurnFinished,
    TurnMetrics,
)
from voiceloop.stages import current_report


def pausing() -> FakeEndpointer:
    return FakeEndpointer(hangover=6, early=2)


async def test_a_pause_starts_the_transcription_and_the_turn_takes_it_over():
    transcriber = FakeTranscriber(["hello there"], latency=0.05)
    h = build([Say(6), Silence(8)], mode="dictate", transcriber=transcriber, endpointer=pausing())
    await h.run()
    [call] = transcriber.calls  # one request for the turn
    [(_, stored, stored_at)] = h.recorder.begun
    assert call.start < stored_at  # asked before the utterance had closed
    assert call.args[0].flac == stored  # the bytes uploaded are the bytes stored
    assert [e.text for e in h.events.of(TranscriptReady)] == ["hello there"]
    assert h.events.of(TurnMetrics)[0].metrics["early_transcript"] is True
    assert h.events.of(TurnFinished)[0].status == "transcribed"


async def test_speaking_on_after_a_pause_drops_that_request():
    transcriber = FakeTranscriber(["hello", "hello there friend"], latency=0.05)
    script = [Say(6), Silence(3), Say(4), Silence(8)]
    h = build(script, mode="dictate", transcriber=transcriber, endpointer=pausing())
    await h.run()
    first, second = transcriber.calls
    assert first.end is None  # cancelled when the speaker went on
    assert len(second.args[0].pcm) > len(first.args[0].pcm)
    assert [e.text for e in h.events.of(TranscriptReady)] == ["hello there friend"]
    assert h.recorder.begun[0][1] == second.args[0].flac


async def test_a_failed_early_request_fails_its_turn_and_the_loop_goes_on():
    transcriber = FakeTranscriber(["a", "b"], fail={0: ServerError("503", hint="later")})
    script = [Say(6), Silence(8), Say(6), Silence(8)]
    h = build(script, mode="dictate", transcriber=transcriber, endpointer=pausing())
    await h.run()
    assert len(transcriber.calls) == 2  # no second try of the same request (it retried)
    assert [e.status for e in h.events.of(TurnFinished)] == ["failed", "transcribed"]
    assert h.events.of(TurnFailed)[0].stage == "transcriber"
    assert [e.text for e in h.events.of(TranscriptReady)] == ["b"]


async def test_translate_asks_the_translator_early():
    translator = FakeTranscriber(["bonjour"], latency=0.02)
    transcriber = FakeTranscriber(["unused"])
    h = build(
        [Say(6), Silence(8)],
        mode="translate",
        transcriber=transcriber,
        translator=translator,
        endpointer=pausing(),
    )
    await h.run()
    [call] = translator.calls
    assert call.args[1] == "translate"
    assert transcriber.calls == []
    assert [e.english for e in h.events.of(TranslationReady)] == ["EN: bonjour"]
    assert h.events.of(TurnMetrics)[0].metrics["early_transcript"] is True


class RetryingTranscriber(FakeTranscriber):
    """Reports a retry and a fallback, as the real providers do, before answering."""

    async def transcribe(self, utterance, *, task="transcribe"):
        report = current_report()
        assert report is not None
        report.retries += 1
        report.fallback_used("transcriber", "server error", "local")
        return await super().transcribe(utterance, task=task)


async def test_retries_and_fallbacks_of_the_early_request_belong_to_its_turn():
    transcriber = RetryingTranscriber(["hi"], latency=0.02)
    h = build([Say(6), Silence(8)], mode="dictate", transcriber=transcriber, endpointer=pausing())
    await h.run()
    [turn] = h.events.of(TurnFinished)
    [fallback] = h.events.of(FallbackUsed)
    assert (fallback.turn_id, fallback.provider) == (turn.turn_id, "local")
    assert h.events.of(TurnMetrics)[0].metrics["retries"] == 1


class HoldingEndpointer(FakeEndpointer):
    """Records the pauses the engine asked to keep open."""

    def __init__(self) -> None:
        super().__init__(hangover=12, early=2)
        self.holds: list[float | None] = []

    def hold(self, speech_end: float | None = None) -> None:
        self.holds.append(speech_end)


async def test_an_unfinished_early_transcript_keeps_the_pause_open():
    transcriber = FakeTranscriber(["book a table for"], latency=0.02, language="en")
    endpointer = HoldingEndpointer()
    h = build([Say(6), Silence(14)], mode="dictate", transcriber=transcriber, endpointer=endpointer)
    await h.run()
    [call] = transcriber.calls
    assert endpointer.holds == [call.args[0].speech_end]


async def test_a_finished_early_transcript_leaves_the_pause_alone():
    transcriber = FakeTranscriber(["book a table for two."], latency=0.02, language="en")
    endpointer = HoldingEndpointer()
    h = build([Say(6), Silence(14)], mode="dictate", transcriber=transcriber, endpointer=endpointer)
    await h.run()
    assert len(transcriber.calls) == 1
    assert endpointer.holds == []


async def test_no_early_request_while_the_rate_limit_runs_low():
    from types import SimpleNamespace

    transcriber = FakeTranscriber(["hello there"], latency=0.05)
    transcriber.rate_limits = SimpleNamespace(remaining_requests=2)  # type: ignore[attr-defined]
    h = build([Say(6), Silence(8)], mode="dictate", transcriber=transcriber, endpointer=pausing())
    await h.run()
    [call] = transcriber.calls
    [(_, _, stored_at)] = h.recorder.begun
    assert call.start >= stored_at  # asked by the turn, once the utterance had closed
    assert "early_transcript" not in h.events.of(TurnMetrics)[0].metrics
    assert [e.text for e in h.events.of(TranscriptReady)] == ["hello there"]
