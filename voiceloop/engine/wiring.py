"""Building a session's stages from settings, by configured provider name.

Each stage section names its provider (``settings.stt.provider``, ...); the registry
(entry points plus explicit registrations) builds it. Nothing here knows a concrete
provider class. With ``fallback = true`` in ``[stt]`` / ``[tts]``, the cloud stage is
wrapped so that a failure falls back to the stage of :data:`FALLBACK_PROVIDER`.

A cloud stage with neither a key nor a ``base_url`` of its own cannot be reached: speech
to text and speech then run locally where a local engine can serve
(:func:`effective_provider`); a chat or translation stage says what it needs instead.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from voiceloop.capabilities import Capabilities, stage_capabilities
from voiceloop.credentials import stage_auth
from voiceloop.engine.services import Stages
from voiceloop.errors import ConfigError, VoiceloopError
from voiceloop.events import Notice
from voiceloop.stages import StageContext, StageKind, StageRegistry, registry

log = logging.getLogger(__name__)

FALLBACK_PROVIDER = "local"
"""Registry name of the stages used when a cloud stage fails (and fallback is on)."""

# (Stages attribute, settings section, stage kind)
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

FallbackWrapper = Callable[[Any, Any], Any]

SECTION_KINDS: dict[str, StageKind] = {name: kind for _, name, kind in STAGE_SLOTS}

CHAT_NEEDS = (
    "set GROQ_API_KEY for Groq, or point [llm] base_url at any OpenAI-compatible chat "
    "server, such as a local Ollama (http://localhost:11434/v1)"
)
TRANSLATE_NEEDS = (
    "set GROQ_API_KEY to translate in the cloud, or set [local] stt_model to a "
    'multilingual faster-whisper model such as "small" (downloaded once)'
)


def lacks_key(settings: Any, section: Any) -> bool:
    """A cloud stage whose server needs a key (Groq's, OpenAI's) that is not configured."""
    caps = stage_capabilities(section, settings)
    if not (caps.remote and caps.openai_api):
        return False
    return stage_auth(section, settings).missing


def effective_provider(settings: Any, section_name: str, kind: StageKind | None = None) -> str:
    """The provider that serves ``[section_name]``: the configured one, or ``local`` when a
    cloud stage has no key and no ``base_url`` and a local engine can do its work
    (speech to text; speech; translation only with a multilingual ``[local] stt_model``).
    """
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


def local_model_translates(settings: Any) -> bool:
    """Whether ``[local] stt_model`` may translate: set, and not an English-only ``*.en``
    (the embedded default, tiny.en, is English-only)."""
    model = str(getattr(getattr(settings, "local", None), "stt_model", None) or "").strip()
    return bool(model) and not model.rstrip("/").endswith(".en")


def missing_key_error(settings: Any, section_name: str, mode: str | None = None) -> ConfigError:
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
        hint="export GROQ_API_KEY=... (or run `voiceloop config init`), or install voiceloop "
        "with its default dependencies to work locally",
    )


STAGE_WORDS = {
    "transcriber": "speech to text",
    "translator": "translation",
    "synthesizer": "speech",
}


def local_instead_notice(settings: Any, providers: dict[str, str]) -> Notice | None:
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


def build_stages(
    settings: Any,
    *,
    mode: str | None = None,
    stage_registry: StageRegistry | None = None,
    context: StageContext | None = None,
    fallback_wrappers: dict[str, FallbackWrapper] | None = None,
) -> tuple[Stages, dict[str, VoiceloopError]]:
    """Build every configured stage.

    Returns the stages and, for each stage that could not be built, its error. A stage
    that ``mode`` needs (see :data:`REQUIRED_BY_MODE`) raises its error instead.
    ``fallback_wrappers`` maps a stage kind to ``wrap(primary, fallback)``; by default
    the wrappers come from :func:`default_fallback_wrappers`.
    """
    reg = stage_registry or registry
    ctx = context or StageContext(settings=settings)
    wrappers = default_fallback_wrappers() if fallback_wrappers is None else fallback_wrappers
    required = REQUIRED_BY_MODE.get(mode or "", set())
    stages = Stages()
    errors: dict[str, VoiceloopError] = {}
    for attr, section_name, kind in STAGE_SLOTS:
        section = getattr(settings, section_name, None)
        if section is None:
            continue
        configured = str(getattr(section, "provider", "") or "")
        provider = effective_provider(settings, section_name, kind)
        stages.providers[attr] = provider
        try:
            if provider == configured and lacks_key(settings, section):
                raise missing_key_error(settings, section_name, mode)
            if provider != configured:
                log.info("no API key for [%s]: the %s runs locally", section_name, attr)
            stage = reg.create(kind, provider, section, ctx)
            caps = getattr(stage, "capabilities", None)
            if attr == "translator" and isinstance(caps, Capabilities) and not caps.translations:
                raise ConfigError(
                    f"the local model {getattr(stage, 'model_name', 'tiny.en')} is "
                    "English-only and cannot translate",
                    hint=TRANSLATE_NEEDS,
                )
            stage = _maybe_fallback(reg, kind, provider, section, ctx, stage, wrappers)
        except VoiceloopError as exc:
            if attr in required:
                raise
            log.info("%s stage unavailable: %s", attr, exc.one_line())
            errors[attr] = exc
            continue
        setattr(stages, attr, stage)
    return stages, errors


def _maybe_fallback(
    reg: StageRegistry,
    kind: StageKind,
    provider: str,
    section: Any,
    ctx: StageContext,
    primary: Any,
    wrappers: dict[str, FallbackWrapper],
) -> Any:
    wrap = wrappers.get(kind)
    if wrap is None or not getattr(section, "fallback", False) or provider == FALLBACK_PROVIDER:
        return primary
    if FALLBACK_PROVIDER not in reg.names():
        return primary
    try:
        fallback = reg.create(kind, FALLBACK_PROVIDER, section, ctx)
    except VoiceloopError as exc:
        log.info("no local fallback for the %s: %s", kind, exc.one_line())
        return primary
    return wrap(primary, fallback)


def default_fallback_wrappers() -> dict[str, FallbackWrapper]:
    """The fallback wrappers the providers package offers; they record each fallback in
    the current turn's report, which announces it."""
    from voiceloop.providers import fallback as fb

    return {
        "transcriber": fb.FallbackTranscriber,
        "synthesizer": fb.FallbackSynthesizer,
    }


async def aclose_stages(stages: Stages) -> None:
    """Call ``aclose()`` on every stage that has one; errors are logged, not raised."""
    for stage in stages.all():
        aclose = getattr(stage, "aclose", None)
        if aclose is None:
            continue
        try:
            await aclose()
        except Exception:
            log.warning("closing %s failed", type(stage).__name__, exc_info=True)
