"""A stalled request (no first byte) in a live turn: a deadline fitted to the utterance,
a retry when it passes, and "still waiting" on the way — not a minute of silence."""

from __future__ import annotations

import time

import pytest

from tests.fakegroq import Fault
from tests.fakegroq.sounds import voice_bursts
from voiceloop.cli import main
from voiceloop.store import DATA_DIR_ENV

STALL = 40.0  # the server's silence: below the 60 s read timeout, far above any deadline


@pytest.fixture
def loopback(groq_env, monkeypatch, tmp_path):
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "energy")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    monkeypatch.setenv("VOICELOOP_HTTP__STALL_TIMEOUT", "2.5")
    return groq_env


def test_a_stalled_transcription_is_retried_and_the_wait_is_shown(loopback, tmp_path, capsys):
    speech = voice_bursts(tmp_path / "speech.wav")
    # Whichever request answers (an early one at the pause may be asked again), the words.
    loopback.transcripts.extend(["the words arrive after all"] * 3)
    loopback.set_fault("transcriptions", Fault.slow(STALL))
    started = time.monotonic()
    assert main(["dictate", "--headless", "--input", str(speech)]) == 0
    elapsed = time.monotonic() - started
    out, err = capsys.readouterr()
    assert "the words arrive after all" in out
    assert "still waiting for speech-to-text" in err
    assert len(loopback.requests_to("transcriptions")) >= 2  # the stalled one, then a retry
    assert elapsed < STALL / 2, elapsed


def test_a_server_that_keeps_stalling_falls_back_to_the_local_model(loopback, tmp_path, capsys):
    speech = voice_bursts(tmp_path / "speech.wav")
    loopback.set_fault("transcriptions", *[Fault.slow(STALL)] * 3)
    started = time.monotonic()
    main(["dictate", "--headless", "--input", str(speech)])
    elapsed = time.monotonic() - started
    err = capsys.readouterr().err
    assert "fell back to local" in err and "timed out waiting" in err
    # Stalled, asked again, stalled again: no third wait (max_retries would allow it).
    assert len(loopback.requests_to("transcriptions")) == 2
    assert elapsed < STALL / 2, elapsed


def test_no_stall_timeout_waits_for_the_slow_reply(loopback, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VOICELOOP_HTTP__STALL_TIMEOUT", "0")
    speech = voice_bursts(tmp_path / "speech.wav")
    loopback.transcripts.append("patience pays")
    loopback.set_fault("transcriptions", Fault.slow(4.0))
    assert main(["dictate", "--headless", "--input", str(speech)]) == 0
    assert "patience pays" in capsys.readouterr().out
    assert len(loopback.requests_to("transcriptions")) == 1
