"""The first chunk of a speculative reply, synthesized during the pause and never played
until its turn commits.

:class:`Presynthesis` sends the speech request the moment the first chunk is known and
keeps the audio in a buffer. :class:`PrimedSynthesizer` stands in for the turn's
synthesizer once the turn commits: its first request, when it is for that same text, is
served from the buffer (at once, as far as it has arrived); any other request goes to the
real synthesizer. A synthesis that fails raises when the committed turn reads it, like
any synthesis of that turn; one whose turn never commits is closed unheard.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from voiceloop.frames import AudioChunk
from voiceloop.stages import StageReport, Synthesizer, set_current_report

if TYPE_CHECKING:
    from voiceloop.engine.speculate import SpeculativeReply
    from voiceloop.engine.turn import Turn

__all__ = ["Presynthesis", "PrimedSynthesizer", "primed_synthesizer"]

_END = object()


class _Failed:
    def __init__(self, error: Exception) -> None:
        self.error = error


class Presynthesis:
    """One speech request for ``text``, its audio kept in order in a buffer."""

    def __init__(self, synthesizer: Synthesizer, text: str) -> None:
        self.text = text
        self.report = StageReport()
        self._audio: asyncio.Queue[Any] = asyncio.Queue()
        self.task = asyncio.create_task(self._run(synthesizer), name="speculative-speech")

    async def _run(self, synthesizer: Synthesizer) -> None:
        set_current_report(self.report)
        stream = synthesizer.synthesize(self.text)
        try:
            async for chunk in stream:
                self._audio.put_nowait(chunk)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._audio.put_nowait(_Failed(exc))
        finally:
            self._audio.put_nowait(_END)
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def audio(self) -> AsyncIterator[AudioChunk]:
        """The buffered audio, then the rest as it arrives; raises what the request raised.
        Closing it early closes the request."""
        try:
            while True:
                item = await self._audio.get()
                if item is _END:
                    return
                if isinstance(item, _Failed):
                    raise item.error
                yield item
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Close the request (a no-op once it has finished)."""
        self.task.cancel()


class PrimedSynthesizer:
    """``synthesizer`` whose first request for ``pre.text`` is served by ``pre``.

    ``done(report)`` is called once the buffered request is over (its usage becomes the
    turn's); ``wasted()`` when the buffered audio is thrown away unheard."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        pre: Presynthesis,
        *,
        done: Callable[[StageReport], None],
        wasted: Callable[[], None],
    ) -> None:
        self._synthesizer = synthesizer
        self._pre: Presynthesis | None = pre
        self._done = done
        self._wasted = wasted

    def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        """Audio for ``text``: the speculative audio when it is the text it was made for."""
        pre, self._pre = self._pre, None
        if pre is not None:
            if pre.text == text:
                return self._served(pre)
            self._drop(pre)
        return self._synthesizer.synthesize(text)

    async def _served(self, pre: Presynthesis) -> AsyncIterator[AudioChunk]:
        try:
            async for chunk in pre.audio():
                yield chunk
        finally:
            self._done(pre.report)

    def close(self) -> None:
        """The turn is over: buffered audio nobody asked for is dropped."""
        pre, self._pre = self._pre, None
        if pre is not None:
            self._drop(pre)

    def _drop(self, pre: Presynthesis) -> None:
        pre.cancel()
        self._wasted()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._synthesizer, name)


def primed_synthesizer(
    turn: Turn, spec: SpeculativeReply | None, language: str | None
) -> PrimedSynthesizer | None:
    """The turn's synthesizer, serving the first chunk synthesized during the pause."""
    synthesizer = turn.services.stages.synthesizer
    pre = spec.presynthesis if spec is not None else None
    if pre is None or synthesizer is None:
        return None
    extra = turn.metrics_extra

    def wasted() -> None:
        extra["wasted_requests"] = extra.get("wasted_requests", 0) + 1

    primed = PrimedSynthesizer(synthesizer, pre, done=turn.report.merge, wasted=wasted)
    if spec is not None and spec.language != language:
        primed.close()  # cut for another language: the turn's first chunk may differ
        return None
    extra["speculative_speech"] = True
    return primed
