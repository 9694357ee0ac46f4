"""No key and no network: dictation, ``say`` and ``transcribe`` run on the local engines;
converse and translate say exactly what they need."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile

from tests.local.speech import SENTENCES, espeak_audio
from tests.local.wer import corpus_wer
from voiceloop.cli import main
from voiceloop.config import Settings
from voiceloop.errors import ConfigError
from voiceloop.session.builder import build_stages
from voiceloop.session.serving import effective_provider
from voiceloop.store import DATA_DIR_ENV


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No key anywhere, and the cloud URL on a port nobody listens on; history in tmp."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    monkeypatch.setenv("GROQ_BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- resolution (no models load) ---------------------------------------------------------


def settings(**sections: dict[str, object]) -> Settings:
    return Settings(**sections)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("sections", "name", "expected"),
    [
        ({}, "stt", "local"),
        ({}, "tts", "local"),
        ({}, "llm", "groq"),  # no local chat: stays, and says what it needs
        ({}, "translate", "groq"),  # tiny.en cannot translate
        ({"local": {"stt_model": "small"}}, "translate", "local"),
        ({"local": {"stt_model": "small.en"}}, "translate", "groq"),
        ({"stt": {"base_url": "http://localhost:8000/v1"}}, "stt", "groq"),
        ({"stt": {"api_key": "sk-own"}}, "stt", "groq"),
        ({"tts": {"provider": "openai"}}, "tts", "local"),
        ({"tts": {"provider": "gateway"}}, "tts", "gateway"),
    ],
)
def test_effective_provider_without_a_key(sections, name, expected):
    assert effective_provider(settings(**sections), name) == expected


def test_a_key_keeps_the_cloud(monkeypatch):
    monkeypatch.setenv("GROQ_API_KEY", "gsk_test_key_000")
    s = settings()
    assert [effective_provider(s, n) for n in ("stt", "tts", "translate")] == ["groq"] * 3


def test_no_key_builds_local_stages_and_converse_needs_a_chat_server():
    stages, errors = build_stages(settings(), mode="dictate")
    assert stages.providers["transcriber"] == "local"
    assert type(stages.transcriber).__name__ == "LocalTranscriber"
    assert type(stages.synthesizer).__name__ == "LocalSynthesizer"
    assert set(errors) == {"responder", "translator"}
    with pytest.raises(ConfigError) as caught:
        build_stages(settings(), mode="converse")
    line = caught.value.one_line()
    assert "GROQ_API_KEY" in line and "[llm] base_url" in line and "Ollama" in line
    # A chat server of its own (e.g. Ollama) is enough: speech stays local.
    ollama = settings(llm={"base_url": "http://127.0.0.1:11434/v1"})
    stages, _ = build_stages(ollama, mode="converse")
    assert stages.providers == {
        "transcriber": "local", "translator": "groq", "responder": "groq", "synthesizer": "local"
    }  # fmt: skip


def test_converse_and_translate_without_a_key_exit_2_with_one_line(capsys, offline):
    quiet = offline / "quiet.wav"
    soundfile.write(quiet, np.zeros(16000, np.float32), 16000)
    code, out, err = run(capsys, "converse", "--headless", "--input", str(quiet))
    assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1
    assert "GROQ_API_KEY" in err and "[llm] base_url" in err and "Ollama" in err
    code, out, err = run(capsys, "translate", "--headless", "--input", str(quiet))
    assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1
    assert "GROQ_API_KEY" in err and "[local] stt_model" in err and "English-only" in err


def test_local_flag_forces_speech_stages_and_leaves_llm_alone():
    from voiceloop.cli.run import overrides_from_args

    args = SimpleNamespace(
        mode="converse", local=True, input_device=None, output_device=None, barge_in=None
    )
    assert overrides_from_args(args) == {  # type: ignore[arg-type]
        "stt.provider": "local", "translate.provider": "local", "tts.provider": "local"
    }  # fmt: skip


# -- the real thing (models load) --------------------------------------------------------


def speech_file(path: Path, texts: list[str]) -> Path:
    """The sentences spoken by espeak-ng, one second of silence around each."""
    parts, rate = [], 22050
    for i, text in enumerate(texts):
        audio, rate = espeak_audio(text, path.with_name(f"part{i}.wav"))
        gap = np.zeros(rate, np.float32)
        parts += [gap, audio.astype(np.float32)]
    parts.append(np.zeros(rate, np.float32))
    soundfile.write(path, np.concatenate(parts), rate, subtype="PCM_16")
    return path


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_headless_dictation_from_a_file_with_no_key_and_no_server(capsys, offline):
    texts = SENTENCES[:3]
    wav = speech_file(offline / "speech.wav", texts)
    code, out, err = run(capsys, "dictate", "--headless", "--input", str(wav))
    assert code == 0, err
    assert "Working locally" in err and "(local)" in err
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 3, out
    assert corpus_wer(zip(texts, lines, strict=True)) <= 0.2, out


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_say_without_key_then_transcribe_without_key_recovers_the_sentence(capsys, offline):
    sentence = "Please send me the report before the meeting tomorrow."
    out_wav = offline / "said.wav"
    code, _, err = run(capsys, "say", sentence, "-o", str(out_wav))
    assert code == 0, err
    audio, rate = soundfile.read(out_wav)
    assert rate == 22050 and len(audio) / rate > 1.5  # the Piper voice, not a cloud one
    code, out, err = run(capsys, "transcribe", str(out_wav))
    assert code == 0, err
    assert corpus_wer([(sentence, out.strip())]) <= 0.2, out


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_local_flag_works_with_a_key_and_an_unreachable_server(capsys, offline, monkeypatch):
    # A key is set, but the server is down: --local never asks it.
    monkeypatch.setenv("GROQ_API_KEY", "gsk_unused_key_000")
    sentence = "The train leaves the station early in the morning."
    out_wav = offline / "said.wav"
    code, _, err = run(capsys, "say", "--local", sentence, "-o", str(out_wav))
    assert code == 0, err
    code, out, err = run(capsys, "transcribe", "--local", str(out_wav), "--format", "srt")
    assert code == 0, err
    assert out.startswith("1\n00:00:") and "-->" in out
    text = " ".join(line for line in out.splitlines()[2:] if line.strip())
    assert corpus_wer([(sentence, text)]) <= 0.2, out
