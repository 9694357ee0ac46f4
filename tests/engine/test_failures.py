"""A failing stage fails its turn, keeps what it can, and the loop goes on listening."""

from __future__ import annotations

import logging

import pytest

from tests.engine.conftest import build
from tests.engine.fakes import (
    FakeRecorder,
    FakeResponder,
    FakeSink,
    FakeSynthesizer,
    FakeTranscriber,
    Say,
    Silence,
)
from voiceloop.errors import RateLimitError, ServerError
from voiceloop.events import Notice, TranscriptReady, TurnFailed, TurnFinished, TurnMetrics

TWO_UTTERANCES = [Say(6), Silence(5), Say(6), Silence(5)]


def server_error() -> ServerError:
    return ServerError("the server answered 503", hint="try again in a moment", status=503)


@pytest.mark.parametrize(
    ("stage", "parts"),
    [
        ("transcriber", {"transcriber": FakeTranscriber(fail={0: server_error()})}),
        ("responder", {"responder": FakeResponder(fail_at=0, error=server_error())}),
        ("responder", {"responder": FakeResponder(fail_at=8, error=server_error())}),
        ("synthesizer", {"synthesizer": FakeSynthesizer(fail_on="How", error=server_error())}),
    ],
    ids=["transcriber", "responder-first-token", "responder-mid-stream", "synthesizer"],
)
async def test_a_failing_stage_fails_only_its_turn(stage, parts):
    h = build(TWO_UTTERANCES, **parts)
    await h.run()

    failed = h.events.of(TurnFailed)
    assert len(failed) == 1
    event = failed[0]
    assert event.stage == stage
    assert event.title == "Server error"
    assert event.message == "the server answered 503"
    assert event.hint == "try again in a moment"
    assert [e.status for e in h.events.of(TurnFinished)] == ["failed", "answered"]
    row = h.recorder.turns[event.turn_id]
    assert row["status"] == "failed"
    assert "the server answered 503" in row["error"]
    assert "transcript_ms" in row["timings"] or stage == "transcriber"
    if stage != "transcriber":
        # the transcript survived the failure
        assert row["transcript"] == "hello there"
        assert h.events.of(TranscriptReady)[0].turn_id == event.turn_id
    # the next turn is complete
    second = h.events.of(TurnFinished)[1].turn_id
    assert h.recorder.turns[second]["status"] == "answered"
    assert h.engine.state == "idle"


async def test_synthesis_failure_silences_the_turn():
    synth = FakeSynthesizer(fail_on="How", error=server_error())
    h = build([Say(6), Silence(5)], synthesizer=synth)
    await h.run()
    # "Hi." may have played; nothing after the failing sentence did
    assert all("How" not in p.text and "Fine" not in p.text for p in h.sink.played)
    assert h.responder.closed == 1


async def test_unexpected_exception_is_a_generic_line_and_a_logged_traceback(caplog):
    transcriber = FakeTranscriber(fail={0: ValueError("internal detail 42")})
    h = build(TWO_UTTERANCES, transcriber=transcriber)
    with caplog.at_level(logging.ERROR, logger="voiceloop"):
        await h.run()
    event = h.events.of(TurnFailed)[0]
    assert event.title == "Unexpected error"
    assert event.stage == "transcriber"
    assert "internal detail 42" not in event.message + (event.hint or "")
    assert "ValueError" in event.message
    assert any(r.exc_info and "internal detail 42" in str(r.exc_info[1]) for r in caplog.records)
    assert [e.status for e in h.events.of(TurnFinished)] == ["failed", "answered"]


async def test_rate_limit_then_recovery_on_the_next_turn():
    limited = RateLimitError(
        "rate limit reached for whisper-large-v3-turbo",
        hint="wait 2 s or lower the request rate",
        retry_after=2.0,
        status=429,
    )
    transcriber = FakeTranscriber(["first", "second"], fail={0: limited})
    h = build(TWO_UTTERANCES, transcriber=transcriber)
    await h.run()
    failed = h.events.of(TurnFailed)[0]
    assert failed.title == "Rate limited" and failed.stage == "transcriber"
    assert [e.status for e in h.events.of(TurnFinished)] == ["failed", "answered"]
    assert h.responder.requests[0][-1].content == "second"
    metrics = [e.metrics for e in h.events.of(TurnMetrics)]
    assert metrics[0]["status"] == "failed" and metrics[1]["status"] == "answered"


async def test_a_broken_store_does_not_fail_turns():
    h = build(TWO_UTTERANCES, recorder=FakeRecorder(fail=True))
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered", "answered"]
    notices = h.events.of(Notice)
    assert len(notices) == 1 and "disk full" in notices[0].message
    ids = [e.turn_id for e in h.events.of(TurnFinished)]
    assert len(set(ids)) == 2


async def test_a_failing_event_consumer_does_not_stop_the_engine(caplog):
    h = build([Say(6), Silence(5)])
    original = h.engine._on_event

    def flaky(event):
        original(event)
        if isinstance(event, TranscriptReady):
            raise RuntimeError("consumer bug")

    h.engine._on_event = flaky
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]


async def test_an_encoding_failure_still_records_the_turn_and_goes_on():
    calls = []

    def flaky_encoder(pcm, rate):
        if pcm.any():  # an utterance (the engine also warms up on silence)
            calls.append(rate)
        if len(calls) == 1 and pcm.any():
            raise ValueError("libsndfile exploded")
        return b"fLaC"

    h = build(TWO_UTTERANCES, encode_flac=flaky_encoder)
    await h.run()
    failed = h.events.of(TurnFailed)[0]
    assert failed.stage == "encoder" and failed.title == "Audio error"
    assert h.recorder.begun[0][1] is None  # the row exists, without audio
    assert h.recorder.turns[failed.turn_id]["status"] == "failed"
    assert [e.status for e in h.events.of(TurnFinished)] == ["failed", "answered"]


class BrokenSpeaker(FakeSink):
    async def start(self) -> None:
        from voiceloop.errors import DeviceError

        raise DeviceError("No output device found.", hint="plug in a speaker")


async def test_dictation_goes_on_without_a_speaker():
    h = build([Say(6), Silence(5)], mode="dictate", sink=BrokenSpeaker())
    await h.run()
    assert [n.title for n in h.events.of(Notice)] == ["No speaker"]
    assert h.engine.dictation.text == "hello there"


async def test_converse_without_a_speaker_is_an_error_at_start():
    from voiceloop.errors import DeviceError

    h = build([Say(6), Silence(5)], sink=BrokenSpeaker())
    with pytest.raises(DeviceError):
        await h.run()
    assert h.source.closed
