"""Frame sources: the microphone and audio files.

Both yield 32 ms :class:`~voiceloop.frames.AudioFrame` s (512 int16 samples at 16 kHz
mono) with stream-clock timestamps and RMS levels.

The PortAudio callback of :class:`Microphone` only copies the block and posts it to the
event loop; mixing down, resampling and framing happen on the loop. The hand-over is
bounded: when ``queue_frames`` blocks are waiting, further blocks are dropped in the
callback and counted, and the loop reports the count through ``on_overflow`` (the
engine's ``CaptureOverflow`` event). PortAudio's own input-overflow flags count too.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.audio.devices import (
    DeviceInfo,
    import_sounddevice,
    input_format,
    pulse_route,
    resolve_device,
)
from voiceloop.audio.formats import load_speech
from voiceloop.audio.framing import FrameAssembler
from voiceloop.errors import DeviceError
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

OverflowCallback = Callable[[int, int], None]
"""``on_overflow(dropped_now, total)``: called on the event loop when frames were lost."""

_Block = tuple[np.ndarray, float, int]
"""A captured block, its ADC time and how many blocks were dropped before it; the queue
holds ``None`` after the last one."""


class Microphone:
    """Captures a PortAudio input device as a :class:`~voiceloop.audio.base.FrameSource`.

    ``device`` is an index, a name substring or ``None`` for the default input. The
    stream opens at 16 kHz mono when the device supports it, otherwise at the device's
    native rate (mono if possible, else its channel count), and is mixed down and
    resampled on the event loop. Use ``async with Microphone() as mic`` or call
    :meth:`start`; :meth:`frames` starts it too.
    """

    def __init__(
        self,
        device: int | str | None = None,
        *,
        queue_frames: int = 64,
        latency: str | float = "low",
        on_overflow: OverflowCallback | None = None,
    ) -> None:
        self.device_spec = device
        self.queue_frames = queue_frames
        self.latency = latency
        self.on_overflow = on_overflow
        self.device: DeviceInfo | None = None
        self.samplerate: float = SAMPLE_RATE
        self.channels: int = 1
        self._sd: Any = None
        self._stream: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._assembler: FrameAssembler | None = None
        self._items: collections.deque[_Block | None] = collections.deque()
        self._wake = asyncio.Event()
        # Counters with a single writer each, so the callback needs no lock.
        self._sent = 0  # callback: blocks posted
        self._taken = 0  # loop: blocks consumed
        self._cb_dropped = 0  # callback: blocks dropped because the queue was full
        self._xruns = 0  # callback: PortAudio input_overflow flags
        self._reported = 0  # loop: drops already reported
        self._skipped = 0  # loop: dropped blocks already accounted in the clock
        self._closed = False
        self.error: DeviceError | None = None
        """Set when the stream stopped on its own (device unplugged, server gone)."""

    # -- FrameSource ----------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Frames lost since the stream opened (full queue plus PortAudio overflows)."""
        return self._cb_dropped + self._xruns

    async def start(self) -> None:
        """Open and start the input stream (idempotent)."""
        if self._stream is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._sd = import_sounddevice()
        self.device = resolve_device(self.device_spec, "input")
        self.samplerate, self.channels = self._choose_format(self.device)
        blocksize = round(FRAME_SAMPLES * self.samplerate / SAMPLE_RATE)
        try:
            with pulse_route(self.device, "input"):
                self._stream = self._sd.InputStream(
                    device=self.device.index,
                    samplerate=self.samplerate,
                    channels=self.channels,
                    dtype="float32",
                    blocksize=blocksize,
                    latency=self.latency,
                    callback=self._callback,
                    finished_callback=self._stream_finished,
                )
            self._assembler = FrameAssembler(self.samplerate)
            self._stream.start()
        except Exception as exc:  # sounddevice.PortAudioError
            self._stream = None
            raise DeviceError(
                f"Cannot open input device {self.device.name!r}: {exc}",
                hint="choose another with --input-device (see `voiceloop devices`)",
                kind="input",
            ) from exc

    async def frames(self) -> AsyncIterator[AudioFrame]:
        """Frames as they are captured, until :meth:`aclose`."""
        await self.start()
        assert self._assembler is not None
        while True:
            while not self._items:
                self._wake.clear()
                await self._wake.wait()
            item = self._items.popleft()
            self._taken += 1
            if item is None:
                self._report_drops()  # nothing lost goes unreported, even at the end
                if self.error is not None:
                    raise self.error
                return
            block, adc_time, dropped_before = item
            if dropped_before > self._skipped:
                # Blocks were lost just before this one: keep the sample-count clock true
                # (it is the clock when the device gives no timestamps).
                self._assembler.skip((dropped_before - self._skipped) * len(block))
                self._skipped = dropped_before
            self._report_drops()
            for frame in self._assembler.push(block, adc_time):
                yield frame

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
                stream.close()
            except Exception:
                pass
        self._items.append(None)
        self._wake.set()

    async def __aenter__(self) -> Microphone:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def time(self) -> float:
        """The capture stream's clock, comparable to frame timestamps."""
        return float(self._stream.time) if self._stream is not None else 0.0

    # -- internals ----------------------------------------------------------------------

    def _choose_format(self, device: DeviceInfo) -> tuple[float, int]:
        found = input_format(self._sd, device, SAMPLE_RATE)
        if found is not None:
            return found
        raise DeviceError(
            f"Input device {device.name!r} accepts none of 16 kHz mono or its native format.",
            hint="choose another with --input-device (see `voiceloop devices`)",
        )

    def _callback(self, indata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        # PortAudio thread: copy, post, count. Nothing that can block or log.
        if status.input_overflow:
            self._xruns += 1
        if self._sent - self._taken >= self.queue_frames:
            self._cb_dropped += 1
            return
        self._sent += 1
        item = (indata.copy(), float(time.inputBufferAdcTime), self._cb_dropped)
        loop = self._loop
        assert loop is not None  # start() sets it before the stream runs
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(self._deliver, item)

    def _stream_finished(self) -> None:
        # PortAudio thread, once the stream is inactive: expected after aclose(), a
        # device failure otherwise. Either way the frame iterator must not wait forever.
        loop = self._loop
        assert loop is not None  # start() sets it before the stream runs
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._end_unexpectedly)

    def _end_unexpectedly(self) -> None:
        if self._closed:
            return
        self._closed = True
        name = self.device.name if self.device else "?"
        self.error = DeviceError(
            f"The input device {name!r} stopped delivering audio.",
            hint="check the microphone connection or sound server, then start again",
        )
        self._stream = None
        self._items.append(None)
        self._wake.set()

    def _deliver(self, item: _Block) -> None:
        self._items.append(item)
        self._wake.set()

    def _report_drops(self) -> None:
        total = self.dropped
        if total > self._reported:
            now = total - self._reported
            self._reported = total
            if self.on_overflow is not None:
                self.on_overflow(now, total)


