"""The one-shot commands fall back to the local engines like the live modes do."""

from __future__ import annotations

import pytest
import soundfile as sf

from tests.fakegroq import Fault
from tests.fakegroq.sounds import espeak
from voiceloop.cli import main

FAILURES = [Fault.http(500)] * 6  # beyond every retry


@pytest.fixture
def fast_retries(groq_env, monkeypatch):
    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", "1")
    return groq_env


def test_transcribe_falls_back_to_the_local_model(fast_retries, tmp_path, capsys) -> None:
    speech = espeak(tmp_path / "hello.wav", "hello world, this is a test")
    if speech is None:
        pytest.skip("espeak-ng is not installed")
    fast_retries.set_fault("transcriptions", *FAILURES)
    assert main(["transcribe", str(speech)]) == 0
    out, err = capsys.readouterr()
    assert fast_retries.requests_to("transcriptions")
    assert "using the local engine" in err
    assert "world" in out.lower() and "test" in out.lower()


def test_transcribe_without_fallback_still_fails(fast_retries, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")
    speech = espeak(tmp_path / "hello.wav", "hello world")
    if speech is None:
        pytest.skip("espeak-ng is not installed")
    fast_retries.set_fault("transcriptions", *FAILURES)
    assert main(["transcribe", str(speech)]) == 1
    assert "using the local engine" not in capsys.readouterr().err


def test_say_falls_back_to_the_local_voice(fast_retries, tmp_path, capsys) -> None:
    fast_retries.set_fault("speech", *FAILURES)
    out = tmp_path / "hi.wav"
    assert main(["say", "Hello there.", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert fast_retries.requests_to("speech")
    assert "using the local engine" in err
    assert sf.info(str(out)).duration > 0.3
