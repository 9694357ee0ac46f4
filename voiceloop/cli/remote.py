"""Running one service operation from a command: settings, the HTTP pool, clean shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.providers.groq import GroqClient
    from voiceloop.providers.http import ClientPool

T = TypeVar("T")


def run_with_client(
    settings: Settings,
    section: Any,
    work: Callable[[GroqClient, ClientPool], Awaitable[T]],
) -> T:
    """Run ``work(client, pool)`` on a fresh event loop for ``section``'s server."""
    from voiceloop.providers.http import ClientPool
    from voiceloop.providers.pool import client_for

    async def main() -> T:
        pool = ClientPool.from_settings(settings)
        try:
            client = client_for(settings, section, pool, provider=section.provider)
            return await work(client, pool)
        finally:
            await pool.aclose()

    return asyncio.run(main())


def require_service(settings: Settings, section: Any, what: str) -> None:
    """Refuse early (exit 2) when a stage is not backed by an OpenAI-compatible server."""
    from voiceloop.errors import ConfigError

    if section.provider not in ("groq", "openai"):
        raise ConfigError(
            f"`{what}` needs an OpenAI-compatible server, but its provider is {section.provider!r}",
            hint=f'set provider = "groq" (any OpenAI-compatible server) for `{what}`',
        )
    if settings.stage_key(section) is None and section.base_url is None:
        raise ConfigError(
            "no API key: GROQ_API_KEY is not set",
            hint="export GROQ_API_KEY=... or run `voiceloop config init` and add api_key",
        )