class FileSource:
    """Frames from an audio file, as fast as possible or paced at real time.

    Any format soundfile reads, decoded to 16 kHz mono int16 by
    :func:`voiceloop.audio.formats.load_speech` (errors are ``AudioDecodeError``).

    Timestamps are the sample position / 16000, so the first frame is at 0.0. The last
    partial frame is padded with silence.
    """

    def __init__(self, path: str | Path, *, realtime: bool = False) -> None:
        self.path = Path(path)
        self.realtime = realtime
        self._closed = False
        self._samples: np.ndarray | None = None

    @property
    def dropped(self) -> int:
        return 0

    @property
    def duration(self) -> float:
        """Length of the decoded audio in seconds (decodes on first use)."""
        return len(self._load()) / SAMPLE_RATE

    def _load(self) -> np.ndarray:
        if self._samples is None:
            self._samples = load_speech(self.path)
        return self._samples

    async def frames(self) -> AsyncIterator[AudioFrame]:
        samples = self._load()
        assembler = FrameAssembler(SAMPLE_RATE)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        step = FRAME_SAMPLES * 8
        sent = 0
        for pos in range(0, len(samples), step):
            batch = assembler.push(samples[pos : pos + step])
            if pos + step >= len(samples):
                batch += assembler.finish()
            for frame in batch:
                if self._closed:
                    return
                sent += 1
                if self.realtime:
                    # A frame is "captured" once its last sample has arrived.
                    delay = t0 + sent * FRAME_SAMPLES / SAMPLE_RATE - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                else:
                    await asyncio.sleep(0)
                yield frame

    async def aclose(self) -> None:
        self._closed = True
