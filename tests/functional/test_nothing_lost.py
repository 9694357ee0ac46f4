"""Nothing lost with the real engine on the loopback server: a SIGKILL mid-turn, a network
failure mid-transcription, and a data dir that cannot be written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakegroq import Fault
from tests.fakegroq.sounds import voice_bursts
from voiceloop.cli import main
from voiceloop.store import DATA_DIR_ENV, Store

REPO = Path(__file__).resolve().parents[2]
RATE = 16_000


@pytest.fixture
def loopback(groq_env, monkeypatch, tmp_path):
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "energy")
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    return groq_env


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def test_sigkill_of_a_real_headless_run_mid_transcription_then_retry(
    loopback, tmp_path, capsys
) -> None:
    """The real ``voiceloop dictate --headless`` process, killed while the server holds the
    transcription: the recording and an unfinished turn survive, and ``retry`` uploads the
    very same FLAC bytes and completes the turn."""
    speech = voice_bursts(tmp_path / "speech.wav")
    loopback.set_fault("transcriptions", Fault.slow(15))  # the turn is mid-flight for 15 s
    child = subprocess.Popen(
        [sys.executable, "-m", "voiceloop", "dictate", "--headless", "--input", str(speech)],
        cwd=REPO,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(
            lambda: loopback.requests_to("transcriptions") or child.poll() is not None,
            60,
            "the transcription request",
        )
        assert child.poll() is None, child.communicate()[1].decode()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    sent = loopback.requests_to("transcriptions")[0].file
    assert sent is not None

    data_dir = Path(os.environ[DATA_DIR_ENV])
    with Store(data_dir) as store:
        [turn] = store.turns(unfinished=True)
        assert turn.status == "captured" and turn.unfinished and turn.mode == "dictate"
        assert turn.audio_path is not None and turn.audio_path.read_bytes() == sent[1]

    assert main(["history", "--unfinished"]) == 0
    out = capsys.readouterr().out
    assert "UNFINISHED" in out and f"voiceloop retry {turn.id}" in out

    loopback.transcripts.append("the words that were in flight")
    assert main(["retry", str(turn.id)]) == 0
    retried = loopback.requests_to("transcriptions")[1].file
    assert retried is not None and retried[1] == sent[1]  # the kept bytes, not re-encoded
    with Store(data_dir) as store:
        done = store.turn(turn.id)
        assert done.status == "transcribed" and not done.unfinished
        assert done.transcript == "the words that were in flight"
        assert store.turns(unfinished=True) == []


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param([Fault.http(503)] * 3, id="503-after-retries"),
        pytest.param([Fault.reset()] * 3, id="connection-reset"),
    ],
)
def test_network_failure_in_a_headless_run_keeps_the_audio_and_retry_succeeds(
    loopback, tmp_path, capsys, faults
) -> None:
    speech = voice_bursts(tmp_path / "speech.wav")
    loopback.set_fault("transcriptions", *faults)  # the first attempt and both retries fail
    assert main(["dictate", "--headless", "--input", str(speech)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and "failed (transcriber)" in err
    attempts = loopback.requests_to("transcriptions")
    assert len(attempts) == 3
    sent = attempts[0].file[1]

    data_dir = Path(os.environ[DATA_DIR_ENV])
    with Store(data_dir) as store:
        [turn] = store.turns(failed=True)
        assert turn.status == "failed" and turn.error
        assert turn.audio_path is not None and turn.audio_path.read_bytes() == sent

    loopback.transcripts.append("every word is still there")
    assert main(["retry", "--all-failed"]) == 0
    assert loopback.requests_to("transcriptions")[3].file[1] == sent
    with Store(data_dir) as store:
        done = store.turn(turn.id)
        assert done.status == "transcribed" and done.error is None
        assert done.transcript == "every word is still there"
    assert main(["export", "--all", "--format", "txt"]) == 0
    assert "every word is still there" in capsys.readouterr().out


def test_unwritable_data_dir_is_one_line_at_start_up(loopback, tmp_path) -> None:
    """Before any audio is read or request made: one line on stderr and a non-zero exit."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    speech = voice_bursts(tmp_path / "speech.wav")
    env = {**os.environ, DATA_DIR_ENV: str(blocker / "voiceloop")}
    result = subprocess.run(
        [sys.executable, "-m", "voiceloop", "dictate", "--headless", "--input", str(speech)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("voiceloop: ") and "Traceback" not in result.stderr
    assert str(blocker) in lines[0]
    assert loopback.requests == []


def test_full_disk_is_one_line_at_start_up(loopback, tmp_path) -> None:
    from tests.unit.test_store_real_disk import tmpfs

    speech = voice_bursts(tmp_path / "speech.wav")
    with tmpfs(tmp_path / "tiny", "size=2m") as mount:
        filler = mount / "filler"
        with filler.open("wb", buffering=0) as f:  # fill the tmpfs to the last block
            try:
                while True:
                    f.write(b"\0" * 65536)
            except OSError:
                pass
        env = {**os.environ, DATA_DIR_ENV: str(mount / "voiceloop")}
        result = subprocess.run(
            [sys.executable, "-m", "voiceloop", "dictate", "--headless", "--input", str(speech)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "full" in lines[0], result.stderr
    assert loopback.requests == []
