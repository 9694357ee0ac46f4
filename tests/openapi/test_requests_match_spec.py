"""Every request voiceloop sends validates against Groq's published OpenAPI schema.

The requests are the real ones: the commands and the client talk to the loopback fake server,
which keeps each request's bytes as received; openapi-core then validates method, path,
content type and body (JSON or multipart) against ``groq-openapi.yaml``.

The copy of the schema here is Groq's, unchanged; it is stale in two ways, loosened in
:func:`_loosened` and nowhere else:

- ``model`` properties list models by name, and the list lags what the API serves
  (``canopylabs/orpheus-v1-english`` is not in the speech list): every ``model`` accepts any
  string, as the API itself does (it answers an unknown model with 404, not a schema error).
- the chat request schema forbids additional properties but lacks ``stream_options``, which
  the API accepts (``{"include_usage": true}`` puts usage in the last stream chunk).
"""

from __future__ import annotations

import copy
import email.policy
import io
from email.parser import BytesParser
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import yaml
from openapi_core import OpenAPI
from openapi_core.testing import MockRequest
from openapi_schema_validator import OAS30Validator
from pydantic import SecretStr

from tests.fakegroq.server import FakeGroq, RecordedRequest
from tests.fakegroq.sounds import tone, tone_track, voice_bursts, write
from voiceloop.cli import main
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.http import ClientPool

SPEC = Path(__file__).with_name("groq-openapi.yaml")
TURBO, LARGE, CHAT, TTS = (
    "whisper-large-v3-turbo", "whisper-large-v3", "openai/gpt-oss-20b",
    "canopylabs/orpheus-v1-english",
)  # fmt: skip


def _loosened(spec: dict[str, Any]) -> dict[str, Any]:
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]
    for schema in schemas.values():
        props = schema.get("properties", {}) if isinstance(schema, dict) else {}
        if "model" in props and "anyOf" in props["model"]:
            props["model"] = {"type": "string", "description": props["model"].get("description")}
    schemas["CreateChatCompletionRequest"]["properties"]["stream_options"] = {
        "type": "object",
        "nullable": True,
        "additionalProperties": False,
        "properties": {"include_usage": {"type": "boolean"}},
    }
    return spec


@cache
def _raw_spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC.read_text())


@cache
def _openapi() -> OpenAPI:
    return OpenAPI.from_dict(_loosened(_raw_spec()))


def validate(rec: RecordedRequest) -> None:
    """Raise if ``rec`` is not a request the schema allows."""
    content_type = rec.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        _validate_multipart(rec, content_type)
        return
    request = MockRequest(
        "https://api.groq.com",
        rec.method,
        rec.path,
        args=dict(_query_pairs(rec.query)),
        headers=rec.headers,
        data=rec.body,
        content_type=content_type,
    )
    _openapi().validate_request(request)


def _validate_multipart(rec: RecordedRequest, content_type: str) -> None:
    """openapi-core's own multipart decoding leaves every field a string (so ``temperature``
    fails ``type: number``) and does not know the ``name[]`` convention for arrays that Groq
    and OpenAI use; so the body is split here, each field typed as its schema says, and the
    result validated with the OpenAPI 3.0 schema validator openapi-core itself uses."""
    operation = _loosened(_raw_spec())["paths"][rec.path][rec.method.lower()]
    ref = operation["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    schema = _loosened(_raw_spec())["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + rec.body
    )
    assert message.is_multipart(), "the upload is not a well-formed multipart body"
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        assert isinstance(name, str), part
        payload = part.get_payload(decode=True)
        if part.get_filename() is not None:
            fields[name] = payload
            continue
        text = payload.decode()
        if name.endswith("[]"):
            fields.setdefault(name[:-2], []).append(text)
            continue
        kind = schema["properties"].get(name, {}).get("type")
        fields[name] = float(text) if kind == "number" else int(text) if kind == "integer" else text
    assert fields.get("file"), "no audio file in the upload"
    OAS30Validator(schema).validate(fields)


def _query_pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query)


def _validate_all(fake: FakeGroq, *routes: str) -> list[RecordedRequest]:
    seen = [r for r in fake.requests if r.route in routes]
    assert seen, f"no request reached {routes}"
    for rec in seen:
        validate(rec)
    return seen


def _flac(pcm: np.ndarray, rate: int = 16_000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, format="FLAC")
    return buf.getvalue()


# -- the validator is not a rubber stamp ---------------------------------------------------


def _post(path: str, body: bytes, headers: dict[str, str] | None = None) -> MockRequest:
    auth = {"authorization": "Bearer gsk_x"} if headers is None else headers
    return MockRequest("https://api.groq.com", "post", path, headers=auth, data=body)


