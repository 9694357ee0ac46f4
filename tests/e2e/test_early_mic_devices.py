"""Speech said while the CLI is still starting is kept: the microphone opens at launch
and what it heard is endpointed once the VAD runs (``voiceloop dictate --headless``,
no ``-v``, its own process, the virtual ``mic``)."""

from __future__ import annotations

import asyncio
import io
import os
import re
import sys
import time

import numpy as np
import pytest
import soundfile

from tests.e2e.bench import open_bench, speech
from tests.e2e.test_modes_devices import assert_whole_phrase, upload_seconds

pytestmark = [pytest.mark.audio, pytest.mark.slow]

STATE_LINE = re.compile(r"^\[\s*\d+\.\d+\] listening$")


@pytest.mark.timeout(90)
async def test_speech_from_half_a_second_after_launch_keeps_its_first_word(
    pulse_bench, groq_env, tmp_path
):
    text = "Zebras eat grass in the morning."
    groq_env.transcripts.append(text)
    spoken = speech(text, tmp_path)
    env = {
        **os.environ,
        "VOICELOOP_AUDIO__CUES": "false",
        "VOICELOOP_STT__FALLBACK": "false",
        "VOICELOOP_DATA_DIR": str(tmp_path / "data"),
    }
    bench = await open_bench()
    cmd = [sys.executable, "-m", "voiceloop", "dictate", "--headless"]
    cmd += ["--input-device", "mic.monitor", "--turns", "1"]
    launched = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        await asyncio.sleep(max(0.0, launched + 0.5 - time.monotonic()))
        played = bench.play(spoken)  # long before the CLI is ready on this machine
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
        await bench.played(played)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        bench.close()
    stderr = err.decode()
    # Not the exit status: the process can crash in native code after its last line,
    # with or without the early microphone (the modes tests see it too).
    assert out.decode() == text + "\n"
    # The state line is printed without -v, once, when the VAD runs.
    states = [line for line in stderr.splitlines() if STATE_LINE.match(line)]
    assert len(states) == 2, stderr  # on start, and again after the turn
    (stt,) = groq_env.requests_to("transcriptions")
    # The whole phrase, from its first word: what was said before "Listening" included.
    assert_whole_phrase(upload_seconds(stt), len(spoken) / 48_000)
    # ... and it opens on the quiet before the first word, not inside it.
    pcm, rate = soundfile.read(io.BytesIO(stt.file[1]), dtype="float32")
    lead = pcm[: int(0.05 * rate)]
    assert np.sqrt(np.mean(lead**2)) < 0.1 * np.sqrt(np.mean(pcm**2)), "the first word was cut"
