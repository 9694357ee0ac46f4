"""Start-up time of `voiceloop --help` and `voiceloop --version` (median wall time, subprocess).

Run: scripts/uv run python benchmarks/startup.py [--runs N]
Prints JSON. The target for `--help` is under 0.3 s; `python -c pass` is the floor.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.3
HEAVY = ("textual", "numpy", "httpx", "pydantic")


def wall_times(command: list[str], runs: int) -> list[float]:
    subprocess.run(command, capture_output=True, check=True)  # warm the file cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True)
        times.append(time.perf_counter() - start)
    return times


def heavy_modules_loaded_by_help() -> list[str]:
    code = (
        "import sys\nfrom voiceloop.cli import main\nmain(['--help'])\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    last = result.stderr.rstrip("\n").split("\n")[-1]
    return [m for m in last.split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    script = str(Path(sys.executable).with_name("voiceloop"))
    results = {}
    for name, command in {
        "help": [script, "--help"],
        "version": [script, "--version"],
        "python_floor": [sys.executable, "-c", "pass"],
    }.items():
        times = wall_times(command, args.runs)
        results[name] = {
            "median_s": round(statistics.median(times), 4),
            "min_s": round(min(times), 4),
            "max_s": round(max(times), 4),
        }
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "runs": args.runs,
                "target_s": TARGET_S,
                "help_under_target": results["help"]["median_s"] < TARGET_S,
                "heavy_modules_loaded_by_help": heavy_modules_loaded_by_help(),
                **results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
