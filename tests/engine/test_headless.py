"""Headless runs through the real CLI, file source, endpointer, FLAC, store and file sink,
with stages injected through the registry by provider name."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from tests.engine.fakes import FakeResponder, FakeSynthesizer, FakeTranscriber
from tests.fakegroq.sounds import silence, voice
from voiceloop.cli import main
from voiceloop.errors import ConfigError
from voiceloop.stages import registry

RATE = 16_000


@pytest.fixture
def two_utterances(tmp_path):
    path = tmp_path / "speech.wav"
    audio = np.concatenate([silence(0.5), voice(1.0), silence(1.2), voice(0.8), silence(1.0)])
    soundfile.write(path, audio, RATE)
    return path


@pytest.fixture
def fake_providers(monkeypatch, tmp_path):
    transcribers: list[FakeTranscriber] = []

    def factory(kind, section, context):
        if kind == "transcriber":
            stage = FakeTranscriber(["first words", "second words"])
            transcribers.append(stage)
            return stage
        if kind == "responder":
            return FakeResponder("Sure thing. Here you go.")
        if kind == "synthesizer":
            return FakeSynthesizer(sample_rate=16_000, seconds_per_char=0.02)
        raise ConfigError(kind)

    registry.register("testfake", factory)
    for section in ("STT", "TRANSLATE", "LLM", "TTS"):
        monkeypatch.setenv(f"VOICELOOP_{section}__PROVIDER", "testfake")
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")
    monkeypatch.setenv("VOICELOOP_TTS__FALLBACK", "false")
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "energy")
    monkeypatch.setenv("VOICELOOP_CONFIG", str(tmp_path / "missing.toml"))
    monkeypatch.setenv("VOICELOOP_DATA_DIR", str(tmp_path / "data"))
    yield transcribers
    registry._factories.pop("testfake", None)


def test_headless_dictation_from_a_file(fake_providers, two_utterances, tmp_path, capsys):
    metrics = tmp_path / "m.jsonl"
    notes = tmp_path / "notes.txt"
    code = main(
        [
            "dictate",
            "--headless",
            "--input",
            str(two_utterances),
            "--metrics",
            str(metrics),
            "--append",
            str(notes),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == "first words\nsecond words\n"
    assert "turn 1: heard: first words" in err
    assert notes.read_text() == "first words\nsecond words\n"
    lines = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [line["status"] for line in lines] == ["transcribed", "transcribed"]
    # each utterance was uploaded as the FLAC the store kept
    stt = fake_providers[0]  # [stt]; the second is [translate]'s
    for call in stt.calls:
        utterance, _task = call.args
        assert utterance.flac[:4] == b"fLaC"
    flacs = sorted((tmp_path / "data" / "recordings").rglob("*.flac"))
    assert [p.read_bytes() for p in flacs] == [c.args[0].flac for c in stt.calls]


def test_headless_converse_writes_the_spoken_reply(
    fake_providers, two_utterances, tmp_path, capsys
):
    reply_wav = tmp_path / "reply.wav"
    code = main(
        [
            "converse",
            "--headless",
            "--input",
            str(two_utterances),
            "--output",
            str(reply_wav),
            "--turns",
            "1",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == "Sure thing. Here you go.\n"
    timing = json.loads(reply_wav.with_suffix(".timing.json").read_text())
    assert [c["text"] for c in timing["chunks"] if c["text"]] == ["Sure thing.", "Here you go."]
    assert "answered" in err and "TTFA" in err


def test_missing_input_file_is_a_usage_error(fake_providers, tmp_path, capsys):
    code = main(["dictate", "--headless", "--input", str(tmp_path / "nope.wav")])
    assert code == 2
    assert "no such file" in capsys.readouterr().err


def test_an_unknown_provider_is_a_configuration_error(
    fake_providers, two_utterances, monkeypatch, capsys
):
    monkeypatch.setenv("VOICELOOP_STT__PROVIDER", "missing-provider")
    code = main(["dictate", "--headless", "--input", str(two_utterances)])
    assert code == 2
    assert "unknown transcriber provider 'missing-provider'" in capsys.readouterr().err


def test_a_failed_turn_makes_the_exit_status_1(fake_providers, two_utterances, monkeypatch, capsys):
    from voiceloop.errors import ServerError

    failing = FakeTranscriber(["ok"], fail={0: ServerError("503", hint="later")})
    registry.register("testfail", lambda kind, section, ctx: failing)
    monkeypatch.setenv("VOICELOOP_STT__PROVIDER", "testfail")
    try:
        code = main(["dictate", "--headless", "--input", str(two_utterances)])
    finally:
        registry._factories.pop("testfail", None)
    out, err = capsys.readouterr()
    assert code == 1
    assert out == "ok\n"  # the second utterance still made it
    assert "turn 1 failed (transcriber): Server error: 503 — later" in err
