"""The speaker: gapless chunk playback with an instant flush and "first sample played" times.

Chunks are converted to the device rate in :meth:`Speaker.play`, before they enter the
queue, so the PortAudio callback only copies samples. Consecutive chunks go through one
streaming resampler (:class:`~voiceloop.audio.framing.StreamResampler`), so their joins do
not click; the few milliseconds it holds back are released when the next chunk comes, or
shortly before the queued audio runs out. The callback reports
each chunk's first and last played sample (from the stream's DAC time) to the event
loop through ``call_soon_threadsafe``; nothing else crosses threads except the queue
itself (a deque, whose append/popleft are atomic) and a flush generation number.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from voiceloop.audio.base import PlaybackHandle
from voiceloop.audio.dac_clock import DacClock
from voiceloop.audio.devices import (
    DeviceInfo,
    import_sounddevice,
    pulse_route,
    resolve_device,
)
from voiceloop.audio.filesink import FileSink
from voiceloop.audio.framing import StreamResampler, to_rate
from voiceloop.errors import DeviceError
from voiceloop.frames import AudioChunk

__all__ = ["FileSink", "Speaker", "to_rate"]

DEFAULT_BLOCKSIZE = 512
_TAIL_MARGIN_S = 0.1
"""Release the resampler's held-back audio this long before the queue would run dry: more
than the device buffer takes ahead, so the tail is queued before it is needed."""
_DRAIN_MAX_S = 2.0  # more than any device buffers: a clock that jumped waits no longer


@dataclass(eq=False, slots=True)
class _Queued:
    handle: PlaybackHandle
    samples: np.ndarray
    gen: int
    pos: int = 0
    last: bool = True
    """The handle's last samples: their end is its ``finished`` time."""


