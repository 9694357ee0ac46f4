"""The contracts between the audio layer and the engine.

Sources yield :class:`~voiceloop.frames.AudioFrame` (32 ms, 16 kHz mono int16);
the :class:`Endpointer` turns frames into utterances; sinks play
:class:`~voiceloop.frames.AudioChunk` gaplessly and say when each chunk was heard.
Both real devices (``Microphone``, ``Speaker``) and files (``FileSource``, ``FileSink``)
implement these, so every mode runs the same from devices or from files.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from voiceloop.frames import AudioChunk, AudioFrame, Utterance


@runtime_checkable
class FrameSource(Protocol):
    """An async iterator of frames; ends when a file is exhausted or the source closes."""

    def frames(self) -> AsyncIterator[AudioFrame]: ...

    async def aclose(self) -> None: ...

    @property
    def dropped(self) -> int:
        """Frames lost to overflow since the source opened."""
        ...


async def open_source(source: FrameSource) -> None:
    """Open a source that opens ahead of its frames (a microphone's ``start()``), so that
    what is said from now on is captured; others open when their frames are first asked."""
    start = getattr(source, "start", None)
    if start is not None:
        await start()


@dataclass(eq=False)
class PlaybackHandle:
    """Tracks one queued chunk. Futures resolve on the event loop that queued it.

    ``started`` resolves with the sink-clock time the chunk's first sample was played;
    ``finished`` with the time its last sample was played. Both are cancelled when the
    chunk is dropped by ``flush()``.
    """

    chunk: AudioChunk
    started: asyncio.Future[float] = field(default_factory=lambda: _future())
    finished: asyncio.Future[float] = field(default_factory=lambda: _future())


def _future() -> asyncio.Future[float]:
    return asyncio.get_running_loop().create_future()


@runtime_checkable
class AudioSink(Protocol):
    """Where synthesized speech and cues go: a speaker or a file."""

    async def start(self) -> None: ...

    def play(self, chunk: AudioChunk) -> PlaybackHandle:
        """Queue ``chunk`` right after whatever is queued (no gap); returns at once."""
        ...

    def flush(self) -> None:
        """Silence output within one block and drop everything queued."""
        ...

    async def drain(self) -> None:
        """Wait until everything queued has been played."""
        ...

    def time(self) -> float:
        """The sink's clock (seconds), comparable to the ``started``/``finished`` stamps."""
        ...

    @property
    def underruns(self) -> int: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SpeechStart:
    """The endpointer decided speech has started (``time`` is onset, pre-roll excluded)."""

    time: float


@dataclass(frozen=True, slots=True)
class SpeechPaused:
    """``early_ms`` of silence in an open utterance: ``utterance`` is what would close if
    no more speech came. The utterance that does close has the same ``start`` and
    ``speech_end`` exactly when none did."""

    utterance: Utterance
    quick: bool = False
    """Reported after ``quick_ms`` (sooner than ``early_ms``): for a reply started during
    the pause, where a transcript sooner is worth the requests dropped when speech goes on."""


@dataclass(frozen=True, slots=True)
class UtteranceReady:
    utterance: Utterance
    reason: str = "silence"
    """Why it closed: ``"silence"``, ``"max_length"``, ``"key"`` or ``"end_of_input"``."""


EndpointEvent = SpeechStart | SpeechPaused | UtteranceReady
