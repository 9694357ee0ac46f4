"""GroqClient against the loopback fake server: real HTTP, real multipart, real SSE."""

from __future__ import annotations

import asyncio
import io
import time

import numpy as np
import pytest
import soundfile as sf
from pydantic import SecretStr

from tests.fakegroq import Fault
from tests.fakegroq.sounds import silence, tone, tone_track
from voiceloop.errors import (
    AuthenticationError,
    BadRequestError,
    ModelNotFoundError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    StreamError,
)
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.http import ClientPool

TURBO, LARGE, CHAT, TTS = (
    "whisper-large-v3-turbo", "whisper-large-v3", "openai/gpt-oss-20b",
    "canopylabs/orpheus-v1-english",
)  # fmt: skip


def flac(pcm: np.ndarray, rate: int = 16_000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, pcm, rate, format="FLAC")
    return buf.getvalue()


@pytest.fixture
async def pool():
    waits: list[float] = []

    async def fast_sleep(seconds: float) -> None:
        waits.append(seconds)

    p = ClientPool(sleep=fast_sleep)
    p.waits = waits  # type: ignore[attr-defined]
    yield p
    await p.aclose()


@pytest.fixture
def client(fake_groq, pool):
    return GroqClient(fake_groq.base_url, SecretStr(fake_groq.api_key), pool=pool)


async def test_transcribe_sends_all_fields_and_reads_verbose_segments(client, fake_groq):
    audio = flac(tone_track([(0.5, 1.0, 440), (3.0, 1.5, 880)], 5.0))
    result = await client.transcribe(
        audio, model=TURBO, language="en", prompt="Tones.", response_format="verbose_json",
        temperature=0.0, timestamp_granularities=["word", "segment"],
    )  # fmt: skip
    assert result.text == "tone 440 hertz tone 880 hertz"
    assert [(s["start"], s["end"]) for s in result.segments] == [(0.5, 1.5), (3.0, 4.5)]
    assert result.duration == pytest.approx(5.0)
    assert result.words and result.request_id
    sent = fake_groq.requests_to("transcriptions")[0]
    assert sent.form == {
        "model": [TURBO], "response_format": ["verbose_json"], "language": ["en"],
        "prompt": ["Tones."], "temperature": ["0.0"],
        "timestamp_granularities[]": ["word", "segment"],
    }  # fmt: skip
    assert sent.file is not None and sent.file[1] == audio and sent.file[2] == "audio/flac"


async def test_transcribe_text_and_json_formats(client):
    audio = flac(tone(660, 1.0))
    assert (await client.transcribe(audio, model=TURBO, response_format="text")).text == (
        "tone 660 hertz"
    )
    result = await client.transcribe(audio, model=TURBO)
    assert result.text == "tone 660 hertz" and result.request_id


async def test_translate_uses_translations_route_and_refuses_turbo(client, fake_groq):
    audio = flac(tone(500, 1.0))
    result = await client.translate(audio, model=LARGE)
    assert result.text == "English: tone 500 hertz"
    with pytest.raises(BadRequestError) as info:
        await client.translate(audio, model=TURBO)
    assert "whisper-large-v3" in info.value.hint
    assert info.value.status == 400


async def test_missing_model_and_unknown_or_decommissioned_models(client):
    audio = flac(tone(500, 0.5))
    with pytest.raises(BadRequestError, match="model"):
        await client.transcribe(audio, model="")
    with pytest.raises(ModelNotFoundError) as info:
        await client.transcribe(audio, model="whisper-nonexistent")
    assert info.value.status == 404 and info.value.code == "model_not_found"
    with pytest.raises(ModelNotFoundError) as info:
        await client.transcribe(audio, model="distil-whisper-large-v3-en")
    assert info.value.code == "model_decommissioned" and "voiceloop models" in info.value.hint


async def test_upload_too_large_for_server_is_413(client, fake_groq):
    fake_groq.upload_limit_bytes = 10_000
    with pytest.raises(RequestTooLargeError):
        await client.transcribe(flac(tone(500, 3.0)), model=TURBO)


async def test_wrong_key(fake_groq, pool):
    bad = GroqClient(fake_groq.base_url, SecretStr("wrong"), pool=pool)
    with pytest.raises(AuthenticationError) as info:
        await bad.models()
    assert info.value.status == 401 and "wrong" not in info.value.one_line()


async def test_429_with_retry_after_is_waited_and_counted(client, fake_groq, pool):
    fake_groq.set_fault("transcriptions", Fault.http(429, retry_after=3))
    result = await client.transcribe(flac(tone(300, 0.5)), model=TURBO)
    assert result.text == "tone 300 hertz"
    assert len(fake_groq.requests_to("transcriptions")) == 2
    assert pool.waits == [3.0]


