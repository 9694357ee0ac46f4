"""Turn blocks of any rate and channel count into fixed 32 ms frames at 16 kHz mono.

Used by both the microphone (on the event-loop side, never in the PortAudio callback)
and the file source, so both produce exactly the same frames.
"""

from __future__ import annotations

import math

import numpy as np
import soxr

from voiceloop.audio.formats import to_int16
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

SILENCE_DB = -100.0
_REANCHOR_S = 0.020
"""Follow the device clock only when it disagrees with the sample count by this much
(a dropped block, clock drift); small jitter of the reported times is ignored."""


def level_db(pcm: np.ndarray) -> float:
    """RMS level of int16 (or float in [-1, 1]) samples in dBFS, clamped at -100."""
    if pcm.size == 0:
        return SILENCE_DB
    x = pcm.astype(np.float64)
    if pcm.dtype == np.int16:
        x /= 32768.0
    rms = math.sqrt(float(np.mean(x * x)))
    if rms <= 1e-5:
        return SILENCE_DB
    return max(SILENCE_DB, 20.0 * math.log10(rms))


def to_mono_float(block: np.ndarray) -> np.ndarray:
    """Average the channels of a (frames, channels) or (frames,) block into float32 mono."""
    if block.dtype == np.int16:
        block = block.astype(np.float32) / 32768.0
    elif block.dtype != np.float32:
        block = block.astype(np.float32)
    if block.ndim == 2:
        block = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1, dtype=np.float32)
    return np.ascontiguousarray(block, dtype=np.float32)


