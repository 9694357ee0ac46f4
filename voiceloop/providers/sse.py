"""Server-sent events of an OpenAI-style stream, as parsed JSON chunks.

Built on httpx-sse (which already drops ``:`` comments such as keep-alives). On top of it:
``data: [DONE]`` ends the stream; ``event: error`` or a bare ``data: {"error": ...}`` after
HTTP 200 raises :class:`StreamError`; so does a stream that ends before ``[DONE]`` or a
connection that breaks mid-way.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from voiceloop.errors import StreamError
from voiceloop.providers.http_errors import parse_error_body, request_id_of

DONE = "[DONE]"


class StreamCut(StreamError):
    """The stream ended or broke without the server reporting an error."""


def _stream_error(payload: Any, response: httpx.Response, provider: str) -> StreamError:
    message, err_type, code = parse_error_body(payload)
    return StreamError(
        f"{provider}: the stream reported an error: {message or 'unknown error'}",
        hint="try again",
        status=response.status_code,
        error_type=err_type,
        code=code,
        request_id=request_id_of(response.headers),
        provider=provider,
    )


async def iter_json_events(
    response: httpx.Response, *, provider: str, require_done: bool = True
) -> AsyncIterator[dict[str, Any]]:
    """Yield each ``data:`` JSON object of ``response`` until ``[DONE]``.

    ``require_done=False`` accepts a stream that simply ends (some OpenAI-compatible
    servers omit the ``[DONE]`` line).
    """
    source = EventSource(response)
    try:
        async for event in source.aiter_sse():
            data = event.data
            if data.strip() == DONE:
                return
            if event.event == "error":
                try:
                    payload: Any = json.loads(data) if data else {}
                except ValueError:
                    payload = data
                raise _stream_error(payload, response, provider)
            if not data.strip():
                continue
            try:
                chunk = json.loads(data)
            except ValueError:
                raise StreamError(
                    f"{provider}: the stream sent something that is not JSON",
                    hint="is the base URL an OpenAI-compatible server?",
                    provider=provider,
                ) from None
            if isinstance(chunk, Mapping) and "error" in chunk and "choices" not in chunk:
                raise _stream_error(chunk, response, provider)
            if isinstance(chunk, dict):
                yield chunk
    except SSEError:
        raise StreamError(
            f"{provider}: expected an event stream, got "
            f"{response.headers.get('content-type', 'no content type')}",
            provider=provider,
        ) from None
    except httpx.HTTPError as exc:
        raise StreamCut(
            f"{provider}: the stream broke off ({type(exc).__name__})",
            hint="try again",
            provider=provider,
            request_id=request_id_of(response.headers),
        ) from None
    if require_done:
        raise StreamCut(
            f"{provider}: the stream ended before it was complete",
            hint="try again",
            provider=provider,
            request_id=request_id_of(response.headers),
        )
