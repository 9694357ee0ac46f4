"""Start-up time of `voiceloop --help` and `voiceloop --version` (median wall time, subprocess),
and of `voiceloop dictate --headless` until its microphone is open (``mic_open_s``).

Run: scripts/uv run python benchmarks/startup.py [--runs N]
Prints JSON. The target for `--help` is under 0.3 s; `python -c pass` is the floor.
``mic_open_s`` needs a sound server (the PulseAudio bench: ``eval "$(scripts/audio-bench.sh
start DIR)"``): the time from launch until PulseAudio announces the run's recording
stream, seen through ``pactl subscribe``; it is ``null`` without one.
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.3
MIC_TARGET_S = 0.3
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


def mic_open_times(script: str, runs: int) -> list[float] | None:
    """Seconds from launching ``voiceloop dictate --headless`` to its recording stream."""
    if shutil.which("pactl") is None or not os.environ.get("PULSE_SERVER"):
        return None
    env = {**os.environ, "GROQ_API_KEY": "gsk_benchmark", "GROQ_BASE_URL": "http://127.0.0.1:9"}
    env["VOICELOOP_AUDIO__CUES"] = "false"
    times = []
    for _ in range(runs):
        watch = subprocess.Popen(["pactl", "subscribe"], stdout=subprocess.PIPE, text=True)
        time.sleep(0.3)  # subscribed before the launch
        start = time.perf_counter()
        proc = subprocess.Popen(
            [script, "dictate", "--headless"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            times.append(_wait_for_new_source_output(watch, start, timeout=30.0))
        finally:
            proc.terminate()
            proc.wait()
            watch.terminate()
            watch.wait()
    return times


def _wait_for_new_source_output(watch: subprocess.Popen, start: float, timeout: float) -> float:
    assert watch.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(watch.stdout, selectors.EVENT_READ)
    while time.perf_counter() - start < timeout:
        if selector.select(timeout=0.5):
            line = watch.stdout.readline()
            if "'new' on source-output" in line:
                return time.perf_counter() - start
    raise RuntimeError("the run never opened a recording stream")


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
    mic = mic_open_times(script, max(3, args.runs // 3))
    results["mic_open"] = (
        {
            "median_s": round(statistics.median(mic), 4),
            "min_s": round(min(mic), 4),
            "max_s": round(max(mic), 4),
        }
        if mic
        else None
    )
    print(
        json.dumps(
            {
                "benchmark": "startup",
                "runs": args.runs,
                "target_s": TARGET_S,
                "help_under_target": results["help"]["median_s"] < TARGET_S,
                "heavy_modules_loaded_by_help": heavy_modules_loaded_by_help(),
                "mic_open_s": results["mic_open"]["median_s"] if results["mic_open"] else None,
                "mic_open_target_s": MIC_TARGET_S,
                **results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