class FrameAssembler:
    """Accumulates audio blocks and cuts them into :class:`AudioFrame` s.

    ``push(block, time)`` takes a block at ``in_rate`` (any channel count) and the stream
    time of its first sample (``None`` when unknown: the sample count is the clock) and
    returns the whole frames now complete. Frame times are the stream time of each
    frame's first sample.
    """

    def __init__(self, in_rate: float, *, start_time: float = 0.0) -> None:
        self.in_rate = float(in_rate)
        self._resampler = (
            None
            if round(self.in_rate) == SAMPLE_RATE
            else soxr.ResampleStream(self.in_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        )
        self._pending = np.zeros(0, dtype=np.float32)
        self._in_count = 0  # input samples pushed so far
        self._out_count = 0  # 16 kHz samples emitted as frames so far
        self._anchor_in = 0
        self._anchor_time = start_time
        self._anchored = False
        self._suspect: float | None = None
        self._last_time: float | None = None

    def push(self, block: np.ndarray, time: float | None = None) -> list[AudioFrame]:
        mono = to_mono_float(block)
        self._follow_clock(time)
        self._in_count += len(mono)
        out = mono if self._resampler is None else self._resampler.resample_chunk(mono)
        return self._cut(out)

    def finish(self) -> list[AudioFrame]:
        """Flush the resampler and pad the last partial frame with silence."""
        tail = (
            np.zeros(0, dtype=np.float32)
            if self._resampler is None
            else self._resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
        )
        frames = self._cut(tail)
        if len(self._pending):
            pad = np.zeros(FRAME_SAMPLES - len(self._pending), dtype=np.float32)
            frames += self._cut(pad)
        return frames

    def skip(self, samples: int) -> None:
        """Account for ``samples`` input samples that were lost (so the clock stays true)."""
        self._anchor_time += samples / self.in_rate

    def _follow_clock(self, time: float | None) -> None:
        if time is None or time <= 0:
            return
        if not self._anchored:
            self._anchor_in, self._anchor_time, self._anchored = self._in_count, time, True
            return
        expected = self._anchor_time + (self._in_count - self._anchor_in) / self.in_rate
        off = time - expected
        if abs(off) <= _REANCHOR_S:
            self._suspect = None
            return
        # Devices sometimes stamp a single block a block early or late; follow the clock
        # only when two blocks in a row agree that it moved.
        if self._suspect is not None and abs(off - self._suspect) <= _REANCHOR_S / 2:
            self._anchor_in, self._anchor_time = self._in_count, time
            self._suspect = None
        else:
            self._suspect = off

    def _time_of_out(self, out_index: int) -> float:
        in_pos = out_index * self.in_rate / SAMPLE_RATE
        return self._anchor_time + (in_pos - self._anchor_in) / self.in_rate

    def _cut(self, samples: np.ndarray) -> list[AudioFrame]:
        if len(samples):
            self._pending = np.concatenate([self._pending, samples.astype(np.float32)])
        frames = []
        while len(self._pending) >= FRAME_SAMPLES:
            chunk, self._pending = (
                self._pending[:FRAME_SAMPLES],
                self._pending[FRAME_SAMPLES:],
            )
            pcm = to_int16(chunk)
            time = self._time_of_out(self._out_count)
            if self._last_time is not None:
                # A device clock that stepped back never makes frames overlap in time.
                time = max(time, self._last_time + FRAME_SAMPLES / SAMPLE_RATE)
            self._last_time = time
            frames.append(AudioFrame(pcm=pcm, time=time, level_db=level_db(pcm)))
            self._out_count += FRAME_SAMPLES
        return frames


def to_rate(pcm: np.ndarray, rate: int, target: int) -> np.ndarray:
    """float32 mono at ``target`` Hz (soxr), clipped to [-1, 1]."""
    x = np.asarray(pcm, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float32)
    if rate != target and len(x):
        x = soxr.resample(x, rate, target, quality="HQ").astype(np.float32)
    return np.clip(x, -1.0, 1.0)


class StreamResampler:
    """Resamples consecutive chunks as one continuous signal (``soxr.ResampleStream``).

    Resampling each chunk on its own treats the audio beyond its ends as silence, so every
    join carries a small step, heard as a click. The stream sees the real neighbours
    instead; the price is that it holds back the last few milliseconds of what it was fed
    until more arrives or :meth:`finish` releases them. A change of input rate finishes
    the old stream first.
    """

    def __init__(self, target: int, *, quality: str = "HQ") -> None:
        self.target = target
        self.quality = quality
        self._rate: int | None = None
        self._stream: soxr.ResampleStream | None = None
        self._fed = 0  # input samples since the continuous signal began

    def expected(self, n: int, rate: int) -> int:
        """How many output samples ``n`` more input samples at ``rate`` amount to."""
        fed = self._fed if rate == self._rate else 0
        return round((fed + n) * self.target / rate) - round(fed * self.target / rate)

    @property
    def holding(self) -> bool:
        """Whether audio fed in may still be held back (release it with :meth:`finish`)."""
        return self._stream is not None

    def feed(self, pcm: np.ndarray, rate: int) -> np.ndarray:
        """float32 mono at the target rate, in [-1, 1]: what can be released of ``pcm``
        (and of any earlier audio held back)."""
        x = np.asarray(pcm, dtype=np.float32)
        if x.ndim == 2:
            x = x.mean(axis=1, dtype=np.float32)
        head = self.finish() if rate != self._rate else np.zeros(0, np.float32)
        self._fed += len(x)
        if rate == self.target:
            self._rate = rate
            out = np.concatenate([head, x]) if len(head) else x
            return np.clip(out, -1.0, 1.0)
        if self._stream is None:
            self._stream = soxr.ResampleStream(
                rate, self.target, 1, dtype="float32", quality=self.quality
            )
            self._rate = rate
        out = self._stream.resample_chunk(x, last=False)
        if len(head):
            out = np.concatenate([head, out])
        return np.clip(out.astype(np.float32, copy=False), -1.0, 1.0)

    def finish(self) -> np.ndarray:
        """End the continuous signal: release what is held back."""
        stream, self._stream, self._rate, self._fed = self._stream, None, None, 0
        if stream is None:
            return np.zeros(0, np.float32)
        tail = stream.resample_chunk(np.zeros(0, np.float32), last=True)
        result: np.ndarray = np.clip(tail.astype(np.float32, copy=False), -1.0, 1.0)
        return result

    def reset(self) -> None:
        """Drop what is held back (playback was stopped)."""
        self._stream, self._rate, self._fed = None, None, 0
