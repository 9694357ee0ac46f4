"""The live modes on real third-party servers, no Groq anywhere: speech to text on
faster-whisper-server (tiny.en), chat through the LiteLLM proxy, speech by the local
Piper voice. Each stage sends its own key to its own server."""

from __future__ import annotations

import soundfile as sf

from tests.fakegroq.sounds import espeak
from tests.servers.conftest import GATEWAY_KEY, GATEWAY_REPLY
from voiceloop.cli import main

QUESTION = "What is the capital of France?"


def configure(monkeypatch, tmp_path, whisper_server, litellm_server) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    monkeypatch.delenv("GROQ_BASE_URL", raising=False)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[stt]\nbase_url = "{whisper_server.root}/v1"\nauth = "none"\nmodel = "whisper-1"\n'
        f'[llm]\nbase_url = "{litellm_server.root}/v1"\napi_key = "{GATEWAY_KEY}"\n'
        'model = "mock-chat"\n'
        '[tts]\nprovider = "local"\n'
    )
    monkeypatch.setenv("VOICELOOP_CONFIG", str(config))
    monkeypatch.setenv("VOICELOOP_LOG_DIR", str(tmp_path / "logs"))


def test_converse_asks_the_gateway_what_the_whisper_server_heard(
    capsys, monkeypatch, tmp_path, whisper_server, litellm_server
):
    configure(monkeypatch, tmp_path, whisper_server, litellm_server)
    question = espeak(tmp_path / "question.wav", QUESTION)
    reply = tmp_path / "reply.wav"
    code = main(["converse", "--headless", "--input", str(question), "--output", str(reply)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "capital of france" in err.lower(), err  # the transcript, as the event line shows it
    assert out.strip() == GATEWAY_REPLY
    audio, rate = sf.read(reply)
    assert len(audio) / rate > 1.0, "the reply was not spoken"


def test_dictate_writes_what_the_whisper_server_heard(
    capsys, monkeypatch, tmp_path, whisper_server, litellm_server
):
    configure(monkeypatch, tmp_path, whisper_server, litellm_server)
    question = espeak(tmp_path / "question.wav", QUESTION)
    code = main(["dictate", "--headless", "--input", str(question)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "capital of france" in out.lower(), out
