"""voiceloop's transcription against faster-whisper-server, a real OpenAI-compatible server."""

from __future__ import annotations

import json

import pytest

from tests.fakegroq.sounds import espeak
from tests.servers.conftest import use_server_config
from voiceloop.cli import main

SENTENCE = "The quick brown fox jumps over the lazy dog."


@pytest.fixture
def stt_env(whisper_server, monkeypatch, tmp_path):
    use_server_config(
        monkeypatch, tmp_path, "stt", f"{whisper_server.root}/v1",
        "not-checked-by-this-server", "whisper-1",
    )  # fmt: skip
    return whisper_server


def _words(text: str) -> set[str]:
    return {w.strip(".,!?").lower() for w in text.split()}


def test_transcribe_a_spoken_sentence(capsys, stt_env, tmp_path):
    wav = espeak(tmp_path / "fox.wav", SENTENCE)
    assert wav is not None, "espeak-ng is part of the test set-up"
    code = main(["transcribe", str(wav)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert len(_words(out) & _words(SENTENCE)) >= 6, out


def test_transcribe_verbose_json_has_segments(capsys, stt_env, tmp_path):
    wav = espeak(tmp_path / "fox.wav", SENTENCE)
    assert wav is not None
    code = main(["transcribe", str(wav), "--format", "verbose_json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    reply = json.loads(out)
    assert reply["segments"] and len(_words(reply["text"]) & _words(SENTENCE)) >= 6


def test_transcribe_to_subtitles_has_timed_cues(capsys, stt_env, tmp_path):
    wav = espeak(tmp_path / "fox.wav", SENTENCE)
    assert wav is not None
    code = main(["transcribe", str(wav), "--format", "srt"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("1\n") and " --> " in out
    assert len(_words(out) & _words(SENTENCE)) >= 6, out
