"""Chat completions: request bodies, whole replies and streamed replies."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import SecretStr

from voiceloop.errors import BadRequestError, ModelNotFoundError, ProviderError, StreamError
from voiceloop.frames import Message
from voiceloop.providers.http import ClientPool
from voiceloop.providers.http_errors import request_id_of
from voiceloop.providers.sse import StreamCut, iter_json_events

STREAM_ACCEPT = {"accept": "text/event-stream, application/json;q=0.5"}
"""A streamed chat asks for events, and takes a whole completion from servers that do not
stream."""

_OPTIONS = (
    "temperature",
    "top_p",
    "stop",
    "seed",
    "max_completion_tokens",
    "reasoning_effort",
    "reasoning_format",
)


def _is_json(response: httpx.Response) -> bool:
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    return bool(kind == "application/json" or kind.endswith("+json"))


def with_system_prompt(messages: Sequence[Message], system_prompt: str | None) -> list[Message]:
    """``messages`` with ``system_prompt`` first, unless they already open with one."""
    msgs = list(messages)
    if system_prompt and not (msgs and msgs[0].role == "system"):
        msgs.insert(0, Message("system", system_prompt))
    return msgs


def _message(m: Message | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(m, Message):
        return {"role": m.role, "content": m.content}
    return {"role": m["role"], "content": m["content"]}


def chat_body(
    messages: Sequence[Message | Mapping[str, Any]],
    *,
    model: str,
    stream: bool,
    temperature: float | None = None,
    top_p: float | None = None,
    stop: str | Sequence[str] | None = None,
    seed: int | None = None,
    max_completion_tokens: int | None = None,
    reasoning_effort: str | None = None,
    reasoning_format: str | None = None,
    include_usage: bool = True,
) -> dict[str, Any]:
    """The JSON body of ``POST /chat/completions``; options left as ``None`` are not sent."""
    values = {
        "temperature": temperature,
        "top_p": top_p,
        "stop": list(stop) if isinstance(stop, list | tuple) else stop,
        "seed": seed,
        "max_completion_tokens": max_completion_tokens,
        "reasoning_effort": reasoning_effort,
        "reasoning_format": reasoning_format,
    }
    body: dict[str, Any] = {"model": model, "messages": [_message(m) for m in messages]}
    body["stream"] = stream
    body.update({k: v for k in _OPTIONS if (v := values[k]) is not None})
    if stream and include_usage:
        body["stream_options"] = {"include_usage": True}
    return body


REASONING_FIELDS = ("reasoning_effort", "reasoning_format")


def without_reasoning(body: dict[str, Any], error: BadRequestError) -> dict[str, Any] | None:
    """``body`` minus the reasoning fields when the server refused them, else ``None``.

    The configured reasoning effort suits reasoning models (the default gpt-oss); a model
    without reasoning refuses the field with a 400 naming it. The request is then sent
    again without it rather than failing the turn.
    """
    if isinstance(error, ModelNotFoundError):
        return None
    said = f"{error.message} {error.code or ''}".lower()
    refused = [f for f in REASONING_FIELDS if f in body and f in said]
    if not refused:
        return None
    return {k: v for k, v in body.items() if k not in REASONING_FIELDS}


@dataclass(slots=True)
class ChatResult:
    """A whole chat completion."""

    text: str
    reasoning: str = ""
    finish_reason: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    """Token counts and Groq's timings (``usage`` merged with ``x_groq.usage``)."""
    request_id: str | None = None
    model: str | None = None


def parse_chat_completion(body: Any, headers: Mapping[str, str], provider: str) -> ChatResult:
    """Read a ``chat.completion`` object (Groq, OpenAI and the gateway all send this)."""
    if not isinstance(body, Mapping) or not isinstance(body.get("choices"), list):
        raise ProviderError(
            f"{provider}: the reply is not a chat completion",
            hint="is the base URL an OpenAI-compatible API root?",
            provider=provider,
        )
    choice = body["choices"][0] if body["choices"] else {}
    message = choice.get("message") or {}
    usage = dict(body.get("usage") or {})
    x_groq = body.get("x_groq") or {}
    usage.update(x_groq.get("usage") or {})
    return ChatResult(
        text=str(message.get("content") or ""),
        reasoning=str(message.get("reasoning") or ""),
        finish_reason=choice.get("finish_reason"),
        usage=usage,
        request_id=request_id_of(headers, body) or body.get("id"),
        model=body.get("model"),
    )


