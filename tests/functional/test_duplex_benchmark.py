"""The duplex benchmark runs in a tiny configuration and prints the report it promises
(its figures are the benchmark's business; only what no echo canceller could miss is
checked: it takes some echo off, and hears a voice over the reply)."""

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
def test_the_duplex_benchmark_prints_its_report() -> None:
    command = [sys.executable, str(ROOT / "benchmarks" / "duplex.py"), "--seconds", "4"]
    command += ["--trials", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert set(report["echo_suppression_db"]) == {
        f"{d}ms_{g}dB" for d in (30, 45, 60) for g in (-6, -12)
    }
    assert all(db > 6 for db in report["echo_suppression_db"].values()), report
    assert report["noise_suppression_db"] > 6
    cpu = report["cpu_ms_per_s"]
    assert cpu["echo_cancellation"] > cpu["reference_only"] > 0
    reaction = report["barge_in_reaction_ms"]
    assert reaction["heard"] == "1/1" and 0 < reaction["p50"] < 2000, reaction
    assert 0 <= report["false_interruption_resume_rate"] <= 1
    assert set(report["with_noise_suppression"]) == {
        "barge_in_reaction_ms",
        "false_interruption_resume_rate",
    }
