"""Test audio made on the spot: tones, silence, espeak-ng speech."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf


def tone(freq: float, seconds: float, rate: int = 16_000, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, rate: int = 16_000) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.float32)


def voice(seconds: float, rate: int = 16_000) -> np.ndarray:
    """A 220 Hz tone wobbling 3 times a second: what the energy VAD takes for a voice."""
    t = np.arange(int(seconds * rate)) / rate
    wobble = 1 + 0.5 * np.sin(2 * np.pi * 3 * t)
    return (0.3 * np.sin(2 * np.pi * 220 * t) * wobble).astype(np.float32)


def voice_bursts(path: Path, utterances: int = 1, rate: int = 16_000) -> Path:
    """``utterances`` voice-like bursts of 0.8 s, each followed by 1.2 s of silence."""
    parts = [silence(0.5, rate)]
    for _ in range(utterances):
        parts += [voice(0.8, rate), silence(1.2, rate)]
    return write(path, np.concatenate(parts), rate)


def tone_track(
    events: list[tuple[float, float, float]], total: float, rate: int = 16_000
) -> np.ndarray:
    """Silence of ``total`` seconds with tones ``(start, seconds, freq)`` laid in."""
    out = silence(total, rate)
    for start, seconds, freq in events:
        a = int(start * rate)
        piece = tone(freq, seconds, rate)
        out[a : a + len(piece)] = piece[: len(out) - a]
    return out


def write(path: Path, pcm: np.ndarray, rate: int = 16_000, fmt: str | None = None) -> Path:
    sf.write(str(path), pcm, rate, format=fmt)
    return path


ESPEAK_MISSING = "espeak-ng is not installed (system package espeak-ng)"


def espeak(path: Path, text: str) -> Path:
    """Speech by espeak-ng as a WAV at ``path`` (its own rate, 22.05 kHz); the calling test
    is skipped, naming the missing package, when espeak-ng is not installed."""
    import pytest

    exe = shutil.which("espeak-ng")
    if exe is None:
        pytest.skip(ESPEAK_MISSING)
    subprocess.run([exe, "-w", str(path), text], check=True, capture_output=True)
    return path