@dataclass(frozen=True, slots=True)
class ChatDelta:
    """A piece of a streamed reply."""

    content: str = ""
    reasoning: str = ""


class ChatStream:
    """A streamed chat completion.

    Iterate for :class:`ChatDelta` pieces; afterwards ``usage``, ``finish_reason``,
    ``request_id`` and ``text`` hold what the stream said. A stream that breaks before
    any text arrived is re-sent (within the pool's retry budget); one that already
    delivered text raises :class:`StreamError`. Use ``async with`` (or call ``aclose()``)
    when you may stop early, so the connection is released at once.
    """

    def __init__(
        self,
        pool: ClientPool,
        base_url: str,
        path: str,
        *,
        key: SecretStr | None,
        provider: str,
        model: str,
        body: dict[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._pool = pool
        self._headers = {**(headers or {}), **STREAM_ACCEPT}
        self._args = (base_url, path)
        self._key = key
        self.provider = provider
        self.model = model
        self.body = body
        self.usage: dict[str, Any] = {}
        self.finish_reason: str | None = None
        self.request_id: str | None = None
        self._text: list[str] = []
        self._gen: AsyncGenerator[ChatDelta, None] | None = None

    @property
    def text(self) -> str:
        """All content received so far."""
        return "".join(self._text)

    def __aiter__(self) -> AsyncIterator[ChatDelta]:
        if self._gen is None:
            self._gen = self._run()
        return self._gen

    async def aclose(self) -> None:
        if self._gen is not None:
            await self._gen.aclose()

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _absorb(self, chunk: Mapping[str, Any]) -> ChatDelta | None:
        if self.request_id is None:
            self.request_id = request_id_of({}, chunk) or chunk.get("id")
        if chunk.get("usage"):
            self.usage.update(chunk["usage"])
        x_groq = chunk.get("x_groq") or {}
        if x_groq.get("usage"):
            self.usage.update(x_groq["usage"])
        choices = chunk.get("choices") or []  # with include_usage, the last chunk has none
        if not choices:
            return None
        choice = choices[0]
        if choice.get("finish_reason"):
            self.finish_reason = choice["finish_reason"]
        delta = choice.get("delta") or {}
        content = delta.get("content") or ""
        reasoning = delta.get("reasoning") or ""
        if not (content or reasoning):
            return None
        if content:
            self._text.append(content)
        return ChatDelta(content=content, reasoning=reasoning)

    async def _whole_completion(self, response: httpx.Response) -> ChatDelta | None:
        await response.aread()
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, Mapping) or not isinstance(body.get("choices"), list):
            raise StreamError(
                f"{self.provider}: expected an event stream or a chat completion, got other JSON",
                hint="is the base URL an OpenAI-compatible server?",
                provider=self.provider,
            )
        result = parse_chat_completion(body, response.headers, self.provider)
        self.request_id = result.request_id or self.request_id
        self.usage.update(result.usage or {})
        self.finish_reason = result.finish_reason
        if not result.text:
            return None
        self._text.append(result.text)
        return ChatDelta(content=result.text)

    async def _run(self) -> AsyncGenerator[ChatDelta, None]:
        pool = self._pool
        base_url, path = self._args
        budget = pool.budget()
        while True:
            delivered = False
            try:
                async with pool.stream(
                    "POST", base_url, path, key=self._key, provider=self.provider,
                    model=self.model, json=self.body, budget=budget, headers=self._headers,
                    deadline=pool.stall_timeout or None,
                ) as response:  # fmt: skip
                    self.request_id = request_id_of(response.headers)
                    if _is_json(response):
                        # A server that does not stream answers with the whole completion.
                        delta = await self._whole_completion(response)
                        if delta is not None:
                            yield delta
                        return
                    async for chunk in iter_json_events(response, provider=self.provider):
                        delta = self._absorb(chunk)
                        if delta is not None:
                            delivered = True
                            yield delta
                return
            except BadRequestError as exc:
                stripped = without_reasoning(self.body, exc)
                if stripped is None:
                    raise
                self.body = stripped
            except StreamCut:
                # Cut off before any text reached the caller: safe to send again.
                if delivered or not budget.left:
                    raise
                await pool.wait_before_retry(budget, None)
                self.usage.clear()
                self.finish_reason = None
