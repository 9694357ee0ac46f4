"""Running one service operation from a command in a session, closed when it ends.

A command first asks :func:`~voiceloop.session.serving.serving_provider` who serves its
stage: with no key (or ``--local``) speech to text and speech run on the local engines.
The stages and API clients come from a :class:`~voiceloop.session.builder.Session`, and
so does falling back to the local engines when the cloud fails.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from voiceloop.session.serving import require_service, serving_provider

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection
    from voiceloop.providers.groq import GroqClient
    from voiceloop.session.builder import Session

__all__ = [
    "require_service",
    "run_in_session",
    "run_with_client",
    "serving_provider",
]

T = TypeVar("T")


def announce_fallback(reason: str) -> None:
    """Tell the user (on stderr) that the local engine took over, and why."""
    print(f"voiceloop: {reason}; using the local engine", file=sys.stderr)


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