async def test_persistent_503_gives_server_error_after_three_attempts(client, fake_groq, pool):
    fake_groq.set_fault("models", *[Fault.http(503)] * 3)
    with pytest.raises(ServerError):
        await client.models()
    assert len(fake_groq.requests_to("models")) == 3
    assert pool.waits == [pytest.approx(0.5, abs=0.13), pytest.approx(1.0, abs=0.26)]


async def test_498_flex_capacity_is_retried(client, fake_groq):
    fake_groq.set_fault("chat", Fault.http(498))
    result = await client.chat([{"role": "user", "content": "hi"}], model=CHAT)
    assert result.text.startswith("You said: hi")
    assert len(fake_groq.requests_to("chat")) == 2


async def test_rate_limit_error_when_retries_run_out(client, fake_groq):
    fake_groq.set_fault("chat", *[Fault.http(429, retry_after=1)] * 3)
    with pytest.raises(RateLimitError) as info:
        await client.chat([{"role": "user", "content": "hi"}], model=CHAT)
    assert info.value.retry_after == 1.0


async def test_connection_reset_mid_body_of_a_whole_response_is_retried(client, fake_groq):
    fake_groq.set_fault("transcriptions", Fault.reset())
    result = await client.transcribe(flac(tone(700, 0.5)), model=TURBO)
    assert result.text == "tone 700 hertz"
    assert len(fake_groq.requests_to("transcriptions")) == 2


async def test_rate_limits_available_after_a_call(client):
    await client.models()
    limits = client.rate_limits
    assert limits is not None and limits.remaining_requests == 14370
    assert limits.reset_requests == pytest.approx(179.56)


async def test_models_list_keeps_unknown_fields(client):
    models = await client.models()
    ids = [m.id for m in models]
    assert CHAT in ids and LARGE in ids
    chat = next(m for m in models if m.id == CHAT)
    assert chat.context_window == 131072 and chat.active is True and chat.owned_by == "OpenAI"
    assert "max_completion_tokens" in chat.extra


async def test_chat_not_streamed_carries_usage(client, fake_groq):
    result = await client.chat(
        [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}],
        model=CHAT, temperature=0.5, max_completion_tokens=20, reasoning_effort="low",
    )  # fmt: skip
    assert result.text == "You said: hello. That is all I know."
    assert result.finish_reason == "stop"
    assert result.usage["queue_time"] == 0.01 and result.usage["completion_tokens"] == 8
    sent = fake_groq.requests_to("chat")[0].json
    assert sent["stream"] is False and "stream_options" not in sent
    assert sent["temperature"] == 0.5 and sent["reasoning_effort"] == "low"


