"""A headless run that loaded the local engines (as the cloud's fallback) exits cleanly.

A short run from a file ends while the fallback models are still loading on their worker
threads; native runtimes abort the process if interpreter finalisation tears them down
there, so the exit status would say "crashed" although every word was printed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakegroq import FakeGroq
from tests.fakegroq.sounds import espeak

pytestmark = pytest.mark.slow


def test_headless_run_with_local_fallback_exits_cleanly(groq_env: FakeGroq, tmp_path: Path) -> None:
    audio = espeak(tmp_path / "speech.wav", "Please write this down.")
    argv = [sys.executable, "-m", "voiceloop", "dictate", "--headless", "--input", str(audio)]
    for _ in range(3):  # the crash was a race: two runs in three failed
        groq_env.transcripts.append("please write this down")
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=120, env=dict(os.environ)
        )
        assert result.stdout.strip() == "please write this down", result.stderr[-2000:]
        assert result.returncode == 0, result.stderr[-2000:]
        assert "terminate called" not in result.stderr
