"""Speaking a reply piece by piece: ordered, bounded prefetch of syntheses, gapless playback.

Pieces of text arrive in order (from the sentence splitter) while the reply is still
streaming. Each piece's synthesis starts as soon as a *slot* is free; a slot is held from
the start of a piece's synthesis until its last sample has been played, and there are
``prefetch + 1`` slots: while piece *n* plays, pieces *n+1* … *n+prefetch* synthesize.
A single player takes the pieces strictly in order and queues each audio chunk on the sink
the moment it arrives, so the sink always holds the next piece before the current one
ends when synthesis keeps up.

``abort()`` makes the pipeline inert at once: the sink is flushed, every synthesis and the
player are cancelled, and nothing is queued on the sink afterwards, whatever arrives late.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from voiceloop.audio.base import AudioSink, PlaybackHandle
from voiceloop.engine import metrics as m
from voiceloop.engine.metrics import TurnTimer
from voiceloop.errors import StageFailed
from voiceloop.frames import AudioChunk
from voiceloop.stages import Synthesizer

_Audio = AudioChunk | BaseException | None
"""What a piece's queue holds: a chunk, the synthesis failure, or ``None`` at its end."""


@dataclass(eq=False)
class _Piece:
    text: str
    audio: asyncio.Queue[_Audio] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None
    first: PlaybackHandle | None = None
    last: PlaybackHandle | None = None


