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
from voiceloop.audio.framing import level_db
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

log = logging.getLogger(__name__)

_KEEP_S = 3.0  # reference kept behind the newest block: more than EchoPath.MAX_DELAY_S
_BULK_MARGIN_S = 0.030  # the echo is left this late after the shifted reference, for AEC3
_BULK_STEP_S = 0.020  # a new delay moves the reference only when it differs by more
_MAX_BLOCKS = 4096  # bound on blocks waiting for the loop, should it stall
_DECIMATE = 4  # the echo path is looked for at 4 kHz
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


def _decimate(pcm: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.asarray(pcm, np.float32).reshape(-1, _DECIMATE).mean(axis=1)
    return out


def _reach(score: np.ndarray, drift: int) -> np.ndarray:
    """For each lag, the best of ``score`` within ``drift`` lags of it."""
    padded = np.pad(score, drift, constant_values=-np.inf)
    reached: np.ndarray = np.lib.stride_tricks.sliding_window_view(padded, 2 * drift + 1).max(1)
    return reached


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


class EchoPath:
    """Whether the microphone hears the speaker at all, and with what delay.

    AEC3 suppresses the near end heavily until it has an echo to converge on: with no
    echo path (headphones, or a room that does not carry the sound) it would silence the
    user. So its output is used only while the microphone signal correlates with the
    reference; otherwise the frames pass as captured.
    """

    WINDOW_S = 1.5
    MAX_DELAY_S = 2.0  # sound servers' latency reports can be off by a second under load
    THRESHOLD = 0.3
    HOLD_S = 3.0
    SLACK_S = 0.050
    PIECE_S = 0.050
    DRIFT_S = 0.006  # a 256-sample block at 44.1-48 kHz, and then some
    JUMP_S = 0.100
    CONFIRM_S = 0.020
    """A delay more than ``JUMP_S`` from that of an echo heard just now is taken only when
    the next measurement finds it again within ``CONFIRM_S``: right after a pause the
    speaker's last words before it matched the microphone at 1.2 s once (0.42), against a
    room of 50 ms. A sound server's lag that really moves is followed a look later."""
    PAST_S = 12.0  # kept for :meth:`explained`: an utterance and the echo delay before it

    def __init__(self) -> None:
        n = int((self.WINDOW_S + self.MAX_DELAY_S) * SAMPLE_RATE)
        self._near = np.zeros(n, np.float32)
        self._far = np.zeros(n, np.float32)
        self._frames = 0
        self._last_seen: float | None = None
        self.delay_s: float | None = None
        """The last echo delay found (seconds), while an echo is heard."""
        self.correlation = 0.0
        self._candidate: float | None = None  # a far delay waiting to be found again
        past = int(self.PAST_S * SAMPLE_RATE) // _DECIMATE
        self._past_near = np.zeros(past, np.float32)  # the microphone at 4 kHz, as captured
        self._past_far = np.zeros(past, np.float32)
        self._past_end = 0.0

    def explained(self, start: float, end: float) -> float | None:
        """How well the speaker's sound, at about the echo delay, explains what the
        microphone captured from ``start`` to ``end`` (capture clock): the normalised
        correlation of each ``PIECE_S`` with the speaker's sound at a lag within
        ``SLACK_S`` of the delay, averaged by loudness, along the lags that explain most
        when each piece's lag is at most ``DRIFT_S`` from the last one's. Near 1 when it
        was the echo alone, far lower when someone spoke over it. None with no echo path,
        or too little kept.

        The lag is followed rather than fixed because a sound server's lag moves under
        load in steps of a few milliseconds (a late block of either stream), several in a
        second; one lag over a quarter second then explained the echo alone at 0.2-0.4.
        Letting each piece take any lag would explain a voice better by chance."""
        if self.delay_s is None or not self.is_heard(end):
            return None
        rate = SAMPLE_RATE // _DECIMATE
        size = len(self._past_near)
        d, slack = round(self.delay_s * rate), round(self.SLACK_S * rate)
        step, drift = round(self.PIECE_S * rate), round(self.DRIFT_S * rate)
        a = max(size - round((self._past_end - start) * rate), d + slack)
        b = min(size, size - round((self._past_end - end) * rate))
        best: np.ndarray | None = None  # per lag: the loudness-weighted sum along a path
        weight = 0.0
        for lo in range(a, b - step // 2, step):
            hi = min(lo + step, b)
            near = self._past_near[lo:hi].astype(np.float64)
            energy = float(np.dot(near, near))
            if energy < 1e3 * len(near):  # quiet: nothing to explain
                continue
            far = self._past_far[lo - d - slack : hi - d + slack].astype(np.float64)
            # The newest pieces' latest lags may be past what was played: no sound there.
            far = np.pad(far, (0, hi - lo + 2 * slack - len(far)))
            xc = np.correlate(far, near, "valid")  # xc[k]: far from lo - d - slack + k
            cum = np.concatenate([[0.0], np.cumsum(far * far)])
            windows = cum[len(near) :] - cum[: len(xc)]
            r = xc / np.sqrt(np.maximum(windows, 1e-9) * energy)
            best = r * energy if best is None else _reach(best, drift) + r * energy
            weight += energy
        return float(np.max(best)) / weight if best is not None and weight else None

    @property
    def latest(self) -> float:
        """Capture time of the end of the last frame pushed."""
        return self._past_end

    def is_heard(self, at: float) -> bool:
        return self._last_seen is not None and at - self._last_seen < self.HOLD_S

    def push(self, near: np.ndarray, far: np.ndarray, at: float) -> bool:
        """Add one frame; True while an echo of the speaker is in the microphone."""
        k = len(near)
        self._near = np.concatenate([self._near[k:], near.astype(np.float32)])
        self._far = np.concatenate([self._far[k:], far.astype(np.float32)])
        m = k // _DECIMATE
        self._past_near = np.concatenate([self._past_near[m:], _decimate(near)])
        self._past_far = np.concatenate([self._past_far[m:], _decimate(far)])
        self._past_end = at + k / SAMPLE_RATE
        self._frames += 1
        if self._frames % 8 == 0:
            self._measure(at)
        return self.is_heard(at)

    def _measure(self, at: float) -> None:
        # At 4 kHz: 16 times cheaper than at 16 kHz, and 0.25 ms is resolution enough.
        lags = int(self.MAX_DELAY_S * SAMPLE_RATE) // _DECIMATE
        far = self._far.astype(np.float64).reshape(-1, _DECIMATE).mean(axis=1)
        near = self._near.astype(np.float64).reshape(-1, _DECIMATE).mean(axis=1)[lags:]
        energy_far = float(np.dot(far[lags:], far[lags:]))
        if energy_far < 1e3 * len(near) or not near.any():
            self.correlation = 0.0
            return
        size = 1 << int(np.ceil(np.log2(len(far) + len(near))))
        xc = np.fft.irfft(np.fft.rfft(far, size) * np.conj(np.fft.rfft(near, size)), size)
        # xc[k] pairs near[i] with far[i + k]: an echo ``d`` samples late is at k = lags - d.
        lagged = xc[: lags + 1][::-1]
        cum = np.concatenate([[0.0], np.cumsum(far * far)])
        m = len(near)
        windows = cum[np.arange(lags, -1, -1) + m] - cum[np.arange(lags, -1, -1)]
        norm = np.sqrt(np.maximum(windows, 1e-9) * float(np.dot(near, near)))
        r = np.abs(lagged) / norm
        best = int(np.argmax(r))
        self.correlation = float(r[best])
        if self.correlation < self.THRESHOLD:
            return
        delay = best * _DECIMATE / SAMPLE_RATE
        moved = (
            self.delay_s is not None
            and self.is_heard(at)
            and abs(delay - self.delay_s) > self.JUMP_S
        )
        candidate, self._candidate = self._candidate, delay if moved else None
        if moved and (candidate is None or abs(candidate - delay) > self.CONFIRM_S):
            return  # far from an echo heard just now: believed when the next look agrees
        self._last_seen = at
        self.delay_s = delay


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
