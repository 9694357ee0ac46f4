"""Chunks at 24 kHz and 22.05 kHz on a 48 kHz device: the joins do not click.

A continuous 440 Hz tone is cut into 40 ms chunks and played through the speaker; what
the speaker's callback writes to the device and the monitor's recording are high-passed
(second difference): a pure tone leaves about ``A·(2πf/fs)² ≈ 0.0008`` there, a step at a
join far more. What is written is the same every run; the recording, on a loaded machine,
now and then loses a block that PortAudio does not report, so it gets up to six tries.
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


async def record(chunks: list[AudioChunk]) -> tuple[np.ndarray, np.ndarray, int]:
    """(the monitor's recording, what the speaker's callback wrote, xruns)."""
    speaker = Speaker("spk", samplerate=48_000)
    written: list[np.ndarray] = []
    callback = speaker._callback

    def writing(outdata, frames, time, status) -> None:
        callback(outdata, frames, time, status)
        written.append(outdata[:, 0].copy())

    speaker._callback = writing  # type: ignore[method-assign]
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
        return recorder.stop(), np.concatenate(written), speaker.underruns + recorder.xruns
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


@pytest.mark.timeout(120)
@pytest.mark.parametrize("rate", [24_000, 22_050])
async def test_chunk_joins_do_not_click(pulse_bench, rate: int) -> None:
    chunks = chunks_of_tone(rate)
    heard = []
    for _attempt in range(6):
        audio, written, xruns = await record(chunks)
        out = click(written)
        assert out < 0.005, f"a click of {out:.4f} at a join in what the speaker wrote"
        if xruns == 0:
            heard.append(click(audio))
            if heard[-1] < 0.005:
                break
    assert heard, "audio dropped (xruns) on every attempt"
    # each chunk resampled on its own, as before: the same tone, played at 48 kHz
    old = [AudioChunk(to_rate(c.pcm, rate, 48_000), 48_000) for c in chunks]
    _, old_written, _ = await record(old)
    after, before = min(heard), click(old_written)
    print(f"{rate} Hz on 48 kHz: click at joins {before:.4f} before, {after:.4f} after "
          f"(recorded, tries {heard})")  # fmt: skip
    assert after < 0.005, f"a click of {after:.4f} at a join"
    assert before > 5 * after, "the measure did not see the old joins click"
