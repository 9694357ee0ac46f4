"""A spoken question on the virtual microphone gets a spoken answer on the virtual speaker,
starting after the first sentence rather than after the whole reply, and gapless."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.e2e.bench import (
    RATE,
    gaps_ms,
    listening,
    open_bench,
    settings,
    sound_span,
    speech,
    wait_for,
)
from tests.fakegroq import Latency
from voiceloop.events import Event, ReplyDone, TurnFinished, TurnMetrics
from voiceloop.session.engine import engine_from_settings

pytestmark = [pytest.mark.audio, pytest.mark.slow]

SENTENCES = [
    "Mars is a cold desert world.",
    "Its thin air is mostly carbon dioxide.",
    "Dust storms can cover the whole planet.",
    "Two small moons circle it quickly.",
    "Rovers still explore its red plains.",
]
REPLY = " ".join(SENTENCES)


@pytest.mark.timeout(40)
async def test_a_spoken_question_is_answered_sentence_by_sentence_on_the_speaker(
    pulse_bench, groq_env, tmp_path
):
    question = speech("What is the planet Mars like?", tmp_path)
    groq_env.transcripts.append("what is the planet mars like")
    groq_env.chat_reply = REPLY
    # ~2 s to generate the whole reply; synthesis time grows with the text.
    groq_env.latency = Latency(
        transcription=0.25, first_token=0.2, per_token=0.06, speech_base=0.15, speech_per_char=0.01
    )
    events: list[Event] = []
    engine = engine_from_settings(
        settings(),
        mode="converse",
        on_event=events.append,
        input="mic.monitor",
        output="spk",
        recorder=None,
        max_turns=1,
    )
    bench = await open_bench()
    try:
        run = asyncio.create_task(engine.run())
        await wait_for(events, listening, 15)
        await asyncio.sleep(0.3)
        asked = bench.play(question)
        await asyncio.wait_for(run, 20)
        await asyncio.sleep(2.0)  # what the sound server still holds (its monitor lags)
        audio, times = bench.recording()
        offset = bench.clock_offset()
        underruns = engine._sink.underruns
    finally:
        bench.close()

    assert [e.status for e in events if isinstance(e, TurnFinished)] == ["answered"]
    (done,) = [e for e in events if isinstance(e, ReplyDone)]
    assert done.text == REPLY and not done.interrupted
    spoken = [r.json["input"] for r in groq_env.requests_to("speech")]
    assert spoken == SENTENCES

    span = sound_span(audio)
    assert span is not None, "nothing was played on the speaker"
    first, last = span
    reply = audio[first:last]
    expected = sum(0.02 * len(s) for s in SENTENCES)  # the loopback voice: 20 ms a char
    assert len(reply) / RATE == pytest.approx(expected, abs=0.15), "reply audio missing"
    # Gapless: no silence at the joins between sentences. A silence elsewhere can only be
    # the machine failing to run an audio callback in time (a loaded machine), which
    # PortAudio reports; without such a report there must be no silence at all.
    joins = np.cumsum([0.02 * len(t) * 1000 for t in SENTENCES[:-1]])
    gaps = gaps_ms(reply)
    at_joins = [(at, n) for at, n in gaps if np.min(np.abs(joins - at)) < 30]
    assert not at_joins, f"gaps between sentences (at, ms): {at_joins}"
    if underruns + bench.overflows == 0:
        assert not gaps, f"gaps (at, ms) {gaps} with no xrun counted"

    # Streaming: the first sound comes after the first sentence was complete, and long
    # before the last token of the reply was sent.
    (chat,) = groq_env.requests_to("chat")
    first_sound = times[first] + offset
    sentence_done = chat.sent[len(SENTENCES[0].split()) - 1]  # its last word went out
    assert first_sound > sentence_done + 0.15 + 0.01 * len(SENTENCES[0])  # its synthesis
    assert chat.sent[-1] - chat.sent[0] > 1.5
    assert first_sound < chat.sent[-1] - 0.5, (
        f"first sound {first_sound - chat.sent[-1]:+.2f} s from the last token"
    )

    # Time to first audio on the harness clock, against what the engine reports.
    assert asked.end is not None
    ttfa = times[first] - asked.end
    (metrics,) = [e.metrics for e in events if isinstance(e, TurnMetrics)]
    print(f"ttfa measured {ttfa * 1000:.0f} ms, engine says {metrics['ttfa_ms']:.0f} ms")
    assert abs(ttfa * 1000 - metrics["ttfa_ms"]) < 250
    # Transcription started at the pause, so the transcript was there about when the end
    # of the turn closed the utterance (the end-of-turn model's decision, or the hangover),
    # not 250 ms of transcription after it.
    assert metrics["early_transcript"] is True
    assert metrics["transcript_ms"] < metrics["utterance_closed_ms"] + 250 - 80, metrics
