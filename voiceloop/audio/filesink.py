"""A sink that writes what would have been played to a WAV file, for headless runs.

The timing goes to a JSON sidecar next to the WAV (``reply.wav`` → ``reply.timing.json``)::

    {"sample_rate": 24000, "realtime": false,
     "chunks": [{"start": 0.0, "end": 1.23, "text": "Hello there.", "flushed": false}, ...]}

``start``/``end`` are seconds on the sink clock, which is also the position in the WAV.
As fast as possible (default), chunks are laid end to end and play "instantly": the clock
is the end of the audio written so far. With ``realtime=True`` the clock is wall time
since :meth:`start`, silence fills the time nothing was queued, handles resolve when the
audio would really have been heard, and ``flush()`` cuts the file at that moment.
The same list is available as :attr:`FileSink.entries`.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from voiceloop.audio.base import PlaybackHandle
from voiceloop.audio.framing import to_rate
from voiceloop.frames import AudioChunk


@dataclass(slots=True)
class SinkEntry:
    start: float
    end: float
    text: str
    flushed: bool = False


class FileSink:
    """An :class:`~voiceloop.audio.base.AudioSink` that records to ``path`` (WAV, 16-bit)."""

    def __init__(
        self, path: str | Path, *, samplerate: int | None = None, realtime: bool = False
    ) -> None:
        self.path = Path(path)
        self.samplerate = samplerate
        self.realtime = realtime
        self.entries: list[SinkEntry] = []
        self._audio = np.zeros(0, dtype=np.float32)
        self._queue_end = 0.0  # sink time the last queued chunk ends
        self._pending: list[tuple[PlaybackHandle, SinkEntry, list[asyncio.TimerHandle]]] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0 = 0.0
        self._closed = False

    @property
    def timing_path(self) -> Path:
        return self.path.with_suffix(".timing.json")

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._t0 = self._loop.time()

    def time(self) -> float:
        if self.realtime and self._loop is not None:
            return self._loop.time() - self._t0
        return self._queue_end

    def play(self, chunk: AudioChunk) -> PlaybackHandle:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._t0 = self._loop.time()
        if self.samplerate is None:
            self.samplerate = chunk.sample_rate
        rate = self.samplerate
        samples = to_rate(chunk.pcm, chunk.sample_rate, rate)
        start = max(self.time(), self._queue_end)
        end = start + len(samples) / rate
        self._write_at(start, samples)
        self._queue_end = end
        entry = SinkEntry(round(start, 6), round(end, 6), chunk.text)
        self.entries.append(entry)
        handle = PlaybackHandle(chunk)
        if not self.realtime:
            handle.started.set_result(start)
            handle.finished.set_result(end)
            return handle
        now = self.time()
        timers = [
            self._loop.call_later(max(0.0, start - now), _resolve, handle.started, start),
            self._loop.call_later(max(0.0, end - now), self._finish, handle, end),
        ]
        self._pending.append((handle, entry, timers))
        return handle

    def flush(self) -> None:
        """Realtime: cut the audio at the current time and cancel what was not heard."""
        if not self.realtime:
            return
        now = self.time()
        for handle, entry, timers in self._pending:
            for timer in timers:
                timer.cancel()
            for fut in (handle.started, handle.finished):
                if not fut.done():
                    fut.cancel()
            entry.flushed = True
            entry.end = round(min(max(now, entry.start), entry.end), 6)
        self._pending.clear()
        if self.samplerate:
            self._audio = self._audio[: max(0, round(now * self.samplerate))]
        self._queue_end = min(self._queue_end, now)

    async def drain(self) -> None:
        while self._pending:
            handle = self._pending[-1][0]
            try:
                await asyncio.shield(handle.finished)
            except asyncio.CancelledError:
                if not handle.finished.cancelled():
                    raise

    @property
    def underruns(self) -> int:
        return 0

    @property
    def duration(self) -> float:
        return len(self._audio) / self.samplerate if self.samplerate else 0.0

    async def aclose(self) -> None:
        """Write the WAV and its timing sidecar (once)."""
        if self._closed:
            return
        self._closed = True
        if self.realtime:
            await self.drain()
        import soundfile

        self.path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(str(self.path), self._audio, self.samplerate or 24_000, subtype="PCM_16")
        timing = {
            "sample_rate": self.samplerate or 24_000,
            "realtime": self.realtime,
            "chunks": [asdict(e) for e in self.entries],
        }
        self.timing_path.write_text(json.dumps(timing, indent=1) + "\n")

    def _write_at(self, start: float, samples: np.ndarray) -> None:
        at = round(start * (self.samplerate or 1))
        if at > len(self._audio):  # silence while nothing was queued
            self._audio = np.concatenate([self._audio, np.zeros(at - len(self._audio), np.float32)])
        self._audio = np.concatenate([self._audio[:at], samples])

    def _finish(self, handle: PlaybackHandle, end: float) -> None:
        _resolve(handle.finished, end)
        self._pending = [p for p in self._pending if p[0] is not handle]


def _resolve(fut: asyncio.Future[float], value: float) -> None:
    if not fut.done():
        fut.set_result(value)
