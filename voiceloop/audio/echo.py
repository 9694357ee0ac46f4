"""Echo cancellation: the assistant's own voice taken out of the microphone signal.

The speaker's PortAudio callback hands each block it writes, with the DAC time of its
first sample, to a :class:`PlaybackReference`. PortAudio stamps input and output streams
on one clock, so a captured frame stamped ``t`` heard whatever the speaker emitted at
``t`` (plus the room's acoustic delay, which WebRTC's AEC3 estimates itself). The
:class:`EchoCancellingSource` wraps a frame source and, for each frame, gives AEC3 the
reference samples for the same instant — so the alignment follows the playback stream's
own timing, including the restart after a flush. Only whole blocks cross threads (a
deque's append/popleft are atomic), and the callback does no resampling.
"""

from __future__ import annotations

import collections
import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import soxr

from voiceloop.audio.double_talk import LATER_S, SOONER_S, DoubleTalkDetector
from voiceloop.audio.echo_path import EchoPath
from voiceloop.audio.framing import level_db
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

log = logging.getLogger(__name__)

_KEEP_S = 3.0  # reference kept behind the newest block: more than EchoPath.MAX_DELAY_S
_BULK_MARGIN_S = 0.030  # the echo is left this late after the shifted reference, for AEC3
_BULK_STEP_S = 0.020  # a new delay moves the reference only when it differs by more
_MAX_BLOCKS = 4096  # bound on blocks waiting for the loop, should it stall
_BLOCK = SAMPLE_RATE // 100  # what AEC3 processes at a time: 10 ms
REBUFFER_LAG = _BLOCK
"""Samples the canceller's output lags its input by, on top of AEC3's own 8 ms."""
ECHO_ONLY = 0.5
"""Correlation with the delayed reference above which a stretch of microphone signal is
the echo alone: 0.55-0.98 measured for the echo alone on the bench under a busy 2-core
load (its lag moving), while a whole utterance spoken over an echo 6-8 dB below it scored
0.38 at the median and 0.49 at most (the echo's share of the power)."""


class PlaybackReference:
    """What the speaker played, on the speaker's clock, at 16 kHz mono.

    :meth:`tap` is called from the output callback; :meth:`window` on the event loop.
    """

    def __init__(self) -> None:
        self._pending: collections.deque[tuple[float, int, np.ndarray]] = collections.deque()
        self._start: float | None = None  # clock time of _buf[0]
        self._buf = np.zeros(0, dtype=np.float32)
        self.blocks = 0
        self._stream: Any = None  # a streaming resampler: per-block ones ring at the edges
        self._stream_rate = 0
        self._next_in = 0.0  # clock time the next contiguous block would start
        self._write_at = 0.0  # clock time of the resampler's next output sample

    def tap(self, samples: np.ndarray, dac_time: float, rate: int) -> None:
        """Record one output block (``frames × channels`` float) starting at ``dac_time``."""
        if len(self._pending) >= _MAX_BLOCKS:
            return
        mono = samples[:, 0] if samples.ndim == 2 else samples
        self._pending.append((dac_time, rate, np.array(mono, dtype=np.float32)))

    def _absorb(self) -> None:
        while self._pending:
            at, rate, block = self._pending.popleft()
            self.blocks += 1
            contiguous = (
                self._stream is not None
                and self._stream_rate == rate
                and abs(at - self._next_in) < 0.002
            )
            if not contiguous:  # the first block, or the stream restarted (a flush)
                self._stream = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="float32")
                self._stream_rate, self._write_at = rate, at
            self._next_in = at + len(block) / rate
            pcm = self._stream.resample_chunk(block)
            self._write(self._write_at, pcm)
            self._write_at += len(pcm) / SAMPLE_RATE
        excess = len(self._buf) - int(_KEEP_S * SAMPLE_RATE)
        if excess > 0 and self._start is not None:
            self._buf = self._buf[excess:]
            self._start += excess / SAMPLE_RATE

    def _write(self, at: float, pcm: np.ndarray) -> None:
        if self._start is None or len(self._buf) == 0 or at < self._start:
            self._start, self._buf = at, pcm.astype(np.float32)
            return
        offset = round((at - self._start) * SAMPLE_RATE)
        end = offset + len(pcm)
        if end > len(self._buf):
            self._buf = np.concatenate([self._buf, np.zeros(end - len(self._buf), np.float32)])
        self._buf[offset:end] = pcm

    def window(self, at: float, n: int) -> np.ndarray:
        """``n`` samples (int16) the speaker emitted from clock time ``at``; silence where
        nothing was played."""
        self._absorb()
        out = np.zeros(n, dtype=np.float32)
        if self._start is not None and len(self._buf):
            offset = round((at - self._start) * SAMPLE_RATE)
            lo, hi = max(0, offset), min(len(self._buf), offset + n)
            if hi > lo:
                out[lo - offset : hi - offset] = self._buf[lo:hi]
        result: np.ndarray = np.clip(out * 32767.0, -32768, 32767).astype(np.int16)
        return result