class SpeechPipeline:
    """Speaks pieces of text in order through ``synthesizer`` and ``sink``.

    Use: ``start()``, then ``say(text)`` for each piece, ``end()``, ``await finish()``
    (returns once the last sample has played). ``abort()``/``aclose()`` cancel.
    Synthesis errors surface as :class:`StageFailed` from ``finish()`` or
    ``raise_if_failed()``.
    """

    def __init__(
        self,
        synthesizer: Synthesizer,
        sink: AudioSink,
        *,
        prefetch: int = 2,
        timer: TurnTimer | None = None,
        on_piece_started: Callable[[str], None] | None = None,
        on_speaking: Callable[[bool], None] | None = None,
        wait: Callable[[asyncio.Future[Any]], Awaitable[None]] | None = None,
    ) -> None:
        self._synthesizer = synthesizer
        self._wait = wait
        self._sink = sink
        self._slots = asyncio.Semaphore(max(0, prefetch) + 1)
        self._timer = timer
        self._on_piece_started = on_piece_started
        self._on_speaking = on_speaking
        self._incoming: asyncio.Queue[_Piece | None] = asyncio.Queue()
        self._ordered: asyncio.Queue[_Piece | None] = asyncio.Queue()
        self._pieces: list[_Piece] = []
        self._feeder: asyncio.Task[None] | None = None
        self._player: asyncio.Task[None] | None = None
        self._closed = False
        self._speaking = False
        # A file sink writing as fast as possible has a clock that is a position in the
        # file, not a time: its stamps cannot be mapped to monotonic time.
        self._sink_is_clock = bool(getattr(sink, "realtime", True))

    # -- the producer side -------------------------------------------------------

    def start(self) -> None:
        self._feeder = asyncio.create_task(self._feed(), name="speech-feeder")
        self._player = asyncio.create_task(self._play(), name="speech-player")

    def say(self, text: str) -> None:
        """Queue a piece of text to be spoken after those already queued."""
        if self._closed or not text.strip():
            return
        piece = _Piece(text)
        self._pieces.append(piece)
        self._incoming.put_nowait(piece)

    def end(self) -> None:
        """No more pieces will come."""
        self._incoming.put_nowait(None)

    async def finish(self) -> None:
        """Wait until every piece has been played (after ``end()``)."""
        assert self._player is not None, "start() first"
        await self._player

    def raise_if_failed(self) -> None:
        """Raise the player's error now, if it has already failed."""
        if self._player is not None and self._player.done() and not self._player.cancelled():
            exc = self._player.exception()
            if exc is not None:
                raise exc

    # -- what was heard ----------------------------------------------------------

    @property
    def heard(self) -> list[str]:
        """Pieces whose first sample was played, in order."""
        out = []
        for piece in self._pieces:
            started = piece.first.started if piece.first else None
            if started is None or not started.done() or started.cancelled():
                break
            out.append(piece.text)
        return out

    @property
    def pieces(self) -> list[str]:
        return [p.text for p in self._pieces]

    # -- cancellation ------------------------------------------------------------

    def abort(self) -> None:
        """Stop now: flush the sink, cancel syntheses and the player. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if any(p.last is not None and not p.last.finished.done() for p in self._pieces):
            self._sink.flush()
        for task in self._tasks():
            task.cancel()
        self._set_speaking(False)

    async def aclose(self) -> None:
        """``abort()`` and wait for the cancelled tasks to unwind."""
        self.abort()
        tasks = self._tasks()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _tasks(self) -> list[asyncio.Task[Any]]:
        tasks = [t for t in (self._feeder, self._player) if t is not None]
        tasks += [p.task for p in self._pieces if p.task is not None]
        return [t for t in tasks if not t.done()]

    # -- internals ---------------------------------------------------------------

    async def _feed(self) -> None:
        while True:
            piece = await self._incoming.get()
            if piece is None:
                self._ordered.put_nowait(None)
                return
            await self._slots.acquire()
            piece.task = asyncio.create_task(self._synthesize(piece), name="speech-synth")
            self._ordered.put_nowait(piece)

    async def _synthesize(self, piece: _Piece) -> None:
        stream = self._synthesizer.synthesize(piece.text)
        try:
            async for chunk in stream:
                if self._timer is not None:
                    self._timer.mark(m.FIRST_AUDIO)
                piece.audio.put_nowait(chunk)
            piece.audio.put_nowait(None)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            piece.audio.put_nowait(StageFailed("synthesizer", exc))
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()

    async def _next_audio(self, piece: _Piece, last: PlaybackHandle | None) -> _Audio:
        """The piece's next chunk; while nothing plays, waited for through ``wait`` (which
        says the turn still waits for speech)."""
        idle = piece.last is None and (last is None or last.finished.done())
        if self._wait is None or not idle or not piece.audio.empty():
            return await piece.audio.get()
        getter = asyncio.ensure_future(piece.audio.get())
        try:
            await self._wait(getter)
        finally:
            getter.cancel()  # a no-op when done; else the player is being cancelled
        return getter.result()

    async def _play(self) -> None:
        last: PlaybackHandle | None = None
        while True:
            piece = await self._ordered.get()
            if piece is None:
                break
            while True:
                item = await self._next_audio(piece, last)
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                self._queue(piece, item)
            if piece.last is None:
                self._slots.release()  # a piece with no audio frees its slot at once
            else:
                last = piece.last
                last.finished.add_done_callback(lambda _f: self._slots.release())
        if last is not None:
            await asyncio.wait([last.finished])
            if self._timer is not None and not last.finished.cancelled():
                self._timer.mark(m.DRAINED, self._to_monotonic(last.finished.result()))
        self._set_speaking(False)

    def _queue(self, piece: _Piece, chunk: AudioChunk) -> None:
        if self._closed:  # belt and braces: nothing is played after an abort
            return
        handle = self._sink.play(chunk)
        if piece.first is None:
            piece.first = handle
            handle.started.add_done_callback(functools.partial(self._started, piece))
        piece.last = handle
        self._set_speaking(True)

    def _started(self, piece: _Piece, fut: asyncio.Future[float]) -> None:
        if self._closed or fut.cancelled():
            return
        if self._timer is not None:
            self._timer.mark(m.TTFA, self._to_monotonic(fut.result()))
        if self._on_piece_started is not None:
            self._on_piece_started(piece.text)

    def _to_monotonic(self, sink_time: float) -> float:
        if not self._sink_is_clock:
            return time.monotonic()  # "played" the moment it was reported
        return time.monotonic() - (self._sink.time() - sink_time)

    def _set_speaking(self, on: bool) -> None:
        if on != self._speaking:
            self._speaking = on
            if self._on_speaking is not None:
                self._on_speaking(on)
