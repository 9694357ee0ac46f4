"""One keep-alive HTTP client per server, retries, and errors mapped at the boundary.

:class:`ClientPool` is shared by every provider of a process (``context.resources["http"]``).
It retries like the official Groq SDK: connection errors, timeouts, 408, 409, 429, 498 and
5xx, twice by default, waiting ``retry-after`` when the server asks for at most 60 s and a
capped, jittered exponential backoff otherwise. A response whose body has started to reach
the caller is never re-sent. No httpx exception leaves this module: everything becomes a
:class:`~voiceloop.errors.ProviderError` (or :class:`InsecureTransportError` before sending).
"""

from __future__ import annotations

import asyncio
import functools
import random
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr

from voiceloop.credentials import check_plain_http
from voiceloop.credentials import is_loopback as is_loopback
from voiceloop.errors import ConfigError
from voiceloop.providers.http_errors import (
    error_from_exception,
    error_from_response,
    retry_after_of,
)
from voiceloop.providers.ratelimits import RateLimits
from voiceloop.stages import current_report

if TYPE_CHECKING:
    from voiceloop.config import Settings


RETRY_STATUSES = frozenset({408, 409, 429, 498})
MAX_RETRY_AFTER = 60.0
"""A server asking for a longer wait gets the backoff instead (as the official SDK does)."""

Sleep = Callable[[float], Awaitable[object]]


def is_retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES or status >= 500


def backoff_delay(attempt: int, rand: float) -> float:
    """Wait before retry number ``attempt + 1``: ``min(0.5·2^n, 8)·(1 − 0.25·rand)``."""
    return min(0.5 * 2.0**attempt, 8.0) * (1.0 - 0.25 * rand)


def check_transport(url: str, key: SecretStr | None) -> None:
    """Refuse to send a key in clear text to anything but this machine."""
    check_plain_http(url, key)


class RetryBudget:
    """Retries left for one logical request, shared by every re-send of it."""

    def __init__(self, max_retries: int) -> None:
        self.max_retries = max_retries
        self.used = 0
        self.stalls = 0
        """Attempts that got no first byte within their deadline: a second one ends the
        retries (a server that stalls twice is not answering; a live turn falls back)."""

    @property
    def left(self) -> bool:
        return self.used < self.max_retries


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """The TLS context of every client: loading the CA bundle costs ~50 ms, so once."""
    return httpx.create_ssl_context()


def _count_retry() -> None:
    report = current_report()
    if report is not None:
        report.retries += 1


async def close_shielded(response: httpx.Response) -> None:
    """Close a response even if the task awaiting it is being cancelled."""
    task = asyncio.ensure_future(response.aclose())
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])  # finish releasing the connection, then propagate
        raise
    except httpx.HTTPError:
        pass


