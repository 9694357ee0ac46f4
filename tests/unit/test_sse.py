"""SSE parsing of chat streams: comments, errors after 200, empty choices, usage, [DONE]."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr

from voiceloop.errors import StreamError
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.http import ClientPool

BASE = "https://api.example.test/openai/v1"


def chunk(content=None, finish=None, **extra):
    delta = {} if content is None else {"content": content}
    return {"object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra}  # fmt: skip


def body(*events: str) -> bytes:
    return "".join(events).encode()


def data(obj) -> str:
    return f"data: {obj if isinstance(obj, str) else json.dumps(obj)}\n\n"


def client_for(payload: bytes, content_type="text/event-stream"):
    requests = []

    def handler(request):
        requests.append(request)
        return httpx.Response(200, content=payload, headers={"content-type": content_type})

    async def no_sleep(_):
        return None

    pool = ClientPool(transport=httpx.MockTransport(handler), sleep=no_sleep)
    return GroqClient(BASE, SecretStr("k"), pool=pool), requests


async def collect(client):
    stream = client.chat_stream([{"role": "user", "content": "hi"}], model="m")
    parts = [d.content async for d in stream]
    return parts, stream


async def test_full_stream_with_comments_empty_choices_and_usage():
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_time": 0.1}
    payload = body(
        ": keep-alive\n\n",
        data(chunk("", x_groq={"id": "req_1"})),
        data(chunk("Hello")),
        ": another comment\n\n",
        data(chunk(" world")),
        data(chunk(None, "stop", x_groq={"id": "req_1", "usage": {"queue_time": 0.02}})),
        data({"object": "chat.completion.chunk", "choices": [], "usage": usage}),
        data("[DONE]"),
    )
    client, _ = client_for(payload)
    parts, stream = await collect(client)
    assert parts == ["Hello", " world"]
    assert stream.text == "Hello world"
    assert stream.finish_reason == "stop"
    assert stream.usage["queue_time"] == 0.02 and stream.usage["completion_tokens"] == 2
    assert stream.request_id == "req_1"


async def test_reasoning_deltas_are_kept_apart_from_content():
    payload = body(
        data({"choices": [{"delta": {"reasoning": "thinking"}}]}),
        data(chunk("Answer")),
        data("[DONE]"),
    )
    client, _ = client_for(payload)
    stream = client.chat_stream([{"role": "user", "content": "q"}], model="m")
    deltas = [d async for d in stream]
    assert [(d.content, d.reasoning) for d in deltas] == [("", "thinking"), ("Answer", "")]
    assert stream.text == "Answer"


async def test_error_event_after_200_raises_stream_error():
    err = {"error": {"message": "model overloaded", "type": "server_error", "code": "x"}}
    payload = body(data(chunk("Hi")), f"event: error\ndata: {json.dumps(err)}\n\n")
    client, requests = client_for(payload)
    with pytest.raises(StreamError) as info:
        await collect(client)
    assert "model overloaded" in str(info.value)
    assert info.value.error_type == "server_error"
    assert len(requests) == 1


async def test_bare_error_data_raises_stream_error():
    payload = body(data({"error": {"message": "quota gone"}}))
    client, requests = client_for(payload)
    with pytest.raises(StreamError, match="quota gone"):
        await collect(client)
    assert len(requests) == 1  # a server-reported error is not a cut: not re-sent


async def test_stream_cut_before_done_after_text_is_an_error_and_not_resent():
    client, requests = client_for(body(data(chunk("partial"))))
    got = []
    with pytest.raises(StreamError, match="ended before it was complete"):
        stream = client.chat_stream([{"role": "user", "content": "hi"}], model="m")
        async for d in stream:
            got.append(d.content)
    assert got == ["partial"]
    assert len(requests) == 1


async def test_stream_cut_before_any_text_is_resent_within_budget():
    client, requests = client_for(body(": keep-alive\n\n"))
    with pytest.raises(StreamError):
        await collect(client)
    assert len(requests) == 3  # first try + 2 retries, nothing had reached the caller


async def test_not_an_event_stream():
    client, _ = client_for(b'{"hello": 1}', content_type="application/json")
    with pytest.raises(StreamError, match="expected an event stream"):
        await collect(client)


async def test_request_body_has_stream_options_and_only_given_fields():
    client, requests = client_for(body(data(chunk("x")), data("[DONE]")))
    stream = client.chat_stream(
        [{"role": "user", "content": "hi"}], model="m", temperature=0.2, top_p=0.9,
        stop=["\n\n"], seed=7, max_completion_tokens=50, reasoning_effort="low",
        reasoning_format="hidden",
    )  # fmt: skip
    _ = [d async for d in stream]
    sent = json.loads(requests[0].content)
    assert sent == {
        "model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": True,
        "temperature": 0.2, "top_p": 0.9, "stop": ["\n\n"], "seed": 7,
        "max_completion_tokens": 50, "reasoning_effort": "low", "reasoning_format": "hidden",
        "stream_options": {"include_usage": True},
    }  # fmt: skip
