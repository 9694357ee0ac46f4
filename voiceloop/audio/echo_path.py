"""Where the speaker's echo is in the microphone signal, and how much of a stretch it
explains.

:class:`EchoPath` cross-correlates the raw microphone with what the speaker played to find
the echo's delay (up to ``MAX_DELAY_S``: a sound server's lag can be a second off), and
keeps both signals at 4 kHz so the interruption guard can ask whether a stretch of speech
was the echo alone (:meth:`EchoPath.explained`). The echo canceller
(:mod:`voiceloop.audio.echo`) moves AEC3's reference by the delay found here.
"""

from __future__ import annotations

import numpy as np

from voiceloop.frames import SAMPLE_RATE

_DECIMATE = 4  # the echo path is looked for at 4 kHz


def _decimate(pcm: np.ndarray) -> np.ndarray:
    out: np.ndarray = np.asarray(pcm, np.float32).reshape(-1, _DECIMATE).mean(axis=1)
    return out


def _reach(score: np.ndarray, drift: int) -> np.ndarray:
    """For each lag, the best of ``score`` within ``drift`` lags of it."""
    padded = np.pad(score, drift, constant_values=-np.inf)
    reached: np.ndarray = np.lib.stride_tricks.sliding_window_view(padded, 2 * drift + 1).max(1)
    return reached


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