def make_processor(*, noise_suppression: bool = False) -> Any:
    """WebRTC's audio processing (AEC3, optionally its noise suppressor) at 16 kHz mono."""
    import pywebrtc_audio

    return pywebrtc_audio.AudioProcessor(
        sample_rate=SAMPLE_RATE,
        num_channels=1,
        echo_cancellation=True,
        noise_suppression=noise_suppression,
        high_pass_filter=True,
    )


class EchoCancellingSource:
    """A :class:`~voiceloop.audio.base.FrameSource` whose frames have the echo of
    ``reference`` removed. Everything else (``dropped``, ``realtime``, closing) is the
    wrapped source's."""

    def __init__(
        self,
        source: Any,
        reference: PlaybackReference,
        *,
        noise_suppression: bool = False,
        processor: Any = None,
    ) -> None:
        self.source = source
        self.reference = reference
        self.noise_suppression = noise_suppression
        self._processor = processor
        self.frames_processed = 0
        self.cancels_echo = True
        self.path = EchoPath()
        self.bulk_delay_s = 0.0
        """How far the reference is moved back before AEC3 (see :meth:`process`)."""
        self.double_talk = DoubleTalkDetector()
        self._near_in = np.zeros(0, np.int16)  # samples not yet in a whole 10 ms block
        self._far_in = np.zeros(0, np.int16)
        self._out = np.zeros(REBUFFER_LAG, np.int16)  # processed, not yet handed on
        self.record: list[tuple[float, np.ndarray, np.ndarray, np.ndarray]] | None = None
        """Set to a list to keep every frame's (time, mic, reference, output)."""

    @property
    def realtime(self) -> bool:
        return bool(getattr(self.source, "realtime", True))

    @property
    def dropped(self) -> int:
        return int(getattr(self.source, "dropped", 0) or 0)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    async def frames(self) -> AsyncIterator[AudioFrame]:
        if self._processor is None:
            self._processor = make_processor(noise_suppression=self.noise_suppression)
        async for frame in self.source.frames():
            yield self.process(frame)

    def process(self, frame: AudioFrame) -> AudioFrame:
        """One frame with its echo removed (same time stamp, level recomputed).

        The echo path's measured delay, less a margin, is taken out of the reference
        before AEC3 sees it: its own delay estimator then only has the room's few tens of
        milliseconds to find, however late the sound server's stamps are."""
        now = self.reference.window(frame.time, FRAME_SAMPLES)
        far = self.reference.window(frame.time - self.bulk_delay_s, FRAME_SAMPLES)
        near = np.asarray(frame.pcm, dtype=np.int16)
        cancelled = self._cancel(near, far)
        heard = self.path.push(near, now, frame.time)
        pcm = cancelled if heard else near
        talk = heard and self._double_talk(near, frame.time)
        if heard and self.path.delay_s is not None:
            bulk = max(0.0, self.path.delay_s - _BULK_MARGIN_S)
            if abs(bulk - self.bulk_delay_s) > _BULK_STEP_S:
                self.bulk_delay_s = bulk
        self.frames_processed += 1
        if self.record is not None:
            self.record.append((frame.time, near, now, pcm))
        return AudioFrame(pcm=pcm, time=frame.time, level_db=level_db(pcm), double_talk=talk)

    def _cancel(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        """AEC3 on whole 10 ms blocks: given a frame that is not a multiple of 10 ms, the
        processor pads its remainder with zeros and the output frame starts with 8 ms of
        near silence. The frame's samples are rebuffered instead, so the output lags by
        one 10 ms block (on top of AEC3's own 8 ms)."""
        self._near_in = np.concatenate([self._near_in, near])
        self._far_in = np.concatenate([self._far_in, far])
        whole = len(self._near_in) // _BLOCK * _BLOCK
        if whole:
            out = self._processor.process(self._near_in[:whole], self._far_in[:whole])
            done = np.clip(np.rint(np.asarray(out, np.float64).ravel()), -32768, 32767)
            self._out = np.concatenate([self._out, done.astype(np.int16)])
            self._near_in, self._far_in = self._near_in[whole:], self._far_in[whole:]
        frame, self._out = self._out[: len(near)], self._out[len(near) :]
        return frame

    def _double_talk(self, near: np.ndarray, at: float) -> bool:
        delay = self.path.delay_s
        if delay is None:
            return False
        later, sooner = round(LATER_S * SAMPLE_RATE), round(SOONER_S * SAMPLE_RATE)
        far = self.reference.window(at - delay - LATER_S, FRAME_SAMPLES + later + sooner)
        cum = np.concatenate([[0.0], np.cumsum(far.astype(np.float64) ** 2)])
        windows = (cum[FRAME_SAMPLES:] - cum[:-FRAME_SAMPLES]) / FRAME_SAMPLES
        # The path's own threshold: the gain's median shrugs off some speech over the
        # echo, and with a stricter one noisy stamps left no gain at all (and no detector).
        echo_only = self.path.correlation >= EchoPath.THRESHOLD
        return self.double_talk.push(
            near, float(windows[later]), float(np.max(windows)), echo_only=echo_only
        )

    def echo_heard(self) -> bool:
        """True while the microphone hears the speaker's echo (the path is placed)."""
        return self.path.delay_s is not None and self.path.is_heard(self.path.latest)

    def echo_only(
        self,
        start: float,
        end: float | None = None,
        threshold: float = 0.0,
        *,
        last_s: float | None = None,
    ) -> bool:
        """True when the microphone heard nothing but the speaker's echo from ``start`` to
        ``end`` (capture clock, None: the latest frame; see :meth:`EchoPath.explained`);
        with ``last_s``, only that much before ``end`` is judged."""
        end = self.path.latest if end is None else end
        if last_s is not None:
            start = max(start, end - last_s)
        r = self.path.explained(start, end)
        log.debug("echo check %.2f-%.2f: correlation %s at %s s", start, end, r, self.path.delay_s)
        return r is not None and r >= (threshold or ECHO_ONLY)

    async def aclose(self) -> None:
        await self.source.aclose()


def cancel_echo(source: Any, sink: Any, *, noise_suppression: bool = False) -> Any:
    """``source`` with the echo of what ``sink`` plays removed, when the sink can report
    what it plays (a speaker) and the source is live; else ``source`` itself."""
    if not hasattr(sink, "reference_tap") or not getattr(source, "realtime", True):
        return source
    reference = PlaybackReference()
    sink.reference_tap = reference.tap
    return EchoCancellingSource(source, reference, noise_suppression=noise_suppression)
