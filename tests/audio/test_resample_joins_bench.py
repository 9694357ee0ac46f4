"""Chunks at 24 kHz and 22.05 kHz on a 48 kHz device: the joins do not click.

A continuous 440 Hz tone is cut into 40 ms chunks and played through the speaker; the
monitor's recording is high-passed (second difference): a pure tone leaves about
``A·(2πf/fs)² ≈ 0.0008`` there, a step at a join far more.
"""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np
import pytest

from tests.audio.test_playback_bench import QUIET, REC_RATE, Recorder
from voiceloop.audio.framing import to_rate
from voiceloop.audio.playback import Speaker
from voiceloop.frames import AudioChunk

pytestmark = pytest.mark.audio


def chunks_of_tone(rate: int, seconds: float = 1.0, chunk_s: float = 0.040) -> list[AudioChunk]:
    t = np.arange(round(rate * seconds)) / rate
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    step = round(rate * chunk_s)
    return [AudioChunk(x[i : i + step], rate) for i in range(0, len(x), step)]


async def record(chunks: list[AudioChunk]) -> tuple[np.ndarray, int]:
    speaker = Speaker("spk", samplerate=48_000)
    await speaker.start()
    recorder = Recorder()
    try:
        speaker.play(AudioChunk(np.zeros(4800, np.float32), 48_000))  # warm the null sink up
        await speaker.drain()
        await asyncio.sleep(0.3)
        for c in chunks:
            speaker.play(c)
        await asyncio.wait_for(speaker.drain(), 10)
        await asyncio.sleep(0.2)
        return recorder.stop(), speaker.underruns + recorder.xruns
    finally:
        await speaker.aclose()
        with contextlib.suppress(Exception):
            recorder.stream.close()


def click(audio: np.ndarray) -> float:
    """Largest second difference inside the tone (its first and last 20 ms left out)."""
    loud = np.flatnonzero(np.abs(audio) > QUIET)
    edge = round(0.020 * REC_RATE)
    tone = audio[loud[0] + edge : loud[-1] - edge]
    return float(np.abs(np.diff(tone, 2)).max())


@pytest.mark.timeout(90)
@pytest.mark.parametrize("rate", [24_000, 22_050])
async def test_chunk_joins_do_not_click(pulse_bench, rate: int) -> None:
    chunks = chunks_of_tone(rate)
    for _attempt in range(3):
        audio, xruns = await record(chunks)
        if xruns == 0:
            break
    else:
        pytest.fail("audio dropped (xruns) on every attempt")
    # each chunk resampled on its own, as before: the same tone, played at 48 kHz
    old = [AudioChunk(to_rate(c.pcm, rate, 48_000), 48_000) for c in chunks]
    for _attempt in range(3):
        old_audio, xruns = await record(old)
        if xruns == 0:
            break
    after, before = click(audio), click(old_audio)
    print(f"{rate} Hz on 48 kHz: click at joins {before:.4f} before, {after:.4f} after")
    assert after < 0.005, f"a click of {after:.4f} at a join"
    assert before > 5 * after, "the measure did not see the old joins click"
