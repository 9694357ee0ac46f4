"""Replies shaped unlike Groq's: content negotiation, chat servers that do not stream."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from pydantic import SecretStr

from tests.fakegroq.sounds import tone_track
from voiceloop.frames import Message
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.http import ClientPool

CHAT = "openai/gpt-oss-20b"


def flac(pcm: np.ndarray, rate: int = 16_000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, format="FLAC")
    return buf.getvalue()


@pytest.fixture
async def client(fake_groq):
    pool = ClientPool()
    yield GroqClient(fake_groq.base_url, SecretStr(fake_groq.api_key), pool=pool)
    await pool.aclose()


async def test_json_endpoints_ask_for_json(client, fake_groq):
    fake_groq.text_unless_json_accepted = True
    audio = flac(tone_track([(0.5, 1.0, 440)], 2.0))
    result = await client.transcribe(audio, model="whisper-large-v3-turbo",
                                     response_format="verbose_json")  # fmt: skip
    assert result.text == "tone 440 hertz" and result.segments
    await client.models()
    await client.chat([Message("user", "hi")], model=CHAT)
    for route in ("transcriptions", "models", "chat"):
        assert fake_groq.requests_to(route)[0].headers["accept"] == "application/json"


async def test_a_text_transcription_asks_for_text(client, fake_groq):
    audio = flac(tone_track([(0.5, 1.0, 440)], 2.0))
    result = await client.transcribe(audio, model="whisper-large-v3-turbo", response_format="text")
    assert result.text == "tone 440 hertz"
    assert fake_groq.requests_to("transcriptions")[0].headers["accept"] == "text/plain"


async def test_streamed_chat_answered_with_a_whole_completion_is_used(client, fake_groq):
    fake_groq.chat_streams = False
    fake_groq.chat_reply = "One whole reply. Not streamed."
    stream = client.chat_stream([Message("user", "hi")], model=CHAT)
    deltas = [d.content async for d in stream]
    assert deltas == ["One whole reply. Not streamed."]
    assert stream.text == "One whole reply. Not streamed."
    assert stream.finish_reason == "stop" and stream.usage["completion_tokens"] > 0
    sent = fake_groq.requests_to("chat")[0]
    assert sent.json["stream"] is True
    assert sent.headers["accept"].startswith("text/event-stream")


async def test_speech_asks_for_wav(client, fake_groq):
    stream = client.speech_stream("Hello.", model="canopylabs/orpheus-v1-english",
                                  voice="autumn")  # fmt: skip
    assert [p async for p in stream]
    assert fake_groq.requests_to("speech")[0].headers["accept"] == "audio/wav"


@pytest.mark.parametrize("rate", [24_000, 22_050])
async def test_raw_pcm_speech_plays_while_it_arrives_at_its_rate(client, fake_groq, rate):
    import time

    fake_groq.speech_formats = {"wav", "pcm"}
    fake_groq.speech_rate = rate
    fake_groq.latency.speech_chunk = 0.05  # each 1001-byte piece 50 ms after the last
    text = "A sentence long enough to come in many pieces."
    start = time.monotonic()
    pieces = []
    async for piece in client.speech_stream(
        text,
        model="canopylabs/orpheus-v1-english",
        voice="daniel",
        response_format="pcm",
        pcm_rate=rate,
    ):
        pieces.append((time.monotonic() - start, piece))
    assert {p.sample_rate for _, p in pieces} == {rate}
    total = sum(len(p.pcm) for _, p in pieces) / rate
    assert abs(total - fake_groq.speech_seconds_per_char * len(text)) < 0.05
    first, last = pieces[0][0], pieces[-1][0]
    assert len(pieces) > 5 and last - first > 0.2, "the body was not decoded as it came"