async def test_chat_stream_first_words_arrive_before_the_reply_ends(client, fake_groq):
    fake_groq.chat_reply = "one two three four five six"
    fake_groq.latency.first_token = 0.05
    fake_groq.latency.per_token = 0.1
    start = time.monotonic()
    stream = client.chat_stream([{"role": "user", "content": "count"}], model=CHAT)
    times = []
    async for delta in stream:
        times.append((delta.content, time.monotonic() - start))
    assert "".join(t for t, _ in times) == "one two three four five six"
    # The first delta came long before the last one (paced at 0.1 s per token).
    assert times[-1][1] - times[0][1] >= 0.35
    assert stream.usage["total_tokens"] > 0 and stream.finish_reason == "stop"
    assert fake_groq.requests_to("chat")[0].json["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("fault", [Fault.error_event(after=2), Fault.bare_error(after=2)])
async def test_chat_stream_error_mid_way(client, fake_groq, fault):
    fake_groq.set_fault("chat", fault)
    got = []
    with pytest.raises(StreamError, match="injected mid-stream error"):
        async for delta in client.chat_stream([{"role": "user", "content": "x"}], model=CHAT):
            got.append(delta.content)
    assert got == ["You ", "said: "]
    assert len(fake_groq.requests_to("chat")) == 1


async def test_chat_stream_cut_after_text_is_never_resent(client, fake_groq):
    fake_groq.set_fault("chat", Fault.cut(after=3))
    got = []
    with pytest.raises(StreamError):
        async for delta in client.chat_stream([{"role": "user", "content": "x"}], model=CHAT):
            got.append(delta.content)
    assert len(got) == 3
    assert len(fake_groq.requests_to("chat")) == 1


async def test_chat_stream_reset_before_text_is_resent(client, fake_groq):
    fake_groq.set_fault("chat", Fault.reset(after=0))
    stream = client.chat_stream([{"role": "user", "content": "again"}], model=CHAT)
    text = "".join([d.content async for d in stream])
    assert text == "You said: again. That is all I know."
    assert len(fake_groq.requests_to("chat")) == 2


async def test_cancelling_a_stream_mid_way_closes_the_connection(client, fake_groq):
    fake_groq.chat_reply = " ".join(["word"] * 50)
    fake_groq.latency.per_token = 0.2
    first = asyncio.Event()

    async def consume():
        async for _ in client.chat_stream([{"role": "user", "content": "x"}], model=CHAT):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The server notices the client went away well before the 10 s the reply would take.
    for _ in range(100):
        if fake_groq.abandoned_streams:
            break
        await asyncio.sleep(0.05)
    assert fake_groq.abandoned_streams == 1


async def test_slow_response_times_out(fake_groq):
    pool = ClientPool(read_timeout=0.3, max_retries=0)
    client = GroqClient(fake_groq.base_url, SecretStr(fake_groq.api_key), pool=pool)
    fake_groq.set_fault("models", Fault.slow(1.5))
    from voiceloop.errors import ProviderTimeoutError

    try:
        with pytest.raises(ProviderTimeoutError):
            await client.models()
    finally:
        await pool.aclose()


@pytest.mark.parametrize("rate", [24_000, 48_000])
async def test_speech_reads_the_real_rate_from_the_header(client, fake_groq, rate):
    fake_groq.speech_rate = rate  # whatever was asked for, the server answers at this rate
    fake_groq.latency.speech_chunk = 0.005
    audio = await client.speech("Hello there, friend.", model=TTS, voice="autumn",
                                sample_rate=48_000)  # fmt: skip
    assert audio.sample_rate == rate
    assert audio.duration == pytest.approx(0.4, abs=0.01)  # 20 chars x 0.02 s
    assert audio.pcm.dtype == np.float32 and 0.2 < np.abs(audio.pcm).max() <= 0.31
    sent = fake_groq.requests_to("speech")[0].json
    assert sent == {"model": TTS, "input": "Hello there, friend.", "voice": "autumn",
                    "response_format": "wav", "sample_rate": 48_000}  # fmt: skip


async def test_speech_is_decoded_while_the_body_arrives(client, fake_groq):
    fake_groq.latency.speech_chunk = 0.003
    pieces = []
    async for piece in client.speech_stream("x" * 150, model=TTS, voice="autumn"):
        pieces.append(piece)
    assert len(pieces) > 5
    assert sum(len(p.pcm) for p in pieces) == int(48_000 * 0.02 * 150)


async def test_speech_errors(client, fake_groq):
    with pytest.raises(BadRequestError, match="200 characters"):
        await client.speech("x" * 201, model=TTS, voice="autumn")
    with pytest.raises(BadRequestError, match="voice"):
        await client.speech("hi", model=TTS, voice="nobody")
    with pytest.raises(ModelNotFoundError):
        await client.speech("hi", model="playai-tts", voice="autumn")


async def test_speech_cut_after_audio_is_an_error(client, fake_groq):
    fake_groq.set_fault("speech", Fault.reset(after=2))
    with pytest.raises(StreamError):
        await client.speech("x" * 150, model=TTS, voice="autumn")
    assert len(fake_groq.requests_to("speech")) == 1


async def test_silence_comes_back_as_the_classic_phantom(client):
    result = await client.transcribe(flac(silence(2.0)), model=TURBO,
                                     response_format="verbose_json")  # fmt: skip
    assert result.text == "Thank you."
    assert result.segments[0]["no_speech_prob"] > 0.6


async def test_cancelling_a_slow_request_returns_at_once_and_the_pool_still_works(
    client, fake_groq
):
    fake_groq.set_fault("models", Fault.slow(3.0))
    task = asyncio.create_task(client.models())
    await asyncio.sleep(0.3)
    start = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - start < 1.0
    assert [m.id for m in await client.models()]


async def test_warm_opens_a_connection_before_the_first_request(client, fake_groq, pool):
    await pool.warm(fake_groq.base_url)
    connections = pool.client(fake_groq.base_url)._transport._pool.connections
    assert len(connections) == 1
    await client.models()
    assert len(pool.client(fake_groq.base_url)._transport._pool.connections) == 1


async def test_speech_with_max_chars_splits_and_joins(client, fake_groq):
    fake_groq.speech_rate = 24_000
    text = "First part of it, with a clause. " * 8
    audio = await client.speech(text.strip(), model=TTS, voice="autumn", max_chars=100)
    inputs = [r.json["input"] for r in fake_groq.requests_to("speech")]
    assert len(inputs) >= 3 and all(len(i) <= 100 for i in inputs)
    assert audio.sample_rate == 24_000
    assert audio.duration == pytest.approx(sum(len(i) * 0.02 for i in inputs), abs=0.01)


@pytest.mark.parametrize("streamed", [True, False])
async def test_reasoning_fields_refused_by_a_model_are_dropped_and_resent(
    client, fake_groq, streamed
):
    messages = [{"role": "user", "content": "hi"}]
    model = "llama-3.3-70b-versatile"
    if streamed:
        stream = client.chat_stream(messages, model=model, reasoning_effort="low")
        text = "".join([d.content async for d in stream])
    else:
        text = (await client.chat(messages, model=model, reasoning_effort="low")).text
    assert text.startswith("You said: hi")
    sent = [r.json for r in fake_groq.requests_to("chat")]
    assert len(sent) == 2
    assert sent[0]["reasoning_effort"] == "low" and "reasoning_effort" not in sent[1]
