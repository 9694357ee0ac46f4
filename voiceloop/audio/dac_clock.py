"""The DAC time of each output block, steadier than the stream's own reports.

PortAudio's reported DAC times jitter by a few milliseconds from block to block (the sound
server's estimates), while a stream's samples follow one another. :class:`DacClock` counts
samples since it was anchored and re-anchors only when two blocks in a row disagree with
that count by more than ``JUMP_S`` by about the same amount (a real jump: a restart, an
underrun). Used from an audio callback: no allocation, no locks.
"""

from __future__ import annotations

JUMP_S = 0.020
AGREE_S = 0.010


class DacClock:
    """Feed it each block's reported DAC time; it answers the time to use."""

    def __init__(self) -> None:
        self._base: float | None = None
        self._samples = 0
        self._suspect: float | None = None  # the last block's disagreement, if a big one

    def reset(self) -> None:
        """Anchor afresh on the next block (the stream restarted)."""
        self._base = None

    def block(self, reported: float, frames: int, rate: float) -> float:
        """DAC time of this block's first sample (``frames`` long, at ``rate`` Hz)."""
        if self._base is None:
            self._base, self._samples = reported, 0
        expected = self._base + self._samples / rate
        off = reported - expected
        if abs(off) > JUMP_S:
            if self._suspect is not None and abs(off - self._suspect) <= AGREE_S:
                self._base, self._samples, expected = reported, 0, reported
                self._suspect = None
            else:
                self._suspect = off
        else:
            self._suspect = None
        self._samples += frames
        return expected
