"""Running one service operation from a command in a session, closed when it ends.

A command first asks :func:`~voiceloop.session.serving.serving_provider` who serves its
stage: with no key (or ``--local``) speech to text and speech run on the local engines.
The stages and API clients come from a :class:`~voiceloop.session.builder.Session`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from voiceloop.session.serving import require_service, serving_provider

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection
    from voiceloop.providers.groq import GroqClient
    from voiceloop.session.builder import Session
    from voiceloop.stages import StageKind

__all__ = [
    "require_service",
    "run_in_session",
    "run_with_client",
    "run_with_fallback",
    "run_with_stage",
    "serving_provider",
]

T = TypeVar("T")


def run_in_session(settings: Settings, work: Callable[[Session], Awaitable[T]]) -> T:
    """Run ``work(session)`` on a fresh event loop; the session is closed after it."""
    from voiceloop.session.builder import Session

    async def main() -> T:
        async with Session(settings) as session:
            return await work(session)

    return asyncio.run(main())


def run_with_client(
    settings: Settings, section: StageSection, work: Callable[[GroqClient], Awaitable[T]]
) -> T:
    """Run ``work(client)`` with an API client for ``section``'s server."""
    return run_in_session(settings, lambda session: work(session.client(section)))


def run_with_stage(
    settings: Settings,
    section: StageSection,
    kind: StageKind,
    work: Callable[[Any], Awaitable[T]],
    *,
    provider: str | None = None,
) -> T:
    """Run ``work(stage)`` with ``section``'s ``kind`` stage (of ``provider`` if given)."""
    return run_in_session(settings, lambda session: work(session.create(kind, section, provider)))


def run_with_fallback(
    settings: Settings,
    section: StageSection,
    kind: StageKind,
    work: Callable[[Session], Awaitable[T]],
    local_work: Callable[[Any], Awaitable[T]],
) -> T:
    """:func:`run_in_session`, and when the cloud fails the way the live modes fall back on
    (after its retries) and ``section.fallback`` is on, ``local_work`` on the local
    engine's stage instead, with one line on stderr saying why."""
    import sys

    from voiceloop.errors import describe
    from voiceloop.providers.fallback import DEFAULT_FALLBACK_ON
    from voiceloop.session.serving import FALLBACK_PROVIDER

    try:
        return run_in_session(settings, work)
    except DEFAULT_FALLBACK_ON as exc:
        if not getattr(section, "fallback", False):
            raise
        print(f"voiceloop: {describe(exc).titled()}; using the local engine", file=sys.stderr)
    return run_with_stage(settings, section, kind, local_work, provider=FALLBACK_PROVIDER)