class ClientPool:
    """One ``httpx.AsyncClient`` per base URL, kept for the life of the process."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_retries: int = 2,
        stall_timeout: float = 0.0,
        sleep: Sleep | None = None,
        rand: Callable[[], float] = random.random,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.timeout = httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        )
        self.max_retries = max_retries
        self.stall_timeout = stall_timeout
        """Seconds a small request (chat, speech) waits for its reply to start before the
        attempt counts as a timeout and is retried; 0: only the read timeout applies."""
        self._sleep: Sleep = sleep or asyncio.sleep
        self._rand = rand
        self._transport = transport
        self._clients: dict[str, httpx.AsyncClient] = {}
        self.last_rate_limits: RateLimits | None = None
        """Rate limits from the most recent response of any server."""
        self.rate_limits: dict[str, RateLimits] = {}
        """Most recent rate limits per base URL."""

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> ClientPool:
        """Build from ``settings.http`` (connect/read timeouts, max_retries)."""
        http = settings.http
        return cls(
            connect_timeout=http.connect_timeout,
            read_timeout=http.read_timeout,
            max_retries=http.max_retries,
            stall_timeout=http.stall_timeout,
            **kwargs,
        )

    def client(self, base_url: str) -> httpx.AsyncClient:
        """The client for ``base_url`` (created on first use)."""
        base = base_url.rstrip("/")
        client = self._clients.get(base)
        if client is None:
            from voiceloop import __version__

            client = httpx.AsyncClient(
                base_url=base + "/",
                verify=_ssl_context(),
                timeout=self.timeout,
                transport=self._transport,
                headers={"user-agent": f"voiceloop/{__version__}"},
                limits=httpx.Limits(max_keepalive_connections=8, keepalive_expiry=120.0),
            )
            self._clients[base] = client
        return client

    async def warm(self, *base_urls: str) -> None:
        """Open connections (DNS, TCP, TLS) now so the first real request pays none of it."""

        async def one(base: str) -> None:
            try:
                response = await self.client(base).head("", timeout=self.timeout)
                await response.aclose()
            except httpx.HTTPError:
                pass  # warming is best effort; the real request reports problems

        await asyncio.gather(*(one(b) for b in dict.fromkeys(base_urls)))

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await asyncio.shield(client.aclose())

    def budget(self) -> RetryBudget:
        """A fresh retry budget (``max_retries``) for one logical request."""
        return RetryBudget(self.max_retries)

    async def wait_before_retry(
        self, budget: RetryBudget, headers: Mapping[str, str] | None
    ) -> None:
        """Sleep before the next retry, spend it from ``budget`` and count it in the report."""
        delay = retry_after_of(headers) if headers is not None else None
        if delay is None or not 0 <= delay <= MAX_RETRY_AFTER:
            delay = backoff_delay(budget.used, self._rand())
        budget.used += 1
        _count_retry()
        await self._sleep(delay)

    def _note_limits(self, base_url: str, headers: Mapping[str, str]) -> None:
        limits = RateLimits.from_headers(headers)
        if limits is not None:
            self.last_rate_limits = limits
            self.rate_limits[base_url.rstrip("/")] = limits

    @asynccontextmanager
    async def stream(
        self,
        method: str,
        base_url: str,
        path: str,
        *,
        key: SecretStr | None,
        provider: str,
        model: str | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        budget: RetryBudget | None = None,
        deadline: float | None = None,
    ) -> AsyncIterator[httpx.Response]:
        """Send with retries until a 2xx arrives; yield it with its body still unread.

        Error statuses and transport failures before that point are retried, then raised
        as :class:`ProviderError`. The caller reads the body; a failure while it does so is
        *not* retried here (the caller may already have used part of it).

        ``deadline`` bounds each attempt's wait for the response to start (a stalled server
        sends no first byte): past it the attempt is a timeout, retried like any other.
        """
        url = f"{base_url.rstrip('/')}/{path.lstrip('/')}"
        try:
            check_transport(url, key)
        except httpx.InvalidURL:
            raise _invalid_base_url(base_url) from None
        client = self.client(base_url)
        all_headers = {"accept": "application/json", **(headers or {})}
        if key is not None:
            all_headers["authorization"] = f"Bearer {key.get_secret_value()}"
        budget = budget or self.budget()
        while True:
            try:
                request = client.build_request(
                    method, path.lstrip("/"), json=json, data=data, files=files,
                    headers=all_headers,
                )  # fmt: skip
                if deadline is None:
                    response = await client.send(request, stream=True)
                else:
                    response = await _send_within(client, request, deadline)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol):
                raise _invalid_base_url(base_url) from None
            except httpx.HTTPError as exc:
                if isinstance(exc, _Stalled):
                    budget.stalls += 1
                if budget.left and budget.stalls < 2:
                    await self.wait_before_retry(budget, None)
                    continue
                raise error_from_exception(exc, provider=provider, url=url) from None
            try:
                self._note_limits(base_url, response.headers)
                if response.is_success:
                    yield response
                    return
                if is_retryable_status(response.status_code) and budget.left:
                    await close_shielded(response)
                    await self.wait_before_retry(budget, response.headers)
                    continue
                try:
                    body = await response.aread()
                except httpx.HTTPError:
                    body = b""
                raise error_from_response(
                    response.status_code, response.headers, body, provider=provider, model=model
                )
            finally:
                await close_shielded(response)

    async def request(
        self,
        method: str,
        base_url: str,
        path: str,
        *,
        key: SecretStr | None,
        provider: str,
        model: str | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        deadline: float | None = None,
    ) -> httpx.Response:
        """Send with retries and read the whole body (``deadline``: see :meth:`stream`).

        A body that breaks while being read is retried too (nothing of it was used yet),
        within the same retry budget.
        """
        budget = self.budget()
        while True:
            try:
                async with self.stream(
                    method,
                    base_url,
                    path,
                    key=key,
                    provider=provider,
                    model=model,
                    json=json,
                    data=data,
                    files=files,
                    headers=headers,
                    budget=budget,
                    deadline=deadline,
                ) as response:
                    await response.aread()
                    return response
            except httpx.HTTPError as exc:
                if not budget.left:
                    url = f"{base_url.rstrip('/')}/{path.lstrip('/')}"
                    raise error_from_exception(exc, provider=provider, url=url) from None
                await self.wait_before_retry(budget, None)


class _Stalled(httpx.ReadTimeout):
    """No first byte within the attempt's deadline (reported like a read timeout)."""


async def _send_within(
    client: httpx.AsyncClient, request: httpx.Request, deadline: float
) -> httpx.Response:
    try:
        return await asyncio.wait_for(client.send(request, stream=True), deadline)
    except TimeoutError:
        raise _Stalled(f"no reply within {deadline:.1f} s", request=request) from None


def _invalid_base_url(base_url: str) -> ConfigError:
    return ConfigError(
        f"invalid base URL {base_url!r}", hint="it must look like https://host/openai/v1"
    )
