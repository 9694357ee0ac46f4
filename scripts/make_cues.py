"""Synthesise the "listening" and "done" cue sounds into assets/.

Each cue is two soft bell-like notes (a sine with a quiet octave partial), about 150 ms
long, with a raised-cosine attack and an exponential release so there is no click:
"listening" rises (E5 → A5), "done" falls (A5 → E5). Run from the repository root:

    uv run python scripts/make_cues.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

RATE = 48_000
PEAK = 0.35


def note(freq: float, seconds: float, *, attack: float = 0.008, decay: float = 18.0) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    tone = np.sin(2 * np.pi * freq * t) + 0.18 * np.sin(2 * np.pi * 2 * freq * t)
    env = np.exp(-decay * t)
    n_attack = round(attack * RATE)
    env[:n_attack] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(n_attack) / n_attack)
    n_release = round(0.012 * RATE)
    env[-n_release:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(n_release) / n_release)
    return tone * env


def cue(first: float, second: float) -> np.ndarray:
    a = note(first, 0.075)
    b = note(second, 0.085)
    overlap = round(0.010 * RATE)
    out = np.zeros(len(a) + len(b) - overlap)
    out[: len(a)] += a
    out[len(a) - overlap :] += b
    return (PEAK * out / np.abs(out).max()).astype(np.float32)


def main() -> None:
    assets = Path(__file__).resolve().parent.parent / "assets"
    assets.mkdir(exist_ok=True)
    e5, a5 = 659.25, 880.0
    for name, samples in (("listening", cue(e5, a5)), ("done", cue(a5, e5))):
        path = assets / f"cue_{name}.wav"
        soundfile.write(str(path), samples, RATE, subtype="PCM_16")
        print(f"{path} ({len(samples) / RATE * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
