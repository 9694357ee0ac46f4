"""Open speakers on the bench: the room feeds what the app's speaker plays back into its
microphone, -8 dB and 45 ms after the speaker's own DAC stamps (see ``DuplexBench.room``).
With the default settings (echo cancellation on, barge-in off) a long reply plays to its
end and its echo, also the tail heard after the reply ends, never becomes a turn. The
echo is real: the app finds it in its own microphone, at the room's delay.

Speech to text is the local Whisper (tiny.en): the echo's transcript must be what a real
transcriber makes of the assistant's voice, not a canned answer."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest
import soxr

import tests.fakegroq.audio as fake_audio
from tests.e2e.bench import RATE, listening, open_bench, speech, wait_for
from tests.e2e.test_interrupt_devices import PACING, REPLY
from voiceloop.audio.echo import EchoCancellingSource
from voiceloop.config import load_settings
from voiceloop.engine import Engine
from voiceloop.events import Event, ReplyDone, TranscriptReady, TurnFinished
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


def engine_for(events: list[Event], max_turns: int | None = 2, **audio: Any) -> Engine:
    """Default [audio] settings (but cues), local speech to text, the loopback server's
    chat and speech."""
    settings = load_settings(
        {
            "audio": {"cues": False, **audio},
            "stt": {"provider": "local", "fallback": False},
            "tts": {"fallback": False},
        }
    )
    return engine_from_settings(
        settings, mode="converse", on_event=events.append, input="mic.monitor", output="spk",
        recorder=None, max_turns=max_turns,
    )  # fmt: skip


def echo_figures(engine: Engine) -> tuple[float, float]:
    """(echo delay s, suppression dB) measured on the app's own mic and reference."""
    source = engine._source
    assert isinstance(source, EchoCancellingSource)
    assert source.record, "no frames went through the echo canceller"
    near = np.concatenate([r[1] for r in source.record]).astype(np.float64)
    out = np.concatenate([r[3] for r in source.record]).astype(np.float64)
    far = np.concatenate([r[2] for r in source.record]).astype(np.float64)
    loud = np.repeat(np.abs(far.reshape(-1, 512)).max(axis=1) > 300, 512)
    loud[: int(np.argmax(loud)) + 3 * 16_000] = False  # the first 3 s: AEC3 converging
    suppression = 10 * np.log10(np.mean(near[loud] ** 2) / max(np.mean(out[loud] ** 2), 1e-9))
    delay = source.path.delay_s
    assert delay is not None, "the bench's echo never reached the microphone"
    return delay, float(suppression)


def statuses(events: list[Event]) -> list[str]:
    return [e.status for e in events if isinstance(e, TurnFinished)]


def transcripts(events: list[Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, TranscriptReady)]


@pytest.mark.timeout(90)
async def test_with_default_settings_a_long_reply_plays_whole_and_its_echo_is_no_turn(
    pulse_bench, groq_env, tmp_path
):
    groq_env.chat_reply = REPLY
    groq_env.latency = PACING
    events: list[Event] = []
    engine = engine_for(events)
    assert not engine.barge_in, "barge-in is off by default"
    engine._source.record = []
    bench = await open_bench(echo_db=ECHO_DB, room=engine._sink)
    try:
        run = asyncio.create_task(engine.run())
        await wait_for(events, listening, 30)
        await asyncio.sleep(0.3)
        bench.play(speech("Tell me about rivers.", tmp_path))
        await wait_for(events, lambda e: isinstance(e, ReplyDone), 60)
        await asyncio.sleep(2.5)  # a phantom turn would start from the reply's tail
        engine.stop()
        await asyncio.wait_for(run, 10)
    finally:
        bench.close()
    print(f"turns: {statuses(events)}, transcripts: {transcripts(events)}, "
          f"bench overflows/reopened: {bench.overflows}/{bench.reopened}")  # fmt: skip
    delay, suppression = echo_figures(engine)
    guard = engine._guard
    print(f"echo delay {delay * 1000:.0f} ms, suppression {suppression:.1f} dB, "
          f"echo held {guard.echoes}, resumed {guard.resumed}, cuts {guard.cuts}")  # fmt: skip
    # The room is 45 ms; the sound server's stamps add their own error.
    assert 0.010 <= delay <= 0.450, f"the bench's echo is {delay * 1000:.0f} ms late"
    assert statuses(events) == ["answered"], f"it interrupted itself: {statuses(events)}"
    (done,) = [e for e in events if isinstance(e, ReplyDone)]
    assert not done.interrupted and done.heard == REPLY
    assert len(transcripts(events)) == 1, f"its echo became a turn: {transcripts(events)}"
    assert [x.user for x in engine.conversation._history] == [transcripts(events)[0]]
    # AEC3 takes 20+ dB off a steady room (benchmarks/duplex.py); the sound server's
    # stamps here drift by tens of ms, and 2-16 dB is what is left of it.
    assert suppression > 0.0
