"""Shared bits for the store tests: a controllable clock and real FLAC bytes."""

from __future__ import annotations

import io

import numpy as np
import soundfile

T0 = 1_790_000_000.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def tone_flac(seconds: float = 1.0, freq: float = 440.0, rate: int = 16_000) -> bytes:
    """A sine tone as 16 kHz mono FLAC, the way the engine encodes utterances."""
    t = np.arange(int(seconds * rate)) / rate
    pcm = (0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype(np.int16)
    buf = io.BytesIO()
    soundfile.write(buf, pcm, rate, format="FLAC", subtype="PCM_16")
    return buf.getvalue()
