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


def test_transcribe_keeps_what_the_cloud_did_and_goes_on_locally(fast_retries, tmp_path, capsys):
    first = espeak(tmp_path / "first.wav", "good morning everyone")
    second = espeak(tmp_path / "second.wav", "hello world, this is a test")
    fast_retries.transcripts.append("from the cloud")
    fast_retries.set_fault("transcriptions", Fault.slow(0), *FAILURES)
    assert main(["transcribe", str(first), str(second)]) == 0
    out, err = capsys.readouterr()
    assert err.count("using the local engine") == 1
    cloud, local = out.split("==> ")[1:]
    assert cloud.startswith(f"{first} <==") and "from the cloud" in cloud
    assert local.startswith(f"{second} <==") and "test" in local.lower()
    # The first file's cloud answer was kept; the cloud was not asked again after failing.
    assert len(fast_retries.requests_to("transcriptions")) == 3


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


def test_say_made_anew_locally_when_the_cloud_fails_part_way(
    fast_retries, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("VOICELOOP_TTS__MAX_CHARS", "40")
    text = " ".join(f"This is sentence number {i} of a long text." for i in range(4))
    fast_retries.set_fault("speech", Fault.slow(0), *FAILURES)  # the first piece only
    out = tmp_path / "long.wav"
    assert main(["say", text, "-o", str(out)]) == 0
    # The cloud made a piece, then failed for good: the whole text in the local voice.
    assert len(fast_retries.requests_to("speech")) >= 2
    assert sf.info(str(out)).duration > 4.0
    assert capsys.readouterr().err.count("using the local engine") == 1


def test_say_shows_progress_on_a_terminal(groq_env, tmp_path, monkeypatch) -> None:
    import io
    import sys

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    stderr = Tty()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setenv("VOICELOOP_TTS__MAX_CHARS", "40")
    text = " ".join(f"This is sentence number {i} of a long text." for i in range(6))
    assert main(["say", text, "-o", str(tmp_path / "long.wav")]) == 0
    shown = stderr.getvalue()
    updates = shown.split("\n", 1)[0].split("\rspeech made: ")[1:]
    assert len(updates) > 1
    seconds = [float(u.removesuffix(" s")) for u in updates]
    assert seconds == sorted(seconds) and seconds[-1] > 3.0


def test_say_prints_no_progress_when_not_a_terminal(groq_env, tmp_path, capsys) -> None:
    assert main(["say", "One. Two. Three.", "-o", str(tmp_path / "x.wav")]) == 0
    assert "speech made" not in capsys.readouterr().err
