"""The latency benchmark runs in a tiny configuration and prints the report it promises
(its figures are the benchmark's business, not a test's)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_the_latency_benchmark_prints_its_report() -> None:
    command = [sys.executable, str(ROOT / "benchmarks" / "latency.py"), "--baseline"]
    command += ["--whole", "1", "--paused", "1", "--mic-runs", "0"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    for key in ("ttfa_p50_ms", "ttfa_p95_ms", "baseline_ttfa_p50_ms", "baseline_ttfa_p95_ms"):
        assert report[key] > 0, key
    assert report["ttfa_p50_ratio"] == pytest.approx(
        report["ttfa_p50_ms"] / report["baseline_ttfa_p50_ms"], abs=0.01
    )
    assert 0 <= report["false_eot_rate"] <= 1 and 0 <= report["baseline_false_eot_rate"] <= 1
    assert report["wasted_requests_per_turn"] >= 0
    assert "mic_open_s" in report and set(report["targets"]) >= {
        "ttfa_p50_at_most_0.6x_baseline",
        "false_eot_no_worse_than_baseline",
        "wasted_at_most_0.5_per_turn",
    }
    for run in ("current", "baseline"):
        assert report["runs"][run]["questions"] == 2
        assert report["runs"][run]["answered_turns"] >= 1


def test_bad_counts_are_one_line_and_an_error() -> None:
    command = [sys.executable, str(ROOT / "benchmarks" / "latency.py"), "--whole", "0"]
    result = subprocess.run([*command, "--paused", "0"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0
    assert "must not be negative, nor both 0" in result.stderr
    assert "Traceback" not in result.stderr
