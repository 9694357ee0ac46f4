"""Building clients from settings: the shared pool and one client per stage section."""

from __future__ import annotations

from typing import Any

from voiceloop.errors import ConfigError
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.http import ClientPool

DEFAULT_ROOT = "https://api.groq.com"


def shared_pool(context: Any) -> ClientPool:
    """The process's :class:`ClientPool` in ``context.resources["http"]`` (made if missing)."""
    resources = context.resources if context is not None else {}
    pool = resources.get("http")
    if pool is None:
        settings = getattr(context, "settings", None)
        pool = ClientPool.from_settings(settings) if settings is not None else ClientPool()
        resources["http"] = pool
    return pool


def stage_url(settings: Any, section: Any) -> str:
    """The API root of ``section`` (``settings.stage_url`` when settings are given)."""
    if settings is not None:
        return str(settings.stage_url(section))
    if getattr(section, "base_url", None):
        return str(section.base_url).rstrip("/")
    return DEFAULT_ROOT + "/openai/v1"


def stage_key(settings: Any, section: Any) -> Any:
    if settings is not None:
        return settings.stage_key(section)
    return getattr(section, "api_key", None)


def client_for(settings: Any, section: Any, pool: ClientPool, *, provider: str) -> GroqClient:
    """A :class:`GroqClient` for one stage section (its base URL and key)."""
    url = stage_url(settings, section)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"base URL {url!r} must start with http:// or https://",
            hint="fix base_url (or GROQ_BASE_URL)",
        )
    return GroqClient(url, stage_key(settings, section), pool=pool, provider=provider)
