"""Double talk: a voice in the microphone on top of the speaker's echo.

The voice detector reads the echo canceller's output, and AEC3 suppresses the first
100-150 ms of a voice that starts over a loud reply (it takes the new sound for more echo
at first); with the detector's own ``min_speech_ms`` on top, a barge-in would be heard
late. This detector reads the raw microphone instead: it knows how loud the echo should
be (the speaker's sound at the echo path's delay, times the path's measured gain) and
reports a frame whose energy is well above that. Three such frames in a row are double talk:
the reply can pause at once, before the voice detector has decided anything.

It is an energy test, so a cough or a knock is double talk too; the caller confirms with
the voice detector and resumes the reply when no speech follows.
"""

from __future__ import annotations

import collections

import numpy as np

MARGIN = 2.0
"""Energy over the expected echo, as a factor (3 dB), that makes a frame louder than echo."""
FRAMES = 3
"""Louder frames in a row that make double talk (two let capture glitches on a loaded
machine pause a reply now and then)."""
FLOOR_DB = -50.0
"""A frame quieter than this (dBFS) is never double talk."""
LATER_S = 0.050
"""The echo's delay drifts (sound servers' stamps, and on a loaded machine capture
glitches that misalign microphone and speaker for a frame or two), and a room rings on:
the expected echo is the loudest of the speaker's sound from this much before the
measured delay (an echo arriving later) ..."""
SOONER_S = 0.025
"""... to this much after it (an echo arriving sooner). Less than ``LATER_S``: with 50 ms
both ways a loud syllable of the reply 20-50 ms after a short "Stop." hid the word (two
louder frames, then none) in 2 of 12 barge-ins recorded on a loaded bench, and the reply
went on 0.45 s longer; with 25 ms all 12 were double talk within 0.1 s, and 68 s of the
echo alone in the same recordings never was. (Under load the lag grew in 5 ms steps and
came back, 21 ms at most.)"""
_GAINS = 90  # about 3 s of echo-only frames that the path gain is estimated from
_GAIN_PERCENTILE = 50


def energy(pcm: np.ndarray) -> float:
    """Mean square of ``pcm`` (int16 units)."""
    x = np.asarray(pcm, np.float64)
    return float(np.dot(x, x) / max(len(x), 1))


class DoubleTalkDetector:
    """Feeds on (microphone frame, expected-echo energy) pairs; see the module docstring."""

    def __init__(self) -> None:
        self._gains: collections.deque[float] = collections.deque(maxlen=_GAINS)
        self._run = 0
        self.onsets = 0
        """Double talk reported so far (metrics and tests)."""

    @property
    def gain(self) -> float | None:
        """The echo path's power gain (microphone over speaker energy), once measured."""
        if len(self._gains) < 10:
            return None
        return float(np.percentile(np.asarray(self._gains), _GAIN_PERCENTILE))

    def push(self, near: np.ndarray, far: float, loudest: float, *, echo_only: bool) -> bool:
        """One microphone frame, the speaker's energy at the echo delay (``far``) and the
        loudest from ``LATER_S`` before it to ``SOONER_S`` after; ``echo_only``: the echo
        canceller's measure calls this stretch the echo alone (the frame teaches the
        gain). True on the frame that starts double talk."""
        near_energy = energy(near)
        if echo_only and far > 1e4:  # about -30 dBFS
            self._gains.append(near_energy / far)
        far_energy = loudest
        gain = self.gain
        floor = 32768.0**2 * 10 ** (FLOOR_DB / 10)
        louder = (
            gain is not None and near_energy > floor and near_energy > MARGIN * gain * far_energy
        )
        self._run = self._run + 1 if louder else 0
        if self._run == FRAMES:
            self.onsets += 1
            return True
        return False
