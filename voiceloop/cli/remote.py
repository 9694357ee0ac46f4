"""Running one service operation from a command: settings, the HTTP pool, clean shutdown.

A command first asks :func:`serving_provider` who serves its stage: with no key (or
``--local``) speech to text and speech run on the local engines (:func:`run_with_local`).
"""

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


def serving_provider(settings: Settings, section_name: str, what: str) -> str:
    """``"local"`` when the local engine serves ``[section_name]`` (configured, forced by
    ``--local`` or for lack of a key); else the cloud provider, checked by
    :func:`require_service` (a :class:`ConfigError`, exit 2, saying what is missing)."""
    from voiceloop.engine.wiring import effective_provider, lacks_key, missing_key_error

    provider = effective_provider(settings, section_name)
    if provider == "local":
        return provider
    section = getattr(settings, section_name)
    if section_name == "translate" and lacks_key(settings, section):
        raise missing_key_error(settings, section_name)
    require_service(settings, section, what)
    return provider


def run_with_local(
    settings: Settings,
    section: Any,
    kind: str,
    work: Callable[[Any], Awaitable[T]],
) -> T:
    """Run ``work(stage)`` with the ``local`` stage of ``kind`` on a fresh event loop."""
    from voiceloop.stages import StageContext, registry

    async def main() -> T:
        stage = registry.create(kind, "local", section, StageContext(settings=settings))  # type: ignore[arg-type]
        try:
            return await work(stage)
        finally:
            aclose = getattr(stage, "aclose", None)
            if aclose is not None:
                await aclose()

    return asyncio.run(main())


def require_service(settings: Settings, section: Any, what: str) -> None:
    """Refuse early (exit 2) when a stage is not backed by an OpenAI-compatible server."""
    from voiceloop.capabilities import stage_capabilities
    from voiceloop.errors import ConfigError

    if not stage_capabilities(section, settings).openai_api:
        raise ConfigError(
            f"`{what}` needs an OpenAI-compatible server, but its provider is {section.provider!r}",
            hint=f'set provider = "groq" (any OpenAI-compatible server) for `{what}`',
        )
    auth = settings.stage_auth(section)
    if auth.missing:
        raise ConfigError(
            f"no API key for {auth.url}: {auth.source} is not set",
            hint=(
                "export GROQ_API_KEY=... or run `voiceloop config set groq_api_key gsk_...`"
                if auth.source == "GROQ_API_KEY"
                else f"export {auth.source}=... or set api_key in the stage's config section"
            ),
        )


def run_with_fallback(
    settings: Settings,
    section: Any,
    kind: str,
    work: Callable[[GroqClient, ClientPool], Awaitable[T]],
    local_work: Callable[[Any], Awaitable[T]],
) -> T:
    """:func:`run_with_client`, and when the cloud fails the way the live modes fall back
    on (after its retries) and ``section.fallback`` is on, ``local_work`` on the local
    engine instead, with one line on stderr saying why."""
    import sys

    from voiceloop.providers.fallback import DEFAULT_FALLBACK_ON, describe

    try:
        return run_with_client(settings, section, work)
    except DEFAULT_FALLBACK_ON as exc:
        if not getattr(section, "fallback", False):
            raise
        print(f"voiceloop: {describe(exc)}; using the local engine", file=sys.stderr)
    return run_with_local(settings, section, kind, local_work)
