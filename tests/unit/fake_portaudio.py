"""A fake sounddevice: streams that record how they were opened and take pushed blocks."""

from __future__ import annotations

import types

import numpy as np

from voiceloop.frames import FRAME_SAMPLES


class FakeStream:
    """An input stream (``InputStream`` or ``RawInputStream``) that never runs by itself."""

    def __init__(self, **kwargs) -> None:
        self.kwargs = kwargs
        self.callback = kwargs["callback"]
        self.finished = kwargs.get("finished_callback")
        self.time = 0.0
        self.started = self.closed = False

    def start(self) -> None:
        self.started = True

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True

    def push(self, value: float, adc: float, overflow: bool = False) -> None:
        """One raw float32 block of ``value`` stamped ``adc``, as PortAudio calls back."""
        data = np.full(FRAME_SAMPLES, value, np.float32).tobytes()
        self.callback(data, FRAME_SAMPLES, stamp(adc), status(overflow))


def status(overflow: bool = False) -> types.SimpleNamespace:
    return types.SimpleNamespace(input_overflow=overflow)


def stamp(t: float) -> types.SimpleNamespace:
    return types.SimpleNamespace(inputBufferAdcTime=t)


def fake_sd(supports_16k: bool = True) -> types.SimpleNamespace:
    """The module's stand-in; ``supports_16k=False``: a device that takes only its native
    rate and channel count. Every stream opened is in ``.opened``."""
    opened: list[FakeStream] = []

    def check_input_settings(device, samplerate, channels, dtype):
        if samplerate == 16000 and not supports_16k:
            raise ValueError("Invalid sample rate")
        if channels == 1 and not supports_16k:
            raise ValueError("Invalid number of channels")

    def open_stream(**kwargs):
        opened.append(FakeStream(**kwargs))
        return opened[-1]

    return types.SimpleNamespace(
        check_input_settings=check_input_settings,
        InputStream=open_stream,
        RawInputStream=open_stream,
        opened=opened,
    )
