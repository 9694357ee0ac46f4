"""A reply as it streams: text deltas to the display and, piece by piece, to the speaker."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import TYPE_CHECKING, Any

from voiceloop.engine import metrics as m
from voiceloop.engine.speech import SpeechPipeline
from voiceloop.errors import StageFailed
from voiceloop.events import ReplyDelta, SpeakingChunk

if TYPE_CHECKING:
    from voiceloop.engine.services import Splitter
    from voiceloop.engine.turn import Turn
    from voiceloop.stages import Synthesizer

log = logging.getLogger(__name__)

_END = object()  # the reply stream ended before its first delta
_NOTHING = object()  # no first delta taken apart (the stream is read as it is)


class ReplyStream:
    """Streams text deltas to the display and, piece by piece, to the speaker."""

    def __init__(
        self,
        turn: Turn,
        *,
        show: bool,
        speak: bool,
        language: str | None = None,
        synthesizer: Synthesizer | None = None,
    ) -> None:
        self.language = language  # of the reply, for cutting it into sentences
        self.turn = turn
        self.show = show
        services = turn.services
        if synthesizer is None:
            synthesizer = services.stages.synthesizer
        if not speak:
            synthesizer = None
        self.speech: SpeechPipeline | None = None
        if synthesizer is not None:
            self.speech = SpeechPipeline(
                synthesizer,
                services.sink,
                prefetch=services.options.prefetch,
                timer=turn.timer,
                on_piece_started=self._piece_started,
                on_speaking=turn.set_speaking,
                wait=lambda request: turn.wait_for_stage(request, "synthesizer"),
            )
        self.parts: list[str] = []
        self.complete = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def heard(self, *, interrupted: bool) -> str:
        """What the user heard: everything when complete, else the pieces played."""
        if self.complete or self.speech is None:
            return self.text.strip()
        return " ".join(piece.strip() for piece in self.speech.heard)

    async def run(self, deltas: AsyncIterator[str], *, from_llm: bool) -> None:
        timer = self.turn.timer
        factory = self.turn.services.splitter_factory
        splitter = factory(language=self.language) if self.speech else None
        if self.speech is not None:
            self.speech.start()
        try:
            try:
                head = await self._first(deltas) if from_llm else _NOTHING
                if head is not _END:
                    if head is not _NOTHING:
                        self._take(head, splitter, from_llm)
                    async for delta in deltas:
                        self._take(delta, splitter, from_llm)
            except (asyncio.CancelledError, StageFailed):
                raise
            except Exception as exc:
                raise StageFailed("responder", exc) from exc
            if from_llm:
                timer.mark(m.REPLY_DONE)
            if self.speech is not None and splitter is not None:
                self._say(splitter.flush())
                self.speech.end()
                await self.speech.finish()
            self.complete = True
        finally:
            # Order matters when cancelled: silence first, then close the network stream.
            if self.speech is not None:
                self.speech.abort()
            await finish_cleanup(self._close(deltas))

    async def _first(self, deltas: AsyncIterator[str]) -> str | object:
        """The first delta (or ``_END``), saying meanwhile that the turn still waits."""
        request = asyncio.ensure_future(anext(deltas, _END))
        try:
            await self.turn.wait_for_stage(request, "responder")
        finally:
            if not request.done():  # this turn is being cancelled
                request.cancel()
                # The stream is closed later; it must have stopped running by then.
                await asyncio.wait({request})
        return request.result()

    def _take(self, delta: object, splitter: Splitter | None, from_llm: bool) -> None:
        assert isinstance(delta, str)
        if from_llm:
            self.turn.timer.mark(m.FIRST_TOKEN)
        if not delta:
            return
        self.parts.append(delta)
        if self.show:
            self.turn.services.emit(ReplyDelta(turn_id=self.turn.id, text=delta))
        if splitter is not None:
            self._say(splitter.push(delta))

    async def _close(self, deltas: AsyncIterator[str]) -> None:
        await aclose_stream(deltas)
        if self.speech is not None:
            await self.speech.aclose()

    def _say(self, pieces: list[str]) -> None:
        assert self.speech is not None
        for piece in pieces:
            if piece.strip():
                self.turn.timer.mark(m.FIRST_CHUNK)
                self.speech.say(piece)
        self.speech.raise_if_failed()

    def _piece_started(self, text: str) -> None:
        self.turn.services.emit(SpeakingChunk(turn_id=self.turn.id, text=text))


async def finish_cleanup(cleanup: Coroutine[Any, Any, None], timeout: float = 5.0) -> None:
    """Run ``cleanup`` to its end even when this task is cancelled again meanwhile (a second
    interrupt, shutdown), then let the cancellation through. A cleanup still running after
    ``timeout`` seconds is cancelled, so nothing waits on it forever."""
    loop = asyncio.get_running_loop()
    task = loop.create_task(cleanup, name="turn-cleanup")
    deadline = loop.time() + timeout
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait({task}, timeout=max(0.0, deadline - loop.time()))
        except asyncio.CancelledError:
            cancelled = True
            continue
        if not task.done():
            log.warning("cleaning up a turn took over %.0f s; abandoned", timeout)
            task.cancel()
            await asyncio.wait({task})
    if cancelled:
        raise asyncio.CancelledError
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.debug("cleaning up a turn failed", exc_info=exc)


async def aclose_stream(stream: object) -> None:
    """Close a reply stream that can be closed; a failure is logged, cancellation passes."""
    aclose = getattr(stream, "aclose", None)
    if aclose is None:
        return
    try:
        await aclose()
    except asyncio.CancelledError:
        raise
    except Exception:
        log.debug("closing a reply stream failed", exc_info=True)
