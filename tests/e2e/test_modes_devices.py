"""Dictation and translation from the virtual microphone, through the real CLI in its own
process (``voiceloop dictate|translate --headless --input-device mic.monitor``)."""

from __future__ import annotations

import asyncio
import io
import os
import sys

import pytest
import soundfile

from tests.e2e.bench import RATE, open_bench, speech
from voiceloop.config_sections import TurnSettings, VadSettings

pytestmark = [pytest.mark.audio, pytest.mark.slow]

HANGOVER = VadSettings().hangover_ms / 1000  # the fallback end of a turn
END_OF_TURN = TurnSettings().min_silence_ms / 1000  # a complete utterance ends sooner
PRE_ROLL = 0.4


async def run_cli(mode: str, spoken, tmp_path, *flags: str) -> tuple[int, str, str, float]:
    """Start the CLI, play ``spoken`` into ``mic`` once it listens; (code, out, err, length
    of the speech in seconds)."""
    env = {
        **os.environ,  # the bench's PULSE_SERVER and the loopback server's GROQ_* vars
        "VOICELOOP_AUDIO__CUES": "false",
        "VOICELOOP_STT__FALLBACK": "false",
        "VOICELOOP_DATA_DIR": str(tmp_path / "data"),
    }
    bench = await open_bench()
    cmd = [sys.executable, "-m", "voiceloop", "--verbose", mode, "--headless"]
    cmd += ["--input-device", "mic.monitor", "--turns", "1", *flags]
    proc = await asyncio.create_subprocess_exec(
        *cmd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        assert proc.stderr is not None and proc.stdout is not None
        err_lines = []
        async with asyncio.timeout(20):
            while True:
                line = (await proc.stderr.readline()).decode()
                assert line, "the CLI ended before listening:\n" + "".join(err_lines)
                err_lines.append(line)
                if line.rstrip().endswith("listening"):
                    break
        await asyncio.sleep(0.3)
        bench.play(spoken)
        async with asyncio.timeout(20):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        bench.close()
    return proc.returncode or 0, out.decode(), "".join(err_lines) + err.decode(), len(spoken) / RATE


def upload_seconds(request) -> float:
    pcm, rate = soundfile.read(io.BytesIO(request.file[1]))
    return len(pcm) / rate


def assert_whole_phrase(uploaded: float, spoken: float) -> None:
    """The upload is one utterance holding the whole phrase, its pre-roll and the silence
    that ended the turn: at least the end-of-turn model's shortest, at most the hangover
    (the VAD's view of where speech ends varies by a few frames, more on a loaded machine)."""
    frames = 3 * 0.032
    assert spoken + END_OF_TURN - frames <= uploaded <= spoken + PRE_ROLL + HANGOVER + 0.5


@pytest.mark.timeout(60)
async def test_dictation_from_the_microphone(pulse_bench, groq_env, tmp_path):
    # Every request answers the same: an early one at the comma's pause may be dropped.
    groq_env.transcribe = lambda pcm, rate: "Buy milk, eggs and bread."
    spoken = speech("Buy milk, eggs and bread.", tmp_path)
    code, out, err, seconds = await run_cli("dictate", spoken, tmp_path)
    assert code == 0, err
    assert out == "Buy milk, eggs and bread.\n"
    stt = groq_env.requests_to("transcriptions")[-1]  # the one the turn used
    assert_whole_phrase(upload_seconds(stt), seconds)


@pytest.mark.timeout(60)
async def test_translation_from_the_microphone(pulse_bench, groq_env, tmp_path):
    # Every request answers the same: an early one at a short pause may be dropped.
    groq_env.transcripts.extend(["Good morning, how are you?"] * 3)
    spoken = speech("Bonjour, comment allez-vous ?", tmp_path, voice="fr")
    code, out, err, seconds = await run_cli("translate", spoken, tmp_path)
    assert code == 0, err
    assert out == "Good morning, how are you?\n"
    request = groq_env.requests_to("translations")[-1]  # the one the turn used
    assert request.form["model"] == ["whisper-large-v3"]
    assert_whole_phrase(upload_seconds(request), seconds)
