"""Building a session's stages from settings, by configured provider name.

Each stage section names its provider (``settings.stt.provider``, ...); the registry
(entry points plus explicit registrations) builds it. Nothing here knows a concrete
provider class. With ``fallback = true`` in ``[stt]`` / ``[tts]``, the cloud stage is
wrapped so that a failure falls back to the stage of :data:`FALLBACK_PROVIDER`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from voiceloop.engine.services import Stages
from voiceloop.engine.turn import current_turn
from voiceloop.errors import VoiceloopError
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
        provider = str(getattr(section, "provider", "") or "")
        stages.providers[attr] = provider
        try:
            stage = reg.create(kind, provider, section, ctx)
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
    """The fallback wrappers the providers package offers, reporting to the current turn."""
    try:
        from voiceloop.providers import fallback as fb
    except ImportError:
        return {}
    wrappers: dict[str, FallbackWrapper] = {}
    for kind, name in (
        ("transcriber", "FallbackTranscriber"),
        ("synthesizer", "FallbackSynthesizer"),
    ):
        cls = getattr(fb, name, None)
        if cls is not None:
            wrappers[kind] = functools.partial(cls, on_fallback=report_fallback)
    return wrappers


def report_fallback(stage: str, reason: str, provider: str) -> None:
    """``on_fallback`` hook: tell the turn in progress, which emits ``FallbackUsed``."""
    turn = current_turn()
    if turn is not None:
        turn.fallback_used(stage, reason, provider)
    else:
        log.info("%s fell back to %s outside a turn: %s", stage, provider, reason)


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
