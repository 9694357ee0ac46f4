"""End to end on the loopback Groq server: the real providers, file audio in and out,
the real endpointer, splitter, store and CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from tests.fakegroq import Fault, Latency
from tests.fakegroq.sounds import silence, voice, voice_bursts
from voiceloop.cli import main

RATE = 16_000


@pytest.fixture
def speech_file(tmp_path):
    def make(utterances: int) -> str:
        return str(voice_bursts(tmp_path / f"speech{utterances}.wav", utterances))

    return make


@pytest.fixture
def loopback(groq_env, monkeypatch, tmp_path):
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "energy")
    monkeypatch.setenv("VOICELOOP_STT__FALLBACK", "false")
    monkeypatch.setenv("VOICELOOP_TTS__FALLBACK", "false")
    monkeypatch.setenv("VOICELOOP_DATA_DIR", str(tmp_path / "data"))
    return groq_env


def routes(fake) -> list[str]:
    return [r.route for r in fake.requests]


def test_converse_speaks_sentence_by_sentence(loopback, speech_file, tmp_path, capsys):
    loopback.transcripts.extend(["why is the sky blue"])
    loopback.chat_reply = "Air scatters blue light. Red light passes by. So the sky is blue."
    loopback.latency = Latency(first_token=0.05, per_token=0.03)
    out_wav, metrics = tmp_path / "reply.wav", tmp_path / "m.jsonl"
    code = main(
        [
            "converse",
            "--headless",
            "--input",
            speech_file(1),
            "--output",
            str(out_wav),
            "--metrics",
            str(metrics),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == "Air scatters blue light. Red light passes by. So the sky is blue.\n"
    chunks = json.loads(out_wav.with_suffix(".timing.json").read_text())["chunks"]
    spoken = [c["text"] for c in chunks if c["text"]]
    assert spoken == ["Air scatters blue light.", "Red light passes by.", "So the sky is blue."]
    (line,) = [json.loads(x) for x in metrics.read_text().splitlines()]
    # the first sentence was synthesized while the reply was still streaming
    assert line["first_audio_ms"] < line["reply_done_ms"]
    assert line["status"] == "answered" and line["usage"]
    assert line["early_transcript"] is True  # asked at the pause, during the hangover
    # the upload is the FLAC the store kept
    (stt,) = [r for r in loopback.requests if r.route == "transcriptions"]
    assert stt.file is not None and stt.file[1][:4] == b"fLaC"
    (kept,) = (tmp_path / "data" / "recordings").rglob("*.flac")
    assert kept.read_bytes() == stt.file[1]
    assert routes(loopback).count("speech") == 3


def test_dictate_and_translate_from_files(loopback, speech_file, capsys):
    loopback.transcripts.extend(["first piece", "second piece"])
    assert main(["dictate", "--headless", "--input", speech_file(2)]) == 0
    assert capsys.readouterr().out == "first piece\nsecond piece\n"

    loopback.transcripts.extend(["good morning", "bonjour"])
    code = main(["translate", "--headless", "--original", "--input", speech_file(1)])
    out, err = capsys.readouterr()
    assert code == 0, err
    last_two = loopback.requests[-2:]
    assert {r.route for r in last_two} == {"translations", "transcriptions"}
    # both were asked at once; the server answers its requests in arrival order
    answers = dict(zip([r.route for r in last_two], ["good morning", "bonjour"], strict=True))
    translation = next(r for r in last_two if r.route == "translations")
    assert translation.form["model"] == ["whisper-large-v3"]
    assert out == answers["translations"] + "\n"
    originals = [line for line in err.splitlines() if ": original" in line]
    assert len(originals) == 1 and originals[0].endswith(f": {answers['transcriptions']}")


def test_a_429_mid_session_is_retried_or_fails_only_its_turn(
    loopback, speech_file, monkeypatch, tmp_path, capsys
):
    loopback.transcripts.extend(["one", "two", "three"])
    # first a 429 that clears on retry, then one that does not
    loopback.set_fault("transcriptions", Fault.http(429, retry_after=0.01))
    metrics = tmp_path / "m.jsonl"
    code = main(["dictate", "--headless", "--input", speech_file(1), "--metrics", str(metrics)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out == "one\n"
    assert json.loads(metrics.read_text())["retries"] == 1

    monkeypatch.setenv("VOICELOOP_HTTP__MAX_RETRIES", "0")  # a 429 that does not clear
    loopback.set_fault("transcriptions", Fault.http(429, retry_after=0.01))
    code = main(["dictate", "--headless", "--input", speech_file(2)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "failed (transcriber): Rate limited" in err
    assert out == "two\n"  # the next utterance went through


def test_chat_stream_broken_mid_reply_fails_the_turn_and_keeps_the_transcript(
    loopback, speech_file, tmp_path, capsys
):
    loopback.transcripts.extend(["tell me more", "and then"])
    loopback.chat_reply = "First part. Second part. Third part."
    loopback.set_fault("chat", Fault.error_event(after=4))
    code = main(
        ["converse", "--headless", "--input", speech_file(2), "--output", str(tmp_path / "o.wav")]
    )
    out, err = capsys.readouterr()
    assert code == 1
    assert "failed (responder)" in err
    assert "heard: tell me more" in err and "heard: and then" in err
    assert out.endswith("First part. Second part. Third part.\n")  # the second turn answered


def test_barge_in_mid_reply_from_a_file_played_in_real_time(
    loopback, monkeypatch, tmp_path, capsys
):
    import tests.fakegroq.handlers as handlers

    # Question at 0.5-1.3 s; the reply starts speaking about 2 s in and lasts ~5 s; the user
    # talks over it at 2.6 s.
    audio = np.concatenate([silence(0.5), voice(0.8), silence(1.3), voice(0.8), silence(1.5)])
    path = tmp_path / "barge.wav"
    soundfile.write(path, audio, RATE)
    loopback.transcripts.extend(["tell me about rivers", "stop, what about lakes"])
    replies = iter(
        [
            "Rivers carry water from the hills to the sea. They shape valleys over ages. "
            "Many cities grew up beside them. Floods renew the soil of their plains.",
            "Lakes are still water.",
        ]
    )
    monkeypatch.setattr(handlers, "_reply_for", lambda fake, messages: next(replies))
    out_wav = tmp_path / "out.wav"
    code = main(
        [
            "converse",
            "--headless",
            "--barge-in",
            "--realtime",
            "--input",
            str(path),
            "--output",
            str(out_wav),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "turn 1: interrupted; heard" in err
    chunks = json.loads(out_wav.with_suffix(".timing.json").read_text())["chunks"]
    flushed = [c for c in chunks if c["flushed"]]
    assert flushed, chunks
    cut = min(c["end"] for c in flushed)
    first_turn = [c for c in chunks if c["start"] < cut]
    later = [c for c in chunks if c["start"] >= cut and c["text"] and not c["flushed"]]
    # nothing of the first reply is played after the cut; the second reply is
    assert [c["text"] for c in later] == ["Lakes are still water."]
    assert all("Floods" not in c["text"] for c in first_turn)
    heard = [c["text"] for c in first_turn if c["text"] and c["start"] < cut]
    assert heard and heard[0] == "Rivers carry water from the hills to the sea."
    assert out.rstrip().endswith("Lakes are still water.")
