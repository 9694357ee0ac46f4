"""What a stage's server supports, in one record, instead of provider names checked here
and there.

Each provider declares a :class:`Capabilities` for the server it talks to
(:func:`declare`; the built-in ones are declared below). :func:`stage_capabilities` picks
the record for a stage section: ``groq`` pointed at Groq's API gets Groq's record, pointed
anywhere else that of a generic OpenAI-compatible server, which is sent nothing beyond
the OpenAI API.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from voiceloop.credentials import (
    DEFAULT_GROQ_BASE_URL,
    DEFAULT_OPENAI_BASE_URL,
    origin_of,
    stage_auth,
)

__all__ = [
    "GATEWAY",
    "GROQ_API",
    "LOCAL",
    "OPENAI_API",
    "OPENAI_COMPATIBLE",
    "UNDECLARED",
    "Capabilities",
    "declare",
    "stage_capabilities",
]


@dataclass(frozen=True)
class Capabilities:
    """What one server (or on-device engine) accepts."""

    remote: bool = True
    """Talks to a server over HTTP (so it needs a reachable server, maybe a key)."""
    openai_api: bool = True
    """Speaks the OpenAI API (transcriptions, chat completions, speech, models)."""
    needs_key: bool = False
    """Refuses requests without a key."""
    key_origin: str | None = None
    """The origin whose own key this server takes (``None``: a stage's own ``api_key``)."""
    sample_rate: bool = False
    """``/audio/speech`` accepts ``sample_rate``."""
    speech_formats: tuple[str, ...] = ("wav", "pcm", "mp3", "flac")
    """``response_format`` values ``/audio/speech`` accepts."""
    translations: bool = True
    """Has ``/audio/translations`` (speech in any language to English)."""
    reasoning_effort: bool = False
    """Chat accepts ``reasoning_effort``."""
    lists_models: bool = True
    """Answers ``GET /models``."""
    chat: bool = True
    """Has a chat model (can serve ``[llm]``)."""


GROQ_API = Capabilities(
    needs_key=True,
    key_origin=DEFAULT_GROQ_BASE_URL,
    sample_rate=True,
    speech_formats=("wav",),
    reasoning_effort=True,
)
OPENAI_API = Capabilities(
    needs_key=True, key_origin="https://api.openai.com", reasoning_effort=True
)
OPENAI_COMPATIBLE = Capabilities()
"""Any other OpenAI-compatible server: only what the OpenAI API itself defines."""
GATEWAY = Capabilities(openai_api=False, translations=False, lists_models=False)
LOCAL = Capabilities(
    remote=False, openai_api=False, lists_models=False, speech_formats=(), chat=False
)
"""The on-device engines: speech to text and speech, no chat model."""
UNDECLARED = Capabilities(remote=False, openai_api=False, lists_models=False, speech_formats=())
"""A provider that declared nothing (a plugin): taken as on-device, sent nothing by
voiceloop's HTTP code, and trusted to serve the stage it is configured for."""

Declaration = Capabilities | Callable[[object, object], Capabilities]
_declared: dict[str, Declaration] = {}


def declare(provider: str, capabilities: Declaration) -> None:
    """Say what ``provider``'s server supports: a record, or ``(section, settings) -> record``."""
    _declared[provider] = capabilities


def _openai_style(section: object, settings: object) -> Capabilities:
    url = stage_auth(section, settings).url
    origin = origin_of(url)
    groq_root = str(getattr(settings, "groq_base_url", None) or DEFAULT_GROQ_BASE_URL)
    if origin in {origin_of(groq_root), origin_of(DEFAULT_GROQ_BASE_URL)}:
        return replace(GROQ_API, key_origin="{}://{}:{}".format(*origin))
    openai_root = str(getattr(settings, "openai_base_url", None) or DEFAULT_OPENAI_BASE_URL)
    if origin in {origin_of(openai_root), origin_of(DEFAULT_OPENAI_BASE_URL)}:
        return replace(OPENAI_API, key_origin="{}://{}:{}".format(*origin))
    return OPENAI_COMPATIBLE


declare("groq", _openai_style)
declare("openai", _openai_style)
declare("gateway", GATEWAY)
declare("local", LOCAL)


def stage_capabilities(section: object, settings: object = None) -> Capabilities:
    """The record for ``section``'s server; an undeclared provider is taken as on-device
    (not OpenAI-compatible, nothing sent to it by voiceloop's HTTP code)."""
    provider = str(getattr(section, "provider", "") or "groq")
    found = _declared.get(provider)
    if found is None:
        return UNDECLARED
    return found(section, settings) if callable(found) else found
