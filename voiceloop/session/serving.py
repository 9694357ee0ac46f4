"""Who serves each stage: the configured provider, or a local engine for lack of a key.

A cloud stage with neither a key nor a ``base_url`` of its own cannot be reached: speech
to text and speech then run locally where a local engine can serve
(:func:`effective_provider`); a chat or translation stage says what it needs instead
(:func:`missing_key_error`). What a provider can do comes from its capability record
(:mod:`voiceloop.capabilities`), never from a list of names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from voiceloop.capabilities import stage_capabilities
from voiceloop.credentials import stage_auth
from voiceloop.errors import ConfigError
from voiceloop.events import Notice
from voiceloop.stages import StageKind

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection

FALLBACK_PROVIDER = "local"
"""Registry name of the stages used when a cloud stage fails (and fallback is on)."""

# (StageSet attribute, settings section, stage kind)
STAGE_SLOTS: tuple[tuple[str, str, StageKind], ...] = (
    ("transcriber", "stt", "transcriber"),
    ("translator", "translate", "transcriber"),
    ("responder", "llm", "responder"),
    ("synthesizer", "tts", "synthesizer"),
)

REQUIRED_BY_MODE: dict[str, set[str]] = {
    "converse": {"transcriber", "responder"},
    "dictate": {"transcriber"},
    "translate": {"translator"},
}

SECTION_KINDS: dict[str, StageKind] = {name: kind for _, name, kind in STAGE_SLOTS}

CHAT_NEEDS = (
    "set GROQ_API_KEY for Groq, or point [llm] base_url at any OpenAI-compatible chat "
    "server, such as a local Ollama (http://localhost:11434/v1)"
)
TRANSLATE_NEEDS = (
    "set GROQ_API_KEY to translate in the cloud, or set [local] stt_model to a "
    'multilingual faster-whisper model such as "small" (downloaded once)'
)


def lacks_key(settings: Settings, section: StageSection) -> bool:
    """A cloud stage whose server needs a key (Groq's, OpenAI's) that is not configured."""
    caps = stage_capabilities(section, settings)
    if not (caps.remote and caps.openai_api):
        return False
    return stage_auth(section, settings).missing


def effective_provider(
    settings: Settings,
    section_name: str,
    kind: StageKind | None = None,
    *,
    section: StageSection | None = None,
) -> str:
    """The provider that serves ``[section_name]`` (or ``section``, a changed copy of it):
    the configured one, or ``local`` when a cloud stage has no key and no ``base_url`` and
    a local engine can do its work (speech to text; speech; translation only with a
    multilingual ``[local] stt_model``).
    """
    if section is None:
        section = getattr(settings, section_name)
    provider = str(getattr(section, "provider", "") or "")
    kind = kind or SECTION_KINDS[section_name]
    if kind == "responder" or not lacks_key(settings, section):
        return provider
    if not _local_engine(kind):
        return provider
    if section_name == "translate" and not local_model_translates(settings):
        return provider
    return FALLBACK_PROVIDER


def local_model_translates(settings: Settings) -> bool:
    """Whether ``[local] stt_model`` may translate: set, and not an English-only ``*.en``
    (the embedded default, tiny.en, is English-only)."""
    model = str(getattr(getattr(settings, "local", None), "stt_model", None) or "").strip()
    return bool(model) and not model.rstrip("/").endswith(".en")


def missing_key_error(
    settings: Settings, section_name: str, mode: str | None = None
) -> ConfigError:
    """What a stage that cannot be reached needs, as one line (message and hint)."""
    if section_name == "llm":
        who = f"{mode} needs a chat model" if mode == "converse" else "no chat model"
        return ConfigError(f"{who}: no API key and no [llm] base_url", hint=CHAT_NEEDS)
    if section_name == "translate":
        model = getattr(settings.local, "stt_model", None) or "tiny.en"
        return ConfigError(
            "translation needs a Groq key or a multilingual local model: no API key, and "
            f"the local model {model} is English-only",
            hint=TRANSLATE_NEEDS,
        )
    return ConfigError(
        f"no API key for [{section_name}] and no local engine installed",
        hint="export GROQ_API_KEY=... (or `voiceloop config set groq_api_key gsk_...`), or "
        "install the local engines (pip install 'voiceloop[local]') to work on this machine",
    )


STAGE_WORDS = {
    "transcriber": "speech to text",
    "translator": "translation",
    "synthesizer": "speech",
}


def local_instead_notice(settings: Settings, providers: dict[str, str]) -> Notice | None:
    """The notice saying which cloud stages run locally for lack of a key (or ``None``)."""
    names = [
        STAGE_WORDS.get(attr, attr)
        for attr, section_name, _ in STAGE_SLOTS
        if providers.get(attr) == FALLBACK_PROVIDER
        and stage_capabilities(getattr(settings, section_name, None), settings).remote
    ]
    if not names:
        return None
    return Notice(
        level="info",
        title="Working locally",
        message=f"no API key: {' and '.join(names)} {'runs' if len(names) == 1 else 'run'} "
        "on this machine (set GROQ_API_KEY to use the cloud)",
    )


def _local_engine(kind: StageKind) -> bool:
    from voiceloop.providers.local import local_available

    return kind in ("transcriber", "synthesizer") and local_available(kind)


def require_service(settings: Settings, section: StageSection, what: str) -> None:
    """Refuse early (exit 2) when a stage is not backed by an OpenAI-compatible server."""
    if not stage_capabilities(section, settings).openai_api:
        raise ConfigError(
            f"`{what}` needs an OpenAI-compatible server, but its provider is {section.provider!r}",
            hint=f'set provider = "groq" (any OpenAI-compatible server) for `{what}`',
        )
    auth = stage_auth(section, settings)
    if auth.missing:
        raise ConfigError(
            f"no API key for {auth.url}: {auth.source} is not set",
            hint=(
                "export GROQ_API_KEY=... or run `voiceloop config set groq_api_key gsk_...`"
                if auth.source == "GROQ_API_KEY"
                else f"export {auth.source}=... or set api_key in the stage's config section"
            ),
        )


def serving_provider(settings: Settings, section_name: str, what: str) -> str:
    """``"local"`` when the local engine serves ``[section_name]`` (configured, forced by
    ``--local`` or for lack of a key); else the cloud provider, checked by
    :func:`require_service` (a :class:`ConfigError`, exit 2, saying what is missing)."""
    provider = effective_provider(settings, section_name)
    if provider == FALLBACK_PROVIDER:
        return provider
    section = getattr(settings, section_name)
    if section_name == "translate" and lacks_key(settings, section):
        raise missing_key_error(settings, section_name)
    require_service(settings, section, what)
    return provider