class Speaker:
    """Plays :class:`AudioChunk` s on a PortAudio output device (an :class:`AudioSink`).

    ``device`` is an index, a name substring or ``None`` (default output);
    ``samplerate`` defaults to the device's own rate. Call :meth:`start` (or use
    ``async with``) before :meth:`play`.
    """

    def __init__(
        self,
        device: int | str | None = None,
        *,
        samplerate: int | None = None,
        blocksize: int = DEFAULT_BLOCKSIZE,
        latency: str | float = "low",
    ) -> None:
        self.device_spec = device
        self.samplerate = samplerate
        self.blocksize = blocksize
        self.latency = latency
        self.channels = 1
        self.device: DeviceInfo | None = None
        self._stream: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: collections.deque[_Queued] = collections.deque()
        self._current: _Queued | None = None  # owned by the callback
        self._gen = 0  # bumped by flush(); the callback drops older items
        self._paused = False  # loop writes, callback reads: silence, position kept
        self._underruns = 0  # written by the callback only
        self._clock = DacClock()  # callback only
        self._expected_stops = 0  # loop only: aborts flush() made on purpose
        self.error: DeviceError | None = None
        """Set when the stream stopped on its own (device unplugged, server gone)."""
        self._outstanding: set[PlaybackHandle] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._resampler: StreamResampler | None = None
        self._tail_timer: asyncio.TimerHandle | None = None
        self._queued_end = 0.0  # loop time at which the queued audio will have played
        self._heard_until = 0.0  # stream time the last finished handle leaves the speaker
        # Output samples each handle is still owed by the resampler, oldest first
        self._owed: collections.deque[list[Any]] = collections.deque()
        self.reference_tap: Any = None
        """``tap(block, dac_time, rate)``, called from the callback with every block written
        (an echo canceller's reference)."""

    # -- AudioSink ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._stream is not None:
            return
        self._loop = asyncio.get_running_loop()
        sd = import_sounddevice()
        self.device = resolve_device(self.device_spec, "output")
        rate = int(self.samplerate or self.device.default_samplerate or 48_000)
        channels = 1
        try:
            sd.check_output_settings(
                device=self.device.index, samplerate=rate, channels=1, dtype="float32"
            )
        except Exception:
            channels = min(2, self.device.max_output_channels)
        self.samplerate, self.channels = rate, channels
        self._resampler = StreamResampler(rate)
        try:
            with pulse_route(self.device, "output"):
                self._stream = sd.OutputStream(
                    device=self.device.index,
                    samplerate=rate,
                    channels=channels,
                    dtype="float32",
                    blocksize=self.blocksize,
                    latency=self.latency,
                    callback=self._callback,
                    finished_callback=self._stream_finished,
                )
            self._stream.start()
        except Exception as exc:  # sounddevice.PortAudioError
            self._stream = None
            raise DeviceError(
                f"Cannot open output device {self.device.name!r}: {exc}",
                hint="choose another with --output-device (see `voiceloop devices`)",
                kind="output",
            ) from exc

    def play(self, chunk: AudioChunk) -> PlaybackHandle:
        """Queue ``chunk`` right after what is queued; returns its handle at once."""
        if self.error is not None:
            raise self.error
        if self._stream is None or self.samplerate is None:
            raise DeviceError("The speaker is not started.", hint="await speaker.start() first")
        handle = PlaybackHandle(chunk)
        if len(chunk.pcm) == 0:
            now = self.time()
            handle.started.set_result(now)
            handle.finished.set_result(now)
            return handle
        if self._resampler is None:
            self._resampler = StreamResampler(self.samplerate)
        self._outstanding.add(handle)
        self._idle.clear()
        owed = self._resampler.expected(len(chunk.pcm), chunk.sample_rate)
        out = self._resampler.feed(chunk.pcm, chunk.sample_rate)
        self._owed.append([handle, owed])
        self._distribute(out, final=not self._resampler.holding)
        if self._tail_timer is not None:
            self._tail_timer.cancel()
            self._tail_timer = None
        if self._resampler.holding and self._loop is not None:
            at = self._queued_end - _TAIL_MARGIN_S
            self._tail_timer = self._loop.call_at(at, self._release_tail)
        return handle

    def _distribute(self, out: np.ndarray, *, final: bool) -> None:
        """Queue resampled audio, each sample under the handle of the chunk it came from;
        ``final``: nothing more comes for the handles still owed samples."""
        pos = 0
        while self._owed:
            entry = self._owed[0]
            handle, owed = entry
            avail = len(out) - pos
            if final and len(self._owed) == 1:
                take, last = avail, True  # rounding: the last handle gets what is left
            elif avail >= owed or final:
                take, last = min(owed, avail), True
            elif avail == 0:
                break
            else:
                take, last = avail, False
            self._enqueue(handle, out[pos : pos + take], last=last)
            pos += take
            entry[1] -= take
            if not last:
                break
            self._owed.popleft()
        if pos < len(out):  # a sample or two past the rounding, no handle left to owe
            self._enqueue(PlaybackHandle(AudioChunk(out[pos:], self.samplerate or 1)), out[pos:])

    def _enqueue(self, handle: PlaybackHandle, samples: np.ndarray, *, last: bool = True) -> None:
        self._outstanding.add(handle)
        self._idle.clear()
        self._queue.append(_Queued(handle, samples, self._gen, last=last))
        if self._loop is not None and self.samplerate:
            start = max(self._queued_end, self._loop.time())
            self._queued_end = start + len(samples) / self.samplerate

    def _release_tail(self) -> None:
        """Queue the audio the resampler still holds (the end of the last chunk)."""
        self._tail_timer = None
        if self._resampler is None or not self._resampler.holding:
            return
        tail = self._resampler.finish()
        if self._stream is not None:
            self._distribute(tail, final=True)

    def flush(self) -> None:
        """Stop the sound now and drop everything queued (their handles are cancelled).

        The callback outputs silence from its next block; when something was playing,
        the stream is also aborted and restarted, which throws away the audio already
        buffered in PortAudio and the sound server (tens of ms on a loaded machine).
        """
        playing = bool(self._outstanding) or self._current is not None
        self._gen += 1
        self._queue.clear()
        if self._tail_timer is not None:
            self._tail_timer.cancel()
            self._tail_timer = None
        if self._resampler is not None:
            self._resampler.reset()
        self._owed.clear()
        self._queued_end = 0.0
        for handle in list(self._outstanding):
            for fut in (handle.started, handle.finished):
                if not fut.done():
                    fut.cancel()
        self._outstanding.clear()
        self._idle.set()
        if playing and self._stream is not None:
            self._heard_until = 0.0  # the restart drops what the device held
            self._restart()

    def pause(self) -> None:
        """Hold playback where it is (silence from the next block); :meth:`resume` goes on
        from the same sample. :meth:`flush` still drops everything."""
        self._paused = True

    def resume(self) -> None:
        """Continue after :meth:`pause`."""
        self._paused = False

    @property
    def paused(self) -> bool:
        return self._paused

    def _restart(self) -> None:
        stream = self._stream
        self._expected_stops += 1  # the abort makes PortAudio report a finished stream
        try:
            stream.abort()
            self._current = None
            self._clock.reset()
            stream.start()
        except Exception as exc:  # sounddevice.PortAudioError
            name = self.device.name if self.device else "?"
            self.error = DeviceError(
                f"The output device {name!r} failed to restart after a stop: {exc}",
                hint="check the speaker connection or sound server, then start again",
            )
            self._stream = None

    async def drain(self) -> None:
        """Wait until everything queued has been played (or flushed) and has left the
        speaker: a handle is finished when its last block is written, while the device's
        buffer (100 ms and more on a busy sound server) still holds it, and closing the
        stream then drops the end of the last word."""
        self._release_tail()
        await self._idle.wait()
        if self._stream is not None:
            left = self._heard_until - self.time()
            if 0 < left <= _DRAIN_MAX_S:
                await asyncio.sleep(left)

    def time(self) -> float:
        """The output stream's clock; ``started``/``finished`` stamps use it."""
        return float(self._stream.time) if self._stream is not None else 0.0

    @property
    def underruns(self) -> int:
        """Blocks PortAudio reported as output underflow (the device ran dry)."""
        return self._underruns

    async def aclose(self) -> None:
        stream, self._stream = self._stream, None
        self.flush()
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                pass

    async def __aenter__(self) -> Speaker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the PortAudio thread -------------------------------------------------------------

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        if status.output_underflow:
            self._underruns += 1
        rate = self.samplerate or 1
        dac = self._clock.block(
            float(time.outputBufferDacTime) or float(time.currentTime), frames, rate
        )
        gen = self._gen
        paused = self._paused
        pos = frames if paused else 0
        while pos < frames:
            cur = self._current
            if cur is None or cur.gen != gen:
                self._current = None
                try:
                    cur = self._queue.popleft()
                except IndexError:
                    break
                if cur.gen != gen:
                    continue
                self._current = cur
            n = min(frames - pos, len(cur.samples) - cur.pos)
            outdata[pos : pos + n] = cur.samples[cur.pos : cur.pos + n, None]
            if cur.pos == 0:
                self._post(self._mark_started, cur, dac + pos / rate)
            cur.pos += n
            pos += n
            if cur.pos >= len(cur.samples):
                if cur.last:
                    self._post(self._mark_finished, cur, dac + pos / rate)
                self._current = None
        if paused:
            outdata[:] = 0.0
        elif pos < frames:
            outdata[pos:] = 0.0
        tap = self.reference_tap
        if tap is not None:
            tap(outdata, dac, rate)

    def _stream_finished(self) -> None:
        loop = self._loop
        assert loop is not None  # start() sets it before the stream runs
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(self._end_unexpectedly)

    def _post(self, fn: Callable[[_Queued, float], None], item: _Queued, at: float) -> None:
        loop = self._loop
        assert loop is not None  # start() sets it before the stream runs
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(fn, item, at)

    # -- back on the event loop ------------------------------------------------------------

    def _end_unexpectedly(self) -> None:
        """The stream stopped without aclose(): nothing queued will play; say so."""
        if self._expected_stops:
            self._expected_stops -= 1
            return
        if self._stream is None:
            return
        name = self.device.name if self.device else "?"
        self.error = DeviceError(
            f"The output device {name!r} stopped playing.",
            hint="check the speaker connection or sound server, then start again",
        )
        self._stream = None
        self.flush()

    def _mark_started(self, item: _Queued, at: float) -> None:
        if item.gen == self._gen and not item.handle.started.done():
            item.handle.started.set_result(at)

    def _mark_finished(self, item: _Queued, at: float) -> None:
        handle = item.handle
        if item.gen != self._gen:
            return
        if not handle.started.done():
            handle.started.set_result(at)
        if not handle.finished.done():
            handle.finished.set_result(at)
        self._heard_until = max(self._heard_until, at)
        self._outstanding.discard(handle)
        if not self._outstanding:
            self._idle.set()
