"""Building clients from settings: the shared pool and one client per stage section."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from voiceloop.credentials import check_plain_http, stage_auth
from voiceloop.errors import ConfigError
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.http import ClientPool

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection
    from voiceloop.stages import StageContext


def shared_pool(context: StageContext | None) -> ClientPool:
    """The process's :class:`ClientPool` in ``context.resources["http"]`` (made if missing)."""
    resources = context.resources if context is not None else {}
    # Put there by this function only: the one resource of that name.
    pool = cast("ClientPool | None", resources.get("http"))
    if pool is None:
        settings = getattr(context, "settings", None)
        pool = ClientPool.from_settings(settings) if settings is not None else ClientPool()
        resources["http"] = pool
    return pool


def client_for(
    settings: Settings | None, section: StageSection, pool: ClientPool, *, provider: str
) -> GroqClient:
    """A :class:`GroqClient` for one stage section (its base URL and the key it may send).

    Raises :class:`InsecureTransportError` now, before anything is recorded or sent, when a
    key would travel over plain HTTP to another machine.
    """
    auth = stage_auth(section, settings)
    if not auth.url.startswith(("http://", "https://")):
        raise ConfigError(
            f"base URL {auth.url!r} must start with http:// or https://",
            hint="fix base_url (or GROQ_BASE_URL)",
        )
    check_plain_http(auth.url, auth.key)
    return GroqClient(
        auth.url, auth.key, pool=pool, provider=provider,
        extra_body=getattr(section, "extra_body", None),
        extra_headers=getattr(section, "extra_headers", None),
    )  # fmt: skip
