"""The one place that turns settings into stages: a :class:`Session`.

Each stage section names its provider (``settings.stt.provider``, ...); the registry
(entry points plus explicit registrations) builds it. Nothing here knows a concrete
stage class. With ``fallback = true`` in ``[stt]`` / ``[tts]``, the cloud stage is
wrapped so that a failure falls back to the stage of
:data:`~voiceloop.session.serving.FALLBACK_PROVIDER`.

A session owns what its stages share (the HTTP client pool, in its
:class:`~voiceloop.stages.StageContext`): closing a stage leaves the pool open, closing the
session closes its stages, then the pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, cast, overload

from voiceloop.capabilities import Capabilities
from voiceloop.engine.services import StageSet
from voiceloop.errors import ConfigError, VoiceloopError
from voiceloop.session.serving import (
    FALLBACK_PROVIDER,
    REQUIRED_BY_MODE,
    SECTION_KINDS,
    STAGE_SLOTS,
    TRANSLATE_NEEDS,
    effective_provider,
    lacks_key,
    missing_key_error,
)
from voiceloop.stages import (
    Responder,
    StageContext,
    StageKind,
    StageRegistry,
    Synthesizer,
    Transcriber,
    aclose_all,
    registry,
)

if TYPE_CHECKING:
    from pydantic import SecretStr

    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection
    from voiceloop.providers.groq import GroqClient
    from voiceloop.providers.http import ClientPool

log = logging.getLogger(__name__)

Stage = Transcriber | Responder | Synthesizer
"""A stage of any kind (what :meth:`Session.create` returns for a kind not known statically)."""

FallbackWrapper = Callable[[Any, Any], object]
"""``wrap(primary, fallback)`` → a stage of their kind (one wrapper per kind, hence ``Any``)."""


class Session:
    """The stages of one run, built from ``settings``, and the resources they share.

    :meth:`build` makes every configured stage (what the engine runs); :meth:`stage`
    one stage as the session would run it (its provider chosen, wrapped for fallback);
    :meth:`create` one stage of exactly the section's provider; :meth:`takeover` the
    local stage that takes over failed cloud work by the same fallback rule;
    :meth:`client` an API client on the session's pool. Everything built is closed by
    :meth:`aclose` (or on leaving ``async with``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        stage_registry: StageRegistry | None = None,
        context: StageContext | None = None,
        fallback_wrappers: dict[str, FallbackWrapper] | None = None,
    ) -> None:
        self.settings = settings
        self.registry = stage_registry or registry
        self.context = context or StageContext(settings=settings)
        self._wrappers = fallback_wrappers
        self._built: list[object] = []

    # -- stages ---------------------------------------------------------------------

    @overload
    def create(
        self, kind: Literal["transcriber"], section: StageSection, provider: str | None = None
    ) -> Transcriber: ...
    @overload
    def create(
        self, kind: Literal["responder"], section: StageSection, provider: str | None = None
    ) -> Responder: ...
    @overload
    def create(
        self, kind: Literal["synthesizer"], section: StageSection, provider: str | None = None
    ) -> Synthesizer: ...
    @overload
    def create(
        self, kind: StageKind, section: StageSection, provider: str | None = None
    ) -> Stage: ...
    def create(self, kind: StageKind, section: StageSection, provider: str | None = None) -> Stage:
        """The ``kind`` stage of ``provider`` (default: the section's own) for ``section``."""
        stage = self._create(kind, section, provider)
        self._built.append(stage)
        return stage

    def _create(self, kind: StageKind, section: StageSection, provider: str | None = None) -> Stage:
        name = provider or str(getattr(section, "provider", "") or "")
        # A factory returns the kind it is asked for (the entry-point contract of
        # voiceloop.stages); a wrong one fails at its first call, as it always has.
        return cast(Stage, self.registry.create(kind, name, section, self.context))

    @overload
    def stage(
        self,
        section_name: Literal["stt", "translate"],
        kind: Literal["transcriber"] | None = None,
        *,
        mode: str | None = None,
        section: StageSection | None = None,
    ) -> tuple[Transcriber, str]: ...
    @overload
    def stage(
        self,
        section_name: Literal["llm"],
        kind: Literal["responder"] | None = None,
        *,
        mode: str | None = None,
        section: StageSection | None = None,
    ) -> tuple[Responder, str]: ...
    @overload
    def stage(
        self,
        section_name: Literal["tts"],
        kind: Literal["synthesizer"] | None = None,
        *,
        mode: str | None = None,
        section: StageSection | None = None,
    ) -> tuple[Synthesizer, str]: ...
    @overload
    def stage(
        self,
        section_name: str,
        kind: StageKind | None = None,
        *,
        mode: str | None = None,
        section: StageSection | None = None,
    ) -> tuple[Stage, str]: ...
    def stage(
        self,
        section_name: str,
        kind: StageKind | None = None,
        *,
        mode: str | None = None,
        section: StageSection | None = None,
    ) -> tuple[Stage, str]:
        """The stage serving ``[section_name]`` and the provider that serves it.

        The provider is the configured one, or ``local`` for a cloud stage without a
        key (:func:`~voiceloop.session.serving.effective_provider`); a cloud stage that
        cannot be reached raises what it needs. ``section`` replaces the settings' own
        (e.g. with a model overridden on the command line).
        """
        kind = kind or SECTION_KINDS[section_name]
        section = section if section is not None else getattr(self.settings, section_name)
        configured = str(getattr(section, "provider", "") or "")
        provider = effective_provider(self.settings, section_name, kind, section=section)
        if provider == configured and lacks_key(self.settings, section):
            raise missing_key_error(self.settings, section_name, mode)
        if provider != configured:
            log.info("no API key for [%s]: the %s runs locally", section_name, kind)
        stage = self._create(kind, section, provider)
        caps = getattr(stage, "capabilities", None)
        if section_name == "translate" and isinstance(caps, Capabilities) and not caps.translations:
            raise ConfigError(
                f"the local model {getattr(stage, 'model_name', 'tiny.en')} is "
                "English-only and cannot translate",
                hint=TRANSLATE_NEEDS,
            )
        stage = self._maybe_fallback(kind, provider, section, stage)
        self._built.append(stage)
        return stage, provider

    def build(self, mode: str | None = None) -> tuple[StageSet, dict[str, VoiceloopError]]:
        """Build every configured stage.

        Returns the stages and, for each stage that could not be built, its error. A
        stage that ``mode`` needs (see :data:`REQUIRED_BY_MODE`) raises its error instead.
        """
        required = REQUIRED_BY_MODE.get(mode or "", set())
        stages = StageSet(context=self.context)
        errors: dict[str, VoiceloopError] = {}
        for attr, section_name, kind in STAGE_SLOTS:
            section = getattr(self.settings, section_name, None)
            if section is None:
                continue
            stages.providers[attr] = effective_provider(self.settings, section_name, kind)
            try:
                stage, _ = self.stage(section_name, kind, mode=mode)
            except VoiceloopError as exc:
                if attr in required:
                    raise
                log.info("%s stage unavailable: %s", attr, exc.one_line())
                errors[attr] = exc
                continue
            setattr(stages, attr, stage)
        return stages, errors

    def _maybe_fallback(
        self, kind: StageKind, provider: str, section: StageSection, primary: Stage
    ) -> Stage:
        wrappers = default_fallback_wrappers() if self._wrappers is None else self._wrappers
        wrap = wrappers.get(kind)
        if wrap is None or not getattr(section, "fallback", False) or provider == FALLBACK_PROVIDER:
            return primary
        if FALLBACK_PROVIDER not in self.registry.names():
            return primary
        try:
            fallback = self._create(kind, section, FALLBACK_PROVIDER)
        except VoiceloopError as exc:
            log.info("no local fallback for the %s: %s", kind, exc.one_line())
            return primary
        return cast(Stage, wrap(primary, fallback))

    @overload
    def takeover(
        self, kind: Literal["transcriber"], section: StageSection, error: BaseException
    ) -> Transcriber | None: ...
    @overload
    def takeover(
        self, kind: Literal["synthesizer"], section: StageSection, error: BaseException
    ) -> Synthesizer | None: ...
    def takeover(
        self,
        kind: Literal["transcriber", "synthesizer"],
        section: StageSection,
        error: BaseException,
    ) -> Stage | None:
        """The local stage that takes over work for ``section`` that failed with ``error``,
        by the fallback wrappers' rule (``fallback = true`` in the section, an error they
        fall back on); ``None`` when it does not fall back.

        For cloud work that is no stage call, which no wrapper can wrap (a file upload split
        and journaled by the command). Its failure reason is ``describe(error).titled()``.
        """
        from voiceloop.providers.fallback import DEFAULT_FALLBACK_ON

        if not isinstance(error, DEFAULT_FALLBACK_ON) or not getattr(section, "fallback", False):
            return None
        return self.create(kind, section, FALLBACK_PROVIDER)

    # -- what the stages share ------------------------------------------------------

    @property
    def pool(self) -> ClientPool:
        """The session's HTTP client pool (one keep-alive client per server)."""
        from voiceloop.providers.clients import shared_pool

        return shared_pool(self.context)

    def client(self, section: StageSection) -> GroqClient:
        """An OpenAI-compatible API client for ``section``'s server, on the session's pool."""
        from voiceloop.providers.clients import client_for

        return client_for(self.settings, section, self.pool, provider=section.provider)

    def client_at(self, url: str, key: SecretStr | None, provider: str = "groq") -> GroqClient:
        """An API client for the server at ``url`` sending ``key``, on the session's pool."""
        from voiceloop.providers.groq import GroqClient

        return GroqClient(url, key, pool=self.pool, provider=provider)

    async def aclose(self) -> None:
        """Close every stage built here, then the shared resources; errors are logged."""
        built, self._built = self._built, []
        await aclose_all(reversed(built))
        await self.context.aclose()

    async def __aenter__(self) -> Session:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def build_stages(
    settings: Settings,
    *,
    mode: str | None = None,
    stage_registry: StageRegistry | None = None,
    context: StageContext | None = None,
    fallback_wrappers: dict[str, FallbackWrapper] | None = None,
) -> tuple[StageSet, dict[str, VoiceloopError]]:
    """:meth:`Session.build` of a new session (closed by closing its stages' context)."""
    session = Session(
        settings,
        stage_registry=stage_registry,
        context=context,
        fallback_wrappers=fallback_wrappers,
    )
    return session.build(mode)


async def aclose_stages(stages: StageSet) -> None:
    """Close ``stages`` and what they share; errors are logged, not raised."""
    await aclose_all(stages.all())
    if stages.context is not None:
        await stages.context.aclose()


def section_for(
    settings: Settings,
    name: str,
    provider: str | None = None,
    model: str | None = None,
    extra: dict[str, object] | None = None,
) -> StageSection:
    """The settings section ``[name]`` with its provider, model (and other fields) replaced."""
    section: StageSection = getattr(settings, name)
    updates = {k: v for k, v in (extra or {}).items() if k in type(section).model_fields}
    if provider:
        updates["provider"] = provider
    if model:
        updates["model"] = model
    return section.model_copy(update=updates) if updates else section


def default_fallback_wrappers() -> dict[str, FallbackWrapper]:
    """The fallback wrappers the providers package offers; they record each fallback in
    the current turn's report, which announces it."""
    from voiceloop.providers import fallback as fb

    return {
        "transcriber": fb.FallbackTranscriber,
        "synthesizer": fb.FallbackSynthesizer,
    }
