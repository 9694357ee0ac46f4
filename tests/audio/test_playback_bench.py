"""Playback on the virtual speaker, recorded back from ``spk.monitor``.

The recorder is a PortAudio input stream in this process, so its timestamps and the
moment ``flush()`` is called share one clock.
"""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np
import pytest

from tests.audio.conftest import routed
from voiceloop.audio.devices import import_sounddevice
from voiceloop.audio.playback import Speaker
from voiceloop.frames import AudioChunk

pytestmark = pytest.mark.audio

REC_RATE = 48_000
QUIET = 0.01


def tone(freq: float, seconds: float, rate: int) -> AudioChunk:
    t = np.arange(round(seconds * rate)) / rate
    return AudioChunk((0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate, text=f"{freq}")


class Recorder:
    """Records ``spk.monitor`` with block timestamps and counts overflows."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.t0: float | None = None
        self.xruns = 0
        sd = import_sounddevice()
        with routed(source="spk.monitor"):
            self.stream = sd.InputStream(
                samplerate=REC_RATE,
                channels=1,
                dtype="float32",
                blocksize=480,
                latency="low",
                callback=self._callback,
            )
        self.stream.start()

    def _callback(self, indata, frames, time, status) -> None:
        if status.input_overflow:
            self.xruns += 1
        if self.t0 is None:
            self.t0 = time.inputBufferAdcTime or self.stream.time
        self.blocks.append(indata[:, 0].copy())

    def now(self) -> float:
        return self.stream.time

    def stop(self) -> np.ndarray:
        self.stream.stop()
        self.stream.close()
        return np.concatenate(self.blocks)

    def heard_anything(self) -> bool:
        return any(np.abs(b).max() > QUIET for b in self.blocks[-5:])


@contextlib.asynccontextmanager
async def bench_speaker():
    speaker = Speaker("spk")  # the PulseAudio sink, by name
    await speaker.start()
    recorder = Recorder()
    try:
        # A null sink that has been idle stalls on its first write; warm both streams up.
        speaker.play(AudioChunk(np.zeros(4800, np.float32), 48_000))
        await speaker.drain()
        await asyncio.sleep(0.3)
        yield speaker, recorder
    finally:
        await speaker.aclose()
        with contextlib.suppress(Exception):
            recorder.stream.close()


def longest_quiet_run(x: np.ndarray) -> int:
    """Longest run of samples below the quiet threshold."""
    quiet = np.abs(x) < QUIET
    best = run = 0
    for q in quiet:
        run = run + 1 if q else 0
        best = max(best, run)
    return best


@pytest.mark.timeout(60)
async def test_consecutive_chunks_play_without_gaps(pulse_bench):
    # Chunks at different rates: each is converted to the device rate before queueing.
    chunks = [tone(440, 0.3, 24_000), tone(550, 0.3, 22_050), tone(660, 0.3, 16_000)]
    chunks += [tone(880, 0.3, 48_000), tone(495, 0.3, 44_100)]
    for _attempt in range(3):
        async with bench_speaker() as (speaker, recorder):
            handles = [speaker.play(c) for c in chunks]
            await asyncio.wait_for(speaker.drain(), 10)
            await asyncio.sleep(0.2)
            audio = recorder.stop()
        if recorder.xruns == 0 and speaker.underruns == 0:
            break
    else:
        pytest.fail(f"xruns on every attempt ({recorder.xruns} in the recorder)")
    loud = np.flatnonzero(np.abs(audio) > QUIET)
    played = audio[loud[0] : loud[-1] + 1]
    gap_ms = longest_quiet_run(played) / REC_RATE * 1000
    assert gap_ms <= 10, f"a {gap_ms:.1f} ms gap between chunks"
    total = sum(c.duration for c in chunks)
    assert abs(len(played) / REC_RATE - total) <= 0.010
    starts = [h.started.result() for h in handles]
    ends = [h.finished.result() for h in handles]
    for c, s, e in zip(chunks, starts, ends, strict=True):
        assert e - s == pytest.approx(c.duration, abs=0.005)
    for e, s in zip(ends, starts[1:], strict=False):
        assert s == pytest.approx(e, abs=0.001), "handles report a gap"


@pytest.mark.timeout(60)
async def test_flush_silences_output_within_50_ms(pulse_bench):
    async with bench_speaker() as (speaker, recorder):
        first = speaker.play(tone(500, 3.0, 24_000))
        queued = speaker.play(tone(700, 1.0, 24_000))
        await asyncio.wait_for(first.started, 5)
        for _ in range(100):  # until the tone is actually heard on the monitor
            if recorder.heard_anything():
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.2)
        flushed_at = recorder.now()
        speaker.flush()
        await asyncio.sleep(0.4)
        audio = recorder.stop()
        assert first.finished.cancelled()
        assert queued.started.cancelled() and queued.finished.cancelled()
        await asyncio.wait_for(speaker.drain(), 1)

        # Still works after a flush.
        again = speaker.play(tone(600, 0.1, 24_000))
        await asyncio.wait_for(again.finished, 5)

    assert recorder.t0 is not None
    loud = np.flatnonzero(np.abs(audio) > QUIET)
    last_loud = recorder.t0 + loud[-1] / REC_RATE
    late = last_loud - flushed_at
    assert late <= 0.050, (
        f"sound went on {late * 1000:.0f} ms after flush() (xruns {recorder.xruns})"
    )
    assert late > -0.5, "the tone had stopped long before flush(): the test measured nothing"