def test_the_loosening_is_needed_and_the_schema_still_refuses_bad_requests():
    strict = OpenAPI.from_dict(_raw_spec())
    body = (
        b'{"model": "openai/gpt-oss-20b", "messages": [{"role": "user", "content": "hi"}],'
        b' "stream": true, "stream_options": {"include_usage": true}}'
    )
    chat = _post("/openai/v1/chat/completions", body)
    with pytest.raises(Exception, match=r"(?i)valid"):
        strict.validate_request(chat)
    _openapi().validate_request(chat)
    for bad in (
        b'{"model": "x", "messages": []}',
        b'{"model": "x", "messages": [{"role": "user", "content": "hi"}], "nonsense": 1}',
        b'{"model": "x", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}',
    ):
        req = _post("/openai/v1/chat/completions", bad)
        with pytest.raises(Exception, match=r"(?i)valid"):
            _openapi().validate_request(req)
    speech = b'{"model": "m", "input": "hi", "voice": "v", "sample_rate": 12345}'
    with pytest.raises(Exception, match=r"(?i)valid"):
        _openapi().validate_request(_post("/openai/v1/audio/speech", speech))
    with pytest.raises(Exception, match=r"(?i)security"):
        _openapi().validate_request(_post("/openai/v1/chat/completions", body, headers={}))


# -- the client, with every option it sends ------------------------------------------------


@pytest.fixture
async def client(fake_groq):
    pool = ClientPool()
    yield GroqClient(fake_groq.base_url, SecretStr(fake_groq.api_key), pool=pool)
    await pool.aclose()


async def test_transcription_and_translation_requests(client, fake_groq):
    audio = _flac(tone_track([(0.5, 1.0, 440), (3.0, 1.5, 880)], 5.0))
    await client.transcribe(
        audio, model=TURBO, language="en", prompt="Tones.", response_format="verbose_json",
        temperature=0.0, timestamp_granularities=["word", "segment"],
    )  # fmt: skip
    await client.transcribe(audio, model=TURBO, response_format="text")
    await client.transcribe(audio, model=TURBO)
    await client.translate(audio, model=LARGE)
    sent = _validate_all(fake_groq, "transcriptions", "translations")
    assert len(sent) == 4 and all(r.body for r in sent)


async def test_chat_requests_streamed_and_not(client, fake_groq):
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]
    await client.chat(messages, model=CHAT, temperature=0.5, max_completion_tokens=20,
                      reasoning_effort="low")  # fmt: skip
    await client.chat(messages, model=CHAT)
    stream = client.chat_stream(messages, model=CHAT)
    async for _ in stream:
        pass
    sent = _validate_all(fake_groq, "chat")
    assert [r.json["stream"] for r in sent] == [False, False, True]
    assert sent[2].json["stream_options"] == {"include_usage": True}


async def test_speech_and_models_requests(client, fake_groq):
    fake_groq.latency.speech_chunk = 0.001
    await client.speech("Hello there, friend.", model=TTS, voice="autumn", sample_rate=48_000)
    await client.speech("Hello.", model=TTS, voice="daniel", sample_rate=24_000)
    await client.models()
    _validate_all(fake_groq, "speech", "models")


# -- the commands, as a user runs them -----------------------------------------------------


def test_every_command_sends_valid_requests(capsys, groq_env, tmp_path, monkeypatch):
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "energy")  # the bursts are not a voice
    tones = write(tmp_path / "tones.wav", tone_track([(0.5, 1.0, 440), (2.5, 1.0, 880)], 4.0))
    speech = voice_bursts(tmp_path / "speech.wav", 1)
    groq_env.latency.speech_chunk = 0.001
    commands = [
        ["transcribe", str(tones)],
        ["transcribe", str(tones), "--language", "fr", "--prompt", "Zoë"],
        ["transcribe", str(tones), "--format", "srt"],
        ["transcribe", str(tones), "--format", "verbose_json"],
        ["translate", str(tones)],
        ["ask", "one two three"],
        ["say", "Hello there.", "-o", str(tmp_path / "hello.wav"), "--voice", "daniel"],
        ["models"],
        # the engine's three modes, with their early and speculative requests
        ["converse", "--headless", "--input", str(speech), "--output", str(tmp_path / "r.wav")],
        ["dictate", "--headless", "--input", str(speech)],
        ["translate", "--headless", "--input", str(speech)],
    ]
    for argv in commands:
        assert main(argv) == 0, (argv, capsys.readouterr().err)
    capsys.readouterr()
    routes = {"transcriptions", "translations", "chat", "speech", "models"}
    assert {r.route for r in groq_env.requests} >= routes
    _validate_all(groq_env, *routes)


def test_a_short_wav_upload_is_valid_multipart(groq_env, tmp_path):
    path = write(tmp_path / "short.wav", tone(300, 0.5))
    assert main(["transcribe", str(path)]) == 0
    (rec,) = _validate_all(groq_env, "transcriptions")
    assert rec.headers["content-type"].startswith("multipart/form-data")


def test_a_malformed_upload_is_refused():
    import httpx

    def upload(**data: str) -> RecordedRequest:
        req = httpx.Request(
            "POST", "https://api.groq.com/openai/v1/audio/transcriptions",
            data=data, files={"file": ("a.flac", b"fLaC...", "audio/flac")},
        )  # fmt: skip
        return RecordedRequest(
            route="transcriptions", method="POST", path=req.url.path,
            headers={k.lower(): v for k, v in req.headers.items()}, body=req.read(),
        )  # fmt: skip

    validate(upload(model=TURBO, temperature="0.2"))
    for bad in ({"model": TURBO, "colour": "red"}, {"model": TURBO, "response_format": "mp3"},
                {"temperature": "0.2"}):  # fmt: skip
        with pytest.raises(Exception, match=r"(?i)valid|required|additional"):
            validate(upload(**bad))
