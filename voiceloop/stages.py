"""The three stage protocols and the registry that finds their implementations.

A *stage* is a small async component behind one method:

- ``Transcriber.transcribe(utterance, task=...)`` → :class:`~voiceloop.frames.Transcript`
- ``Responder.respond(messages)`` → async iterator of reply text deltas
- ``Synthesizer.synthesize(text)`` → async iterator of :class:`~voiceloop.frames.AudioChunk`

Implementations are found by *provider name* through the ``voiceloop.stages`` entry-point
group. An entry point names a factory::

    [project.entry-points."voiceloop.stages"]
    mystt = "my_package.stages:make_stage"

    def make_stage(kind: StageKind, section: StageSection, context: StageContext) -> object: ...

``kind`` is ``"transcriber"``, ``"responder"`` or ``"synthesizer"``; ``section`` is the
config section of that stage (``settings.stt``, ``settings.llm``, ...), with at least
``provider``, ``base_url``, ``api_key`` and ``model``; the factory raises
:class:`~voiceloop.errors.ConfigError` for a kind it does not provide. voiceloop's own
providers register the same way, so a third-party stage needs no change here.

Optional hooks a stage may define: ``async warm()`` (load models, open connections
before the first turn) and ``async aclose()`` (release what the stage itself holds; what
it shares through its :class:`StageContext`, like the HTTP pool, belongs to the context and
is closed by it). :func:`call_hook` calls either.

Providers may add what they learn about a request (usage, retries, request ids) to the
current turn's :class:`StageReport` through :func:`current_report`, which the engine sets
for each turn; outside a turn it is ``None``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from voiceloop.errors import ConfigError
from voiceloop.frames import AudioChunk, Message, Task, Transcript, Utterance

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection

log = logging.getLogger(__name__)

StageKind = Literal["transcriber", "responder", "synthesizer"]
ENTRY_POINT_GROUP = "voiceloop.stages"


@runtime_checkable
class Transcriber(Protocol):
    """Speech to text. ``task="translate"`` asks for English text of any language."""

    async def transcribe(
        self, utterance: Utterance, *, task: Task = "transcribe"
    ) -> Transcript: ...


@runtime_checkable
class Responder(Protocol):
    """Chat: yields the reply as text deltas, as they arrive."""

    def respond(self, messages: Sequence[Message]) -> AsyncIterator[str]: ...


@runtime_checkable
class Synthesizer(Protocol):
    """Text to speech: yields audio for ``text`` (one or more chunks, in order)."""

    def synthesize(self, text: str) -> AsyncIterator[AudioChunk]: ...


@dataclass
class StageContext:
    """What factories may share: the whole settings and long-lived resources."""

    settings: Settings | None = None
    resources: dict[str, object] = field(default_factory=dict)
    """Shared objects by name (e.g. ``"http"``: the per-base-URL client pool). The context
    owns them: stages use them, :meth:`aclose` closes them."""

    async def aclose(self) -> None:
        """Close every shared resource that can be closed; errors are logged, not raised."""
        resources = list(self.resources.values())
        self.resources.clear()
        await aclose_all(resources)


@dataclass
class StageReport:
    """Facts providers record about the current turn's requests."""

    retries: int = 0
    usage: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Server-reported usage/timings by stage kind (e.g. ``x_groq.usage`` for "responder")."""
    request_ids: dict[str, str] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)
    """Provider name that actually served each stage kind (differs on fallback)."""
    fallbacks: list[tuple[str, str, str]] = field(default_factory=list)
    """``(stage kind, one-line reason, provider used)`` of each fallback, in order."""
    on_fallback: Callable[[str, str, str], None] | None = field(
        default=None, repr=False, compare=False
    )
    """Told of each fallback as it is recorded (the engine announces it from here)."""

    def fallback_used(self, stage: str, reason: str, provider: str) -> None:
        """``stage`` was served by ``provider`` instead, because of ``reason``."""
        self.providers[stage] = provider
        self.fallbacks.append((stage, reason, provider))
        if self.on_fallback is not None:
            self.on_fallback(stage, reason, provider)

    def merge(self, other: StageReport) -> None:
        """Add what ``other`` recorded (requests made for this turn in another context)."""
        self.retries += other.retries
        self.usage.update(other.usage)
        self.request_ids.update(other.request_ids)
        self.providers.update(other.providers)
        for fallback in other.fallbacks:
            self.fallback_used(*fallback)


_current_report: ContextVar[StageReport | None] = ContextVar("voiceloop_report", default=None)


def current_report() -> StageReport | None:
    """The report of the turn in progress, if any."""
    return _current_report.get()


def set_current_report(report: StageReport | None) -> Token[StageReport | None]:
    """Set the report for this context; returns a token for :func:`reset_current_report`."""
    return _current_report.set(report)


def reset_current_report(token: Token[StageReport | None]) -> None:
    _current_report.reset(token)


async def call_hook(stage: object, name: Literal["warm", "aclose"]) -> None:
    """Await ``stage.warm()`` or ``stage.aclose()`` when the stage has that optional hook."""
    hook = getattr(stage, name, None)
    if hook is not None:
        await hook()


async def aclose_all(objects: Iterable[object]) -> None:
    """``aclose()`` each of ``objects`` that has one, once each; a failure is logged and
    the others are still closed."""
    seen: list[object] = []
    for obj in objects:
        if any(obj is other for other in seen):
            continue
        seen.append(obj)
        try:
            await call_hook(obj, "aclose")
        except Exception:
            log.warning("closing %s failed", type(obj).__name__, exc_info=True)


StageFactory = Callable[[StageKind, "StageSection", StageContext], object]


class StageRegistry:
    """Provider name → factory, filled from entry points and by :meth:`register`."""

    def __init__(self) -> None:
        self._factories: dict[str, StageFactory] = {}
        self._loaded = False

    def register(self, name: str, factory: StageFactory) -> None:
        """Add (or replace) a provider, e.g. from a test or an embedding application."""
        self._factories[name] = factory

    def _load_entry_points(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            # Explicit registrations win over installed entry points of the same name.
            if ep.name not in self._factories:
                self._factories[ep.name] = _LazyFactory(ep)

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._factories)

    def create(
        self, kind: StageKind, provider: str, section: StageSection, context: StageContext
    ) -> object:
        """Build the ``kind`` stage of ``provider``; a clear ConfigError if unknown."""
        self._load_entry_points()
        factory = self._factories.get(provider)
        if factory is None:
            raise ConfigError(
                f"unknown {kind} provider {provider!r}",
                hint=f"installed providers: {', '.join(self.names()) or 'none'}",
            )
        return factory(kind, section, context)


class _LazyFactory:
    """Imports an entry point's module only when its stage is first built."""

    def __init__(self, ep: EntryPoint) -> None:
        self._ep = ep
        self._factory: StageFactory | None = None

    def __call__(self, kind: StageKind, section: StageSection, context: StageContext) -> object:
        if self._factory is None:
            try:
                self._factory = self._ep.load()
            except Exception as exc:  # a broken plugin must not take the app down
                raise ConfigError(
                    f"provider {self._ep.name!r} failed to load: {exc}",
                    hint=f"entry point {self._ep.value}",
                ) from exc
        return self._factory(kind, section, context)


registry = StageRegistry()
"""The process-wide registry."""
