"""Hot-path cost of the history store: the FLAC write and the turn commits.

Run: ``uv run python benchmarks/store_write.py [--turns N] [--seconds S]``; prints JSON
with median and 95th percentile in microseconds.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from voiceloop.store import Store
from voiceloop.store.paths import write_private


def speech_like_flac(seconds: float) -> bytes:
    rng = np.random.default_rng(0)
    rate = 16_000
    t = np.arange(int(seconds * rate)) / rate
    voice = 0.2 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
    pcm = ((voice + 0.02 * rng.standard_normal(t.size)) * 32767 * 0.5).astype(np.int16)
    buf = io.BytesIO()
    soundfile.write(buf, pcm, rate, format="FLAC", subtype="PCM_16")
    return buf.getvalue()


def stats(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_us": round(statistics.median(ordered) * 1e6, 1),
        "p95_us": round(ordered[int(len(ordered) * 0.95) - 1] * 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=4.0)
    args = parser.parse_args()
    flac = speech_like_flac(args.seconds)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "data")
        session = store.open_session("converse")
        writes, begins, updates = [], [], []
        for i in range(args.turns):
            start = time.perf_counter()
            write_private(Path(tmp) / f"raw-{i}.flac", flac)
            writes.append(time.perf_counter() - start)
            start = time.perf_counter()
            turn_id, _ = store.begin_turn(session, "converse", flac, duration=args.seconds)
            begins.append(time.perf_counter() - start)
            start = time.perf_counter()
            store.update_turn(turn_id, transcript="hello there", status="transcribed")
            updates.append(time.perf_counter() - start)
        store.close()
    print(
        json.dumps(
            {
                "flac_bytes": len(flac),
                "audio_seconds": args.seconds,
                "turns": args.turns,
                "flac_write": stats(writes),
                "begin_turn": stats(begins),
                "update_turn": stats(updates),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
