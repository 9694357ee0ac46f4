"""Echo cancellation figures, printed as JSON.

    uv run python benchmarks/duplex.py [--seconds 8]

- ``echo_suppression_db``: mic power over canceller output power once converged (last
  half), in a simulated room (the speaker heard 30/45/60 ms late at -6/-12 dB, blocks
  tapped as a 48 kHz speaker plays them), per (delay, gain).
- ``cpu_ms_per_s``: CPU milliseconds per second of listening through the canceller,
  and through the reference lookup alone (echo cancellation off costs nothing: the
  source is not wrapped).
- ``barge_in_reaction_ms`` and ``false_interruption_resume_rate``: null here; measured on
  the PulseAudio echo bench by ``tests/e2e/test_echo_devices.py``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from voiceloop.audio.echo import EchoCancellingSource, PlaybackReference, make_processor
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

OUT_RATE, BLOCK = 48_000, 512


def speechlike(seconds: float, seed: int, pitch: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(pitch * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))) / SAMPLE_RATE
    voice = sum(np.sin(k * phase + rng.uniform(0, 6)) / k for k in range(1, 12))
    on = (np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6)) > -0.3).astype(float)
    return 0.25 * voice * np.convolve(on, np.ones(160) / 160, "same")


def run(seconds: float, delay_s: float, gain_db: float, cancel: bool) -> tuple[float, float]:
    """(suppression dB, CPU ms per second of audio)."""
    far = speechlike(seconds, 1, 190.0)
    d = int(delay_s * SAMPLE_RATE)
    mic = np.zeros_like(far)
    mic[d:] = far[:-d] * 10 ** (gain_db / 20)
    noise = np.random.default_rng(9).normal(0, 20, len(mic))
    pcm = np.clip(mic * 32767 + noise, -32768, 32767).astype(np.int16)
    far48 = np.repeat(far, 3).astype(np.float32)
    played = [(far48[i : i + BLOCK, None], 10.0 + i / OUT_RATE)
              for i in range(0, len(far48) - BLOCK + 1, BLOCK)]  # fmt: skip
    reference = PlaybackReference()
    source = EchoCancellingSource(object(), reference, processor=make_processor())
    out, cpu = [], 0.0
    for i in range(0, len(pcm) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = AudioFrame(pcm=pcm[i : i + FRAME_SAMPLES], time=10.0 + i / SAMPLE_RATE, level_db=0)
        while played and played[0][1] < frame.time + 0.1:
            block, at = played.pop(0)
            reference.tap(block, at, OUT_RATE)
        start = time.process_time()
        if cancel:
            out.append(source.process(frame).pcm)
        else:
            reference.window(frame.time, FRAME_SAMPLES)
            out.append(frame.pcm)
        cpu += time.process_time() - start
    got = np.concatenate(out).astype(np.float64)
    half = slice(len(got) // 2, None)
    suppression = 10 * np.log10(
        np.mean(pcm[: len(got)][half].astype(float) ** 2) / np.mean(got[half] ** 2)
    )
    return float(suppression), cpu / seconds * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    suppression = {}
    for delay in (0.030, 0.045, 0.060):
        for gain in (-6.0, -12.0):
            db, _ = run(args.seconds, delay, gain, cancel=True)
            suppression[f"{delay * 1000:.0f}ms_{gain:.0f}dB"] = round(db, 1)
    _, with_aec = run(args.seconds, 0.045, -8.0, cancel=True)
    _, without = run(args.seconds, 0.045, -8.0, cancel=False)
    cpu = {"echo_cancellation": round(with_aec, 2), "reference_only": round(without, 2)}
    print(json.dumps({
        "echo_suppression_db": suppression,
        "cpu_ms_per_s": cpu,
        "barge_in_reaction_ms": None,
        "false_interruption_resume_rate": None,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
