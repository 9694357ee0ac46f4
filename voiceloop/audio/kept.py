"""The engine's side of the early microphone: a :class:`Microphone` that takes over an
:class:`~voiceloop.audio.early.EarlyCapture` stream, backlog first.

Frames of the backlog carry their own capture times, so what was said while the program
started is endpointed and transcribed like any other speech. Until the backlog has been
consumed the hand-over queue may hold all of it; after that the microphone's usual bound
applies.
"""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np

from voiceloop.audio.capture import Microphone, OverflowCallback
from voiceloop.audio.early import EarlyCapture


class KeptMicrophone(Microphone):
    """A microphone whose stream was opened at launch (see :mod:`voiceloop.audio.early`)."""

    def __init__(
        self,
        early: EarlyCapture,
        *,
        queue_frames: int = 64,
        on_overflow: OverflowCallback | None = None,
    ) -> None:
        super().__init__(early.device_spec, queue_frames=queue_frames, on_overflow=on_overflow)
        self.early = early
        self.opened_at = early.opened_at
        self._catch_up = 0

    async def start(self) -> None:
        """Take the early stream over (idempotent); its backlog is delivered first."""
        if self._stream is not None or self._closed:
            return
        from voiceloop.audio.framing import FrameAssembler

        early = self.early
        self._loop = asyncio.get_running_loop()
        self.device = early.device
        self.samplerate, self.channels = early.samplerate, early.channels
        self._assembler = FrameAssembler(self.samplerate)
        self._stream = early.stream
        self._cb_dropped = early.dropped
        backlog = early.hand_over(self._post_threadsafe, self._stream_finished)
        for data, adc_time, overflow in backlog:
            self._xruns += overflow
            self._sent += 1
            self._items.append((self._block(data), adc_time, self._cb_dropped))
        self._catch_up = self._sent
        if backlog:
            self._wake.set()

    def time(self) -> float:
        stream = self._stream
        return float(stream.time) if stream is not None else 0.0

    def _block(self, data: bytes) -> np.ndarray:
        return np.frombuffer(data, dtype=np.float32).reshape(-1, self.channels)

    def _post_threadsafe(self, data: bytes, adc_time: float, overflow: bool) -> None:
        # PortAudio thread, after the take-over: the same bounded hand-over as Microphone.
        if overflow:
            self._xruns += 1
        limit = self.queue_frames if self._taken >= self._catch_up else self._catch_up + 64
        if self._sent - self._taken >= limit:
            self._cb_dropped += 1
            return
        self._sent += 1
        item = (self._block(data), adc_time, self._cb_dropped)
        loop = self._loop
        assert loop is not None  # start() sets it before the stream is taken over
        with contextlib.suppress(RuntimeError):  # the loop is closed
            loop.call_soon_threadsafe(self._deliver, item)
