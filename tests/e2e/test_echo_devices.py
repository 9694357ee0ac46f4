"""Open speakers on the bench: the room feeds the app's speaker back into its microphone
(-8 dB, late by the monitor's lag and the harness's own latency). Without echo
cancellation, barge-in cuts the reply on its own echo: the bench's echo is real."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import soxr

import tests.fakegroq.audio as fake_audio
from tests.e2e.bench import RATE, listening, open_bench, settings, speech, wait_for
from tests.e2e.test_interrupt_devices import PACING, REPLY
from voiceloop.events import Event, ReplyDone, TurnFinished
from voiceloop.session.engine import engine_from_settings

pytestmark = [pytest.mark.audio, pytest.mark.slow]

ECHO_DB = -8.0


@pytest.fixture(autouse=True)
def spoken_replies(monkeypatch, tmp_path):
    """The loopback server speaks its replies with espeak-ng: an echo the voice detector
    takes for speech, as a real voice's would be (its usual sweep is not speech)."""
    original = fake_audio.speech_wav_parts

    def parts(text: str, rate: int, **kwargs: object) -> list[bytes]:
        header = b"".join(original(text, rate)[:2])
        voice = soxr.resample(speech(text, tmp_path), RATE, rate)
        pcm = (np.clip(voice, -1, 1) * 32767).astype("<i2").tobytes()
        return [header] + [pcm[i : i + 4097] for i in range(0, len(pcm), 4097)]

    monkeypatch.setattr(fake_audio, "speech_wav_parts", parts)


@pytest.mark.timeout(60)
async def test_without_echo_cancellation_barge_in_cuts_the_reply_on_its_own_echo(
    pulse_bench, groq_env, tmp_path
):
    groq_env.transcripts.append("tell me about rivers")
    groq_env.chat_reply = REPLY
    groq_env.latency = PACING
    events: list[Event] = []
    engine = engine_from_settings(
        settings(barge_in=True, echo_cancellation=False, false_interruption_s=0.0), mode="converse",
        on_event=events.append, input="mic.monitor", output="spk", recorder=None,
    )  # fmt: skip
    bench = await open_bench(echo_db=ECHO_DB)
    try:
        run = asyncio.create_task(engine.run())
        await wait_for(events, listening, 15)
        await asyncio.sleep(0.3)
        bench.play(speech("Tell me about rivers.", tmp_path))
        await wait_for(events, lambda e: isinstance(e, TurnFinished), 40)
        engine.stop()
        await asyncio.wait_for(run, 10)
    finally:
        bench.close()
    first = next(e for e in events if isinstance(e, TurnFinished))
    assert first.status == "interrupted", "the echo should have cut the reply"
    done = next(e for e in events if isinstance(e, ReplyDone))
    assert done.heard != REPLY
