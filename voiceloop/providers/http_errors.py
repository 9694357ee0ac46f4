"""Turn HTTP failures into :mod:`voiceloop.errors`: status, Groq type/code, request id, hint."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from voiceloop.errors import (
    AuthenticationError,
    BadRequestError,
    ConnectError,
    ModelNotFoundError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    StreamError,
)
from voiceloop.providers.ratelimits import RateLimits

MODELS_HINT = "run `voiceloop models` to see the models this server offers"
KEY_HINT = (
    "check the key: GROQ_API_KEY (or groq_api_key in the config file) for Groq, the "
    "stage's api_key for another server"
)
_MODEL_CODES = {"model_not_found", "model_decommissioned", "model_not_active"}


def parse_error_body(body: bytes | str | Any) -> tuple[str | None, str | None, str | None]:
    """``(message, type, code)`` from ``{"error": {...}}``, ``{"error": "msg"}`` or plain text.

    Servers may echo the key they were sent ("Invalid API Key gsk_..."): the message has
    every configured key and anything shaped like one masked, since it goes on to error
    lines, the TUI and the history store.
    """
    message, err_type, code = _parse_error_body(body)
    if message is not None:
        from voiceloop.logs import redact

        message = redact(message)
    return message, err_type, code


def _parse_error_body(body: bytes | str | Any) -> tuple[str | None, str | None, str | None]:
    data = body
    if isinstance(body, bytes | str):
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
        try:
            data = json.loads(text)
        except ValueError:
            text = " ".join(text.split())
            return (text[:200] or None), None, None
    if isinstance(data, Mapping):
        err = data.get("error", data)
        if isinstance(err, str):
            return err, None, None
        if isinstance(err, Mapping):
            message = err.get("message") or err.get("detail")
            code = err.get("code")
            return (
                str(message) if message is not None else None,
                str(err["type"]) if err.get("type") is not None else None,
                str(code) if code is not None else None,
            )
    return None, None, None


def request_id_of(headers: Mapping[str, str], body: Any = None) -> str | None:
    """The request id from ``x-request-id``, else ``x_groq.id`` in a JSON body."""
    rid = headers.get("x-request-id")
    if rid:
        return rid
    if isinstance(body, Mapping):
        x_groq = body.get("x_groq")
        if isinstance(x_groq, Mapping) and x_groq.get("id"):
            return str(x_groq["id"])
    return None


def retry_after_of(headers: Mapping[str, str]) -> float | None:
    """Seconds in ``retry-after-ms`` / ``retry-after`` (a number of seconds), if any."""
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return float(ms) / 1000.0
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _fmt_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def error_from_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    provider: str,
    model: str | None = None,
) -> ProviderError:
    """The :class:`ProviderError` for an HTTP error response."""
    message, err_type, code = parse_error_body(body)
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    common: dict[str, Any] = {
        "status": status,
        "error_type": err_type,
        "code": code,
        "request_id": request_id_of(headers, parsed),
        "provider": provider,
    }
    what = message or f"HTTP {status}"
    prefix = f"{provider}: " if provider else ""
    text = f"{prefix}{what} (HTTP {status})" if message else f"{prefix}{what}"
    lowered = (message or "").lower()
    if (
        code in _MODEL_CODES
        or "decommissioned" in lowered
        or (status == 404 and "model" in lowered)
    ):
        return ModelNotFoundError(text, hint=MODELS_HINT, **common)
    if status in (401, 403):
        return AuthenticationError(text, hint=KEY_HINT, **common)
    if status in (429, 498):
        retry_after = retry_after_of(headers)
        limits = RateLimits.from_headers(headers)
        reset = retry_after if retry_after is not None else (limits.resets_in() if limits else None)
        hint = (
            f"rate-limited; try again in {_fmt_seconds(reset)}"
            if reset is not None
            else "rate-limited; wait a moment and try again"
        )
        if status == 498:
            hint = "the service is at capacity; " + hint.split("; ", 1)[1]
        return RateLimitError(text, retry_after=retry_after, hint=hint, **common)
    if status == 413:
        return RequestTooLargeError(
            text, hint="the upload or text is too large for this server", **common
        )
    if status >= 500:
        return ServerError(text, hint="the service failed; try again later", **common)
    advice: str | None = None
    if "translat" in lowered and model and "turbo" in model:
        advice = "translation needs whisper-large-v3 (set [translate] model)"
    elif model and "model" in lowered:
        advice = MODELS_HINT
    return BadRequestError(text, hint=advice, **common)


def error_from_exception(exc: BaseException, *, provider: str, url: str) -> ProviderError:
    """The :class:`ProviderError` for an httpx transport failure (never re-raised as is)."""
    where = httpx.URL(url).copy_with(query=None)
    host = f"{where.scheme}://{where.host}" + (f":{where.port}" if where.port else "")
    if isinstance(exc, httpx.TimeoutException):
        phase = "connecting to" if isinstance(exc, httpx.ConnectTimeout) else "waiting for"
        return ProviderTimeoutError(
            f"{provider}: timed out {phase} {host}",
            hint="the server is slow or unreachable; try again or raise [http] timeouts",
            provider=provider,
        )
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(
            f"{provider}: cannot connect to {host}",
            hint="check the network and the base URL (GROQ_BASE_URL / base_url)",
            provider=provider,
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError | httpx.WriteError):
        return StreamError(
            f"{provider}: the connection to {host} broke ({type(exc).__name__})",
            hint="try again",
            provider=provider,
        )
    return ConnectError(
        f"{provider}: request to {host} failed ({type(exc).__name__})",
        hint="check the network and the base URL",
        provider=provider,
    )
