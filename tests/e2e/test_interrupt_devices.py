"""Cutting the assistant off mid-reply on the virtual speaker: by the interrupt key
(``engine.interrupt()``) and by the user's voice with ``[audio] barge_in``."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.e2e.bench import (
    RATE,
    listening,
    loud_windows,
    open_bench,
    settings,
    sound_span,
    speech,
    wait_for,
)
from tests.fakegroq import Latency
from voiceloop.events import Event, ReplyDone, SpeakingChunk, TurnFinished, TurnMetrics
from voiceloop.session.engine import engine_from_settings

pytestmark = [pytest.mark.audio, pytest.mark.slow]

SENTENCES = [
    "Rivers carry water from the high hills all the way down to the sea.",
    "They shape deep valleys over long ages.",
    "Many old cities grew up beside them.",
    "Floods renew the soil of their wide plains.",
    "Deltas form where they finally meet the ocean.",
]
REPLY = " ".join(SENTENCES)
PACING = Latency(first_token=0.1, per_token=0.08, speech_base=0.15, speech_per_char=0.01)


def speaking(event: Event) -> bool:
    return isinstance(event, SpeakingChunk)


def loud_times(audio: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Harness-clock times of the loud 10 ms windows."""
    loud = np.flatnonzero(loud_windows(audio))
    return times[loud * 480]


@pytest.mark.timeout(40)
async def test_interrupt_stops_the_speaker_at_once_and_nothing_plays_later(
    pulse_bench, groq_env, tmp_path
):
    question = speech("Tell me about rivers.", tmp_path)
    groq_env.transcripts.append("tell me about rivers")
    groq_env.chat_reply = REPLY
    groq_env.latency = PACING
    events: list[Event] = []
    engine = engine_from_settings(
        settings(), mode="converse", on_event=events.append, input="mic.monitor",
        output="spk", recorder=None,
    )  # fmt: skip
    bench = await open_bench()
    try:
        run = asyncio.create_task(engine.run())
        await wait_for(events, listening, 15)
        await asyncio.sleep(0.3)
        bench.play(question)
        await wait_for(events, speaking, 15)
        await asyncio.sleep(0.5)  # well into the first sentence (1.4 s long)
        cut = bench.now()
        assert engine.interrupt()
        # The reply is still streaming and later sentences still synthesizing: none of it
        # may reach the speaker.
        await asyncio.sleep(2.5)
        engine.stop()
        await asyncio.wait_for(run, 10)
        audio, times = bench.recording()
    finally:
        bench.close()

    heard = loud_times(audio, times)
    assert len(heard) and heard[0] < cut - 0.3, "the reply was not playing when interrupted"
    late = heard[-1] + 0.010 - cut  # end of the last loud window
    assert late <= 0.100, f"sound went on {late * 1000:.0f} ms after the interrupt"
    assert not np.any(heard > cut + 0.1), "something of the cancelled turn played later"

    (done,) = [e for e in events if isinstance(e, ReplyDone)]
    assert done.interrupted and done.heard == SENTENCES[0]
    assert done.text != REPLY  # the chat stream was closed before its end
    assert [e.status for e in events if isinstance(e, TurnFinished)] == ["interrupted"]
    (metrics,) = [e.metrics for e in events if isinstance(e, TurnMetrics)]
    assert metrics["interrupted"] is True
    assert groq_env.abandoned_streams >= 1


@pytest.mark.timeout(40)
async def test_barge_in_by_voice_cuts_the_reply_and_answers_the_new_question(
    pulse_bench, groq_env, tmp_path, monkeypatch
):
    question = speech("Tell me about rivers.", tmp_path)
    interruption = speech("Stop. What about lakes?", tmp_path)
    # Early and speculative requests at the pauses may come more than once per utterance:
    # what each is answered depends on what was said, not on how many came before it.
    interrupting = False
    groq_env.transcribe = lambda pcm, rate: (
        "stop, what about lakes" if interrupting else "tell me about rivers"
    )
    second = "Lakes are still water."
    groq_env.chat_reply_for = lambda said: second if "lakes" in said else REPLY
    groq_env.latency = PACING
    events: list[Event] = []
    engine = engine_from_settings(
        settings(barge_in=True), mode="converse", on_event=events.append,
        input="mic.monitor", output="spk", recorder=None, max_turns=2,
    )  # fmt: skip
    bench = await open_bench()
    try:
        run = asyncio.create_task(engine.run())
        await wait_for(events, listening, 15)
        await asyncio.sleep(0.3)
        bench.play(question)
        await wait_for(events, speaking, 15)
        await asyncio.sleep(0.3)
        interrupting = True
        talk = bench.play(interruption)
        await asyncio.wait_for(run, 20)
        await asyncio.sleep(0.8)
        audio, times = bench.recording()
    finally:
        bench.close()

    assert [e.status for e in events if isinstance(e, TurnFinished)] == [
        "interrupted",
        "answered",
    ]
    first_done, second_done = [e for e in events if isinstance(e, ReplyDone)]
    assert first_done.interrupted and first_done.heard == SENTENCES[0]
    assert second_done.text == second and not second_done.interrupted

    assert talk.start is not None
    heard = loud_times(audio, times)
    before = heard[heard < talk.start]
    assert len(before), "the reply was not playing when the user spoke"
    after = heard[heard >= talk.start]
    # The first reply stops once the endpointer has heard speech (min_speech, 200 ms,
    # plus a capture block or two) and the speaker is flushed.
    gaps = np.diff(np.concatenate([[talk.start], after]))
    stop = int(np.argmax(gaps > 0.1))
    cut_after = after[stop - 1] + 0.010 - talk.start if stop else 0.0
    assert cut_after <= 0.5, f"the reply went on {cut_after * 1000:.0f} ms into the user's turn"
    # Everything after the cut is the second answer, and nothing else.
    rest = after[stop:]
    assert len(rest), "the second answer was not played"
    span = sound_span(audio[np.searchsorted(times, rest[0]) :])
    assert span is not None
    played = (span[1] - span[0]) / RATE
    assert played == pytest.approx(0.02 * len(second), abs=0.06)
