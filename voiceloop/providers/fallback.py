"""Fallback stages: when the cloud cannot serve, a local engine does, and nothing is lost.

:class:`FallbackTranscriber` and :class:`FallbackSynthesizer` wrap a *primary* stage
(usually the cloud) and a *fallback* (usually ``local``). When the primary raises one of
the ``fallback_on`` errors — raised only after the primary's own retries — the same
utterance or text goes to the fallback, the result is marked local, the turn's
:class:`~voiceloop.stages.StageReport` records which provider served, and
``on_fallback(stage, reason, provider)`` tells the engine (which emits ``FallbackUsed``).

Which errors fall back (:data:`DEFAULT_FALLBACK_ON`): the cloud is unreachable or unwilling
right now — connection failures, timeouts, 5xx, rate limits (429 that did not clear within
the primary's retries, and 498), streams that break — and 401/403. A refused key is
something the user must fix, but a dictated sentence should still land: the reason passed to
``on_fallback`` carries the key error and its hint, so the user sees both the text and what
to fix. Requests the server judged wrong (400/404/413: bad model, bad input) do not fall
back: they would fail the same way next time and point at configuration to change; the
utterance stays on disk to retry.

After a fallback the primary is skipped for ``cooldown`` seconds (a dead network would
otherwise add its connect timeout to every turn); each skipped turn still reports the
fallback. ``cooldown=0`` tries the primary every time.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

from voiceloop.errors import (
    AuthenticationError,
    ConnectError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    ServerError,
    StreamError,
    VoiceloopError,
    describe,
)
from voiceloop.frames import AudioChunk, Task, Transcript, Utterance
from voiceloop.stages import (
    StageKind,
    Synthesizer,
    Transcriber,
    aclose_all,
    call_hook,
    current_report,
)

S = TypeVar("S")  # the stage protocol: Transcriber or Synthesizer

DEFAULT_FALLBACK_ON: tuple[type[ProviderError], ...] = (
    ConnectError,
    ProviderTimeoutError,
    ServerError,
    RateLimitError,
    StreamError,
    AuthenticationError,
)
"""Errors of the primary that send the work to the fallback (see the module docstring)."""

DEFAULT_COOLDOWN_S = 30.0

OnFallback = Callable[[str, str, str], None]
"""``on_fallback(stage, reason, provider)``: stage kind, one-line reason, provider used."""


@asynccontextmanager
async def _closing(
    chunks: AsyncIterator[AudioChunk],
) -> AsyncIterator[AsyncIterator[AudioChunk]]:
    """Close a stage's audio stream once done with it, when it can be closed: a consumer
    that stops early releases the connection at once."""
    try:
        yield chunks
    finally:
        await call_hook(chunks, "aclose")


class _FallbackPolicy(Generic[S]):
    """The shared part: the two stages, which errors fall back, the cool-down, reporting."""

    kind: StageKind

    def __init__(
        self,
        primary: S,
        fallback: S,
        *,
        on_fallback: OnFallback | None = None,
        fallback_on: tuple[type[ProviderError], ...] = DEFAULT_FALLBACK_ON,
        fallback_name: str = "local",
        cooldown: float = DEFAULT_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary: S = primary
        self.fallback: S = fallback
        self.on_fallback = on_fallback
        self.fallback_on = fallback_on
        self.fallback_name = fallback_name
        self.cooldown = cooldown
        self._clock = clock
        self._skip_until = 0.0
        self._last_error: ProviderError | None = None

    def should_fall_back(self, error: BaseException) -> bool:
        return isinstance(error, self.fallback_on)

    def primary_resting(self) -> bool:
        """True while the primary failed recently and is being skipped."""
        return self._clock() < self._skip_until

    def note_failure(self, error: ProviderError) -> None:
        self._last_error = error
        if self.cooldown > 0:
            self._skip_until = self._clock() + self.cooldown
        self._report(describe(error).titled())

    def note_skip(self) -> None:
        reason = describe(self._last_error).titled() if self._last_error else "the cloud failed"
        self._report(f"{reason} (retrying the cloud shortly)")

    def both_failed(self, fallback_error: VoiceloopError) -> VoiceloopError:
        """The error to raise when the fallback fails too: the cloud's, naming both.

        The cloud error is the cause the user can act on (e.g. the network); the local
        one (e.g. an English-only model asked to translate) is added to its hint.
        """
        primary = self._last_error
        if primary is None:
            return fallback_error
        error = copy.copy(primary)
        error.hint = "; ".join(
            part
            for part in (primary.hint, f"local fallback failed too: {fallback_error.one_line()}")
            if part
        )
        return error

    def _report(self, reason: str) -> None:
        report = current_report()
        if report is not None:
            report.fallback_used(self.kind, reason, self.fallback_name)
        if self.on_fallback is not None:
            self.on_fallback(self.kind, reason, self.fallback_name)

    async def warm(self) -> None:
        """Warm both: the fallback must be ready the moment the cloud fails."""
        await asyncio.gather(call_hook(self.primary, "warm"), call_hook(self.fallback, "warm"))

    async def aclose(self) -> None:
        await aclose_all((self.primary, self.fallback))


class FallbackTranscriber(_FallbackPolicy[Transcriber]):
    """A :class:`~voiceloop.stages.Transcriber` that falls back to another one."""

    kind: StageKind = "transcriber"

    async def transcribe(self, utterance: Utterance, *, task: Task = "transcribe") -> Transcript:
        if self.primary_resting():
            self.note_skip()
        else:
            try:
                return await self.primary.transcribe(utterance, task=task)
            except ProviderError as error:
                if not self.should_fall_back(error):
                    raise
                self.note_failure(error)
        try:
            transcript = await self.fallback.transcribe(utterance, task=task)
        except VoiceloopError as fallback_error:
            raise self.both_failed(fallback_error) from fallback_error
        return dataclasses.replace(transcript, local=True)


class FallbackSynthesizer(_FallbackPolicy[Synthesizer]):
    """A :class:`~voiceloop.stages.Synthesizer` that falls back to another one.

    Only before the primary has yielded any audio of a text: once some of it has been
    handed on (and maybe played), a failure is raised, never spoken twice.
    """

    kind: StageKind = "synthesizer"

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        if self.primary_resting():
            self.note_skip()
        else:
            yielded = False
            try:
                async with _closing(self.primary.synthesize(text)) as chunks:
                    async for chunk in chunks:
                        yielded = True
                        yield chunk
                return
            except ProviderError as error:
                if yielded or not self.should_fall_back(error):
                    raise
                self.note_failure(error)
        yielded = False
        try:
            async with _closing(self.fallback.synthesize(text)) as chunks:
                async for chunk in chunks:
                    yielded = True
                    yield chunk
        except VoiceloopError as fallback_error:
            if yielded:
                raise
            raise self.both_failed(fallback_error) from fallback_error
