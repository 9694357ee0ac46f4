"""The audio ends of the latency benchmark: a paced voice source and a speaker that plays
on the event loop's clock (see ``latency.py``)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np

from voiceloop.audio.base import PlaybackHandle
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioChunk, AudioFrame

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


class Pacer:
    """Hands out frames at the rate a microphone would, on the event loop's clock."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.t0 = self.loop.time()
        self.index = 0

    @property
    def now(self) -> float:
        """Loop time at which the next frame starts."""
        return self.t0 + self.index * FRAME_S

    async def frame(self, pcm: np.ndarray, level: float) -> AudioFrame:
        self.index += 1
        delay = self.now - self.loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        return AudioFrame(pcm, (self.index - 1) * FRAME_S, level)


class SimSink:
    """Plays chunks back to back on the loop clock, ``speed`` times faster than real time."""

    realtime = True

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._tail = 0.0
        self._pending: list[tuple[PlaybackHandle, list[asyncio.TimerHandle]]] = []

    async def start(self) -> None:
        return None

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    def play(self, chunk: AudioChunk) -> PlaybackHandle:
        loop = asyncio.get_running_loop()
        handle = PlaybackHandle(chunk)
        start = max(loop.time(), self._tail)
        end = start + chunk.duration / self.speed
        self._tail = end
        timers = [
            loop.call_at(start, _resolve, handle.started, start),
            loop.call_at(end, _resolve, handle.finished, end),
        ]
        self._pending.append((handle, timers))
        return handle

    def flush(self) -> None:
        for handle, timers in self._pending:
            for timer in timers:
                timer.cancel()
            for fut in (handle.started, handle.finished):
                if not fut.done():
                    fut.cancel()
        self._pending.clear()
        self._tail = 0.0

    async def drain(self) -> None:
        waiting = [h.finished for h, _ in self._pending if not h.finished.done()]
        if waiting:
            await asyncio.wait(waiting)

    @property
    def underruns(self) -> int:
        return 0

    async def aclose(self) -> None:
        self.flush()


def _resolve(fut: asyncio.Future[float], value: float) -> None:
    if not fut.done():
        fut.set_result(value)


class PacedSource:
    """Live-like frames at real time: each turn is 0.6 s of voice, then silence until the
    previous turn is over (plus a pause)."""

    realtime = True
    dropped = 0

    def __init__(self, turns: int, finished: list[int]) -> None:
        self.turns = turns
        self.finished = finished
        self.speech_ends: list[float] = []  # loop time at the end of each turn's voice
        self._closed = False

    async def frames(self) -> AsyncIterator[AudioFrame]:
        pacer = Pacer()
        t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        voice = (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
        quiet = np.zeros(FRAME_SAMPLES, np.int16)

        async def frame(pcm: np.ndarray) -> AudioFrame:
            return await pacer.frame(pcm, -12.0 if pcm is voice else -100.0)

        for turn in range(self.turns):
            for _ in range(10):
                yield await frame(quiet)
            for _ in range(round(0.6 / FRAME_S)):
                yield await frame(voice)
            self.speech_ends.append(pacer.now)
            while len(self.finished) <= turn and not self._closed:
                yield await frame(quiet)
        for _ in range(10):
            yield await frame(quiet)

    async def aclose(self) -> None:
        self._closed = True
