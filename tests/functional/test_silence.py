"""Silence transcribes to nothing, at any length, on the cloud and the local engine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voiceloop.cli import main

REPO = Path(__file__).resolve().parents[2]
RATE = 16_000


def _write_long(path: Path, seconds: int, noise: float) -> Path:
    """A long WAV written a minute at a time (the test itself stays small)."""
    rng = np.random.default_rng(3)
    with sf.SoundFile(str(path), "w", samplerate=RATE, channels=1, subtype="PCM_16") as f:
        for start in range(0, seconds, 60):
            n = min(60, seconds - start) * RATE
            f.write(rng.uniform(-noise, noise, n).astype(np.float32) if noise else np.zeros(n))
    return path


def test_noise_split_in_chunks_gives_no_phantom_per_chunk(
    capsys, groq_env, tmp_path, monkeypatch
) -> None:
    # Noise loud enough to pass the loudness gate, with the voice detector off ([vad]
    # engine = "energy"): every chunk is sent, the server hears "Thank you." in each,
    # and the filter drops it chunk by chunk.
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "energy")
    path = _write_long(tmp_path / "noise.wav", 420, noise=0.01)
    monkeypatch.setenv("VOICELOOP_HTTP__UPLOAD_LIMIT_MB", str(1.2))
    assert main(["transcribe", str(path)]) == 3
    out = capsys.readouterr().out
    assert len(groq_env.requests_to("transcriptions")) >= 10
    assert "Thank you" not in out
    assert out.strip() == ""


@pytest.mark.parametrize(("noise", "what"), [(0.003, "near silence"), (0.01, "noise")])
def test_long_audio_without_a_voice_is_not_sent(
    capsys, groq_env, tmp_path, monkeypatch, noise, what
) -> None:
    # Near silence fails the loudness gate; noise passes it, and the voice detector hears
    # no voice in it: no chunk reaches the server.
    path = _write_long(tmp_path / "quiet.wav", 420, noise=noise)
    monkeypatch.setenv("VOICELOOP_HTTP__UPLOAD_LIMIT_MB", str(1.2))
    assert main(["transcribe", str(path)]) == 3, what
    out, err = capsys.readouterr()
    assert groq_env.requests_to("transcriptions") == [], what
    assert out.strip() == "" and "no speech found" in err


def test_speech_in_a_long_quiet_file_is_sent_and_the_rest_is_not(
    capsys, groq_env, tmp_path, monkeypatch
) -> None:
    from tests.fakegroq.sounds import espeak

    voice, rate = sf.read(espeak(tmp_path / "v.wav", "The meeting starts at nine."))
    voice = voice if rate == RATE else np.interp(
        np.arange(int(len(voice) * RATE / rate)) * rate / RATE, np.arange(len(voice)), voice
    )  # fmt: skip
    path = tmp_path / "one-voice.wav"
    with sf.SoundFile(str(path), "w", samplerate=RATE, channels=1, subtype="PCM_16") as f:
        for minute in range(7):
            block = np.random.default_rng(minute).uniform(-0.003, 0.003, 60 * RATE)
            if minute == 3:
                block[10 * RATE : 10 * RATE + len(voice)] += voice
            f.write(block.astype(np.float32))
    groq_env.transcripts.append("the meeting starts at nine")
    monkeypatch.setenv("VOICELOOP_HTTP__UPLOAD_LIMIT_MB", str(1.2))
    assert main(["transcribe", str(path)]) == 0, capsys.readouterr().err
    (sent,) = groq_env.requests_to("transcriptions")
    assert capsys.readouterr().out.strip() == "the meeting starts at nine"
    assert sent.file[0].endswith(".flac")


def test_two_hours_on_the_cloud_are_read_in_bounded_memory(groq_env, tmp_path) -> None:
    path = _write_long(tmp_path / "two-hours.wav", 7200, noise=0.003)
    code = (
        "import re, sys\n"
        "from voiceloop.cli import main\n"
        "rc = main(['transcribe', sys.argv[1]])\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "sys.stderr.write(f'\\nPEAK_KB={hwm}\\n')\n"
        "sys.exit(rc)\n"
    )
    env = {**os.environ, "VOICELOOP_STT__FALLBACK": "false"}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)], cwd=REPO, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    peak_mb = int(proc.stderr.rsplit("PEAK_KB=", 1)[1].split()[0]) / 1024
    # The file is 230 MB as int16 at 16 kHz (460 MB as float): a chunk or two at a time
    # is what is held.
    assert peak_mb < 400, peak_mb
    assert groq_env.requests_to("transcriptions") == []


def test_digital_silence_sent_whole_gives_no_phantom(capsys, groq_env, tmp_path) -> None:
    path = _write_long(tmp_path / "zeros.wav", 120, noise=0.0)
    assert main(["transcribe", str(path), "--format", "srt"]) == 3
    out = capsys.readouterr().out
    assert len(groq_env.requests_to("transcriptions")) == 1
    assert "Thank you" not in out and out.strip() == ""


def test_an_hour_of_silence_on_the_local_engine_is_nothing_in_bounded_memory(
    tmp_path: Path,
) -> None:
    path = _write_long(tmp_path / "hour.wav", 3600, noise=0.002)
    env = dict(os.environ)
    env.pop("GROQ_API_KEY", None)
    env.update(HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    env["VOICELOOP_DATA_DIR"] = str(tmp_path / "data")
    code = (
        # VmHWM, not ru_maxrss: getrusage keeps the forking parent's peak across exec,
        # and in a full run that parent is pytest at over a gigabyte.
        "import re, sys\n"
        "from voiceloop.cli import main\n"
        "rc = main(['transcribe', '--local', sys.argv[1]])\n"
        "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)\n"
        "sys.stderr.write(f'\\nPEAK_KB={hwm}\\n')\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 3, proc.stderr
    assert "no speech found" in proc.stderr
    assert proc.stdout.strip() == ""
    peak_mb = int(proc.stderr.rsplit("PEAK_KB=", 1)[1].split()[0]) / 1024
    # The file alone is 110 MB as int16 (230 MB as float): streamed, far less is ever held.
    assert peak_mb < 600, peak_mb


@pytest.fixture(autouse=True)
def _no_local_fallback(monkeypatch) -> None:
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")


def test_dictate_on_silence_says_no_speech_with_its_own_exit_code(tmp_path, capsys) -> None:
    path = _write_long(tmp_path / "quiet.wav", 5, noise=0.0)
    assert main(["dictate", "--headless", "--local", "--input", str(path)]) == 3
    out, err = capsys.readouterr()
    assert out == "" and "no speech found" in err
