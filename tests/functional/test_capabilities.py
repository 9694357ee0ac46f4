"""Groq-only fields go to Groq alone; per-stage extra fields and headers go everywhere."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import soundfile as sf

from tests.fakegroq.server import FakeGroq
from tests.fakegroq.sounds import tone_track, write
from voiceloop.capabilities import (
    GATEWAY,
    GROQ_API,
    LOCAL,
    OPENAI_API,
    OPENAI_COMPATIBLE,
    stage_capabilities,
)
from voiceloop.cli import main
from voiceloop.config import LlmSettings, Settings, SttSettings, TtsSettings


@pytest.fixture(scope="module")
def other() -> Iterator[FakeGroq]:
    server = FakeGroq(host="127.0.0.2", api_key=None).start()
    yield server
    server.stop()


@pytest.fixture
def env(groq_env: FakeGroq, other: FakeGroq) -> Iterator[tuple[FakeGroq, FakeGroq]]:
    other.reset()
    yield groq_env, other
    other.reset()


def test_each_server_gets_its_record():
    s = Settings(groq_api_key="gsk_x")
    assert stage_capabilities(SttSettings(), s).sample_rate is GROQ_API.sample_rate
    assert stage_capabilities(SttSettings(), s).reasoning_effort
    other = stage_capabilities(SttSettings(base_url="http://127.0.0.2:9/v1"), s)
    assert other == OPENAI_COMPATIBLE and not other.sample_rate and not other.reasoning_effort
    openai = stage_capabilities(SttSettings(provider="openai"), s)
    assert openai.needs_key and openai.key_origin == "https://api.openai.com:443"
    assert openai.reasoning_effort == OPENAI_API.reasoning_effort
    assert stage_capabilities(LlmSettings(provider="gateway"), s) == GATEWAY
    assert stage_capabilities(TtsSettings(provider="local"), s) == LOCAL
    assert not stage_capabilities(TtsSettings(provider="someone-elses"), s).remote


@pytest.mark.parametrize("where", ["groq", "other"])
def test_groq_only_fields_only_to_groq(env, where, monkeypatch, tmp_path, capsys):
    groq, other = env
    if where == "other":
        monkeypatch.setenv("VOICELOOP_LLM__BASE_URL", other.base_url)
        monkeypatch.setenv("VOICELOOP_TTS__BASE_URL", other.base_url)
    server = groq if where == "groq" else other
    assert main(["ask", "hi"]) == 0
    assert main(["say", "Hello.", "-o", str(tmp_path / "s.wav")]) == 0, capsys.readouterr().err
    chat = server.requests_to("chat")[0].json
    speech = server.requests_to("speech")[0].json
    if where == "groq":
        assert chat["reasoning_effort"] == "low" and speech["sample_rate"] == 48_000
    else:
        assert "reasoning_effort" not in chat and "sample_rate" not in speech


def test_extra_body_and_headers_reach_every_request(env, monkeypatch, tmp_path, capsys):
    groq, other = env
    monkeypatch.setenv("VOICELOOP_LLM__BASE_URL", other.base_url)
    monkeypatch.setenv("VOICELOOP_LLM__EXTRA_BODY", '{"keep_alive": "5m", "top_k": 20}')
    monkeypatch.setenv("VOICELOOP_LLM__EXTRA_HEADERS", '{"X-Title": "voiceloop tests"}')
    monkeypatch.setenv("VOICELOOP_STT__EXTRA_BODY", '{"vad_filter": true}')
    assert main(["ask", "hi"]) == 0
    assert main(["models"]) == 0
    tones = write(tmp_path / "t.wav", tone_track([(0.2, 0.5, 440)], 1.0))
    assert main(["transcribe", str(tones)]) == 0, capsys.readouterr().err
    chat = other.requests_to("chat")[0]
    assert chat.json["keep_alive"] == "5m" and chat.json["top_k"] == 20
    assert chat.headers["x-title"] == "voiceloop tests"
    assert other.requests_to("models")[0].headers["x-title"] == "voiceloop tests"
    form = groq.requests_to("transcriptions")[0].form
    assert form["vad_filter"] == ["true"]
    assert "x-title" not in groq.requests_to("transcriptions")[0].headers


def test_extra_body_and_headers_reach_speech_and_translation(env, monkeypatch, tmp_path, capsys):
    groq, other = env
    monkeypatch.setenv("VOICELOOP_TTS__BASE_URL", other.base_url)
    monkeypatch.setenv("VOICELOOP_TTS__EXTRA_BODY", '{"speed": 1.25}')
    monkeypatch.setenv("VOICELOOP_TTS__EXTRA_HEADERS", '{"X-Voice-Pool": "a"}')
    monkeypatch.setenv("VOICELOOP_TRANSLATE__EXTRA_BODY", '{"vad_filter": true}')
    monkeypatch.setenv("VOICELOOP_TRANSLATE__EXTRA_HEADERS", '{"X-Title": "translation"}')
    assert main(["say", "Hello.", "-o", str(tmp_path / "h.wav")]) == 0, capsys.readouterr().err
    tones = write(tmp_path / "t.wav", tone_track([(0.2, 0.5, 440)], 1.0))
    assert main(["translate", str(tones)]) == 0, capsys.readouterr().err
    speech = other.requests_to("speech")[0]
    assert speech.json["speed"] == 1.25 and speech.headers["x-voice-pool"] == "a"
    translation = groq.requests_to("translations")[0]
    assert translation.form["vad_filter"] == ["true"]
    assert translation.headers["x-title"] == "translation"


def test_a_key_header_in_extra_headers_is_refused(env, monkeypatch, capsys):
    monkeypatch.setenv("VOICELOOP_LLM__EXTRA_HEADERS", '{"Authorization": "Bearer sk-x"}')
    assert main(["ask", "hi"]) == 2
    err = capsys.readouterr().err
    assert "api_key" in err and "sk-x" not in err


@pytest.mark.parametrize("fmt", ["pcm", "mp3", "flac"])
def test_speech_formats_other_than_wav(env, fmt, monkeypatch, tmp_path, capsys):
    _, other = env
    other.speech_formats = {"wav", "pcm", "mp3", "flac"}
    monkeypatch.setenv("VOICELOOP_TTS__BASE_URL", other.base_url)
    monkeypatch.setenv("VOICELOOP_TTS__RESPONSE_FORMAT", fmt)
    out = tmp_path / "s.wav"
    assert main(["say", "Hello there, how are you?", "-o", str(out)]) == 0, capsys.readouterr().err
    sent = other.requests_to("speech")[0]
    assert sent.json["response_format"] == fmt and "sample_rate" not in sent.json
    audio, rate = sf.read(out)
    expected_rate = 24_000 if fmt == "pcm" else 48_000
    assert rate == expected_rate
    # The fake speaks 20 ms per character: the whole sweep came through, not a piece of it.
    assert abs(len(audio) / rate - 0.02 * len("Hello there, how are you?")) < 0.06


def test_engine_refuses_a_format_groq_does_not_send(env, monkeypatch):
    from voiceloop.config import load_settings
    from voiceloop.errors import ConfigError
    from voiceloop.stages import StageContext, registry

    monkeypatch.setenv("VOICELOOP_TTS__RESPONSE_FORMAT", "mp3")
    settings = load_settings()
    with pytest.raises(ConfigError, match="response_format"):
        registry.create("synthesizer", "groq", settings.tts, StageContext(settings=settings))


def test_long_text_to_speak_is_split_by_the_configured_language(env, monkeypatch, tmp_path):
    groq, _ = env
    monkeypatch.setenv("VOICELOOP_STT__LANGUAGE", "de")
    monkeypatch.setenv("VOICELOOP_TTS__MAX_CHARS", "60")
    text = "Wir brauchen Obst, z. B. Äpfel und Birnen vom Markt. Nr. 5 ist das Haus am Ende."
    assert main(["say", text, "-o", str(tmp_path / "de.wav")]) == 0
    spoken = [r.json["input"] for r in groq.requests_to("speech")]
    assert spoken == [
        "Wir brauchen Obst, z. B. Äpfel und Birnen vom Markt.",
        "Nr. 5 ist das Haus am Ende.",
    ]
