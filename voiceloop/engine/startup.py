"""What the engine does once as it starts (its default parts, warming up, the speaker)
and as it stops (finishing what is under way unless told to stop at once).

The default parts (endpointer, sentence splitter, FLAC encoder) are imported only when
first needed, so the engine can be built with other parts (tests, embedding applications)
and importing the engine does not import numpy or the VAD model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

from voiceloop.audio.base import AudioSink
from voiceloop.engine.services import EngineOptions, FlacEncoder, Splitter, SplitterFactory
from voiceloop.errors import AudioError
from voiceloop.events import Event, Notice
from voiceloop.stages import call_hook

if TYPE_CHECKING:
    import numpy as np

    from voiceloop.audio.vad import Endpointer
    from voiceloop.config import Settings

log = logging.getLogger(__name__)


async def warm_up(
    stages: Iterable[object], encode_flac: FlacEncoder, emit: Callable[[Event], None]
) -> None:
    """Call each stage's ``warm()`` (a failure is a notice) and warm the FLAC encoder."""

    async def warm_one(stage: object) -> None:
        try:
            await call_hook(stage, "warm")
        except Exception as exc:
            log.warning("warming %s failed", type(stage).__name__, exc_info=True)
            message = getattr(exc, "message", None) or f"{type(exc).__name__}"
            emit(Notice(level="warning", title="Warm-up failed", message=message))

    await asyncio.gather(*(warm_one(stage) for stage in stages))
    try:
        # The first encode loads libsndfile: pay for it now, not on the first turn.
        import numpy as np

        encode_flac(np.zeros(1600, np.int16), 16_000)
    except Exception:
        log.debug("warming the FLAC encoder failed", exc_info=True)


async def start_sink(
    sink: AudioSink, *, speaks: bool, mode: str, emit: Callable[[Event], None]
) -> AudioSink:
    """Start ``sink``; when it cannot open and the mode does not speak, go on silently
    (a ``NullSink``, with a notice). Returns the sink to use."""
    try:
        await sink.start()
        return sink
    except AudioError as exc:
        if speaks:
            raise
        from voiceloop.engine.nullsink import NullSink

        log.warning("no speaker, going on silently: %s", exc.one_line())
        emit(
            Notice(
                level="warning",
                title="No speaker",
                message=f"{exc.one_line()} — {mode} goes on without sound",
            )
        )
        with contextlib.suppress(Exception):
            await sink.aclose()
        return NullSink()


def default_endpointer(settings: Settings, realtime: bool = True) -> Endpointer:
    """The audio layer's ``Endpointer`` configured from ``[vad]`` and ``[turn]`` (models
    loaded here); the end-of-turn model keeps off the caller's thread for live input."""
    from voiceloop.audio import vad

    return vad.Endpointer.from_settings(settings.vad, turn=settings.turn, background=realtime)


def default_splitter_factory(options: EngineOptions) -> SplitterFactory:
    """A factory of the text layer's ``SentenceSplitter`` honouring ``[tts] max_chars`` and
    ``first_chunk_*`` fields, with the abbreviations of the reply's language."""

    def make(*, language: str | None = None) -> Splitter:
        from voiceloop.text.sentences import SentenceSplitter

        return SentenceSplitter(
            max_chars=options.max_chars,
            first_chunk_min_chars=options.first_chunk_min_chars,
            first_chunk_min_words=options.first_chunk_min_words,
            first_chunk_max_words=options.first_chunk_max_words,
            first_chunk_interjections=options.first_chunk_interjections,
            language=language,
        )

    return make


def default_flac_encoder() -> FlacEncoder:
    from voiceloop.audio.formats import encode_flac

    return encode_flac


def lazy_flac_encoder() -> FlacEncoder:
    """:func:`default_flac_encoder`, loaded on the first utterance rather than at start-up."""
    encoder: FlacEncoder | None = None

    def encode(pcm: np.ndarray, sample_rate: int) -> bytes:
        nonlocal encoder
        if encoder is None:
            encoder = default_flac_encoder()
        return encoder(pcm, sample_rate)

    return encode


async def until_stopped(stop: asyncio.Event, coro: Awaitable[object]) -> None:
    """Run ``coro`` unless ``stop`` is set first (then ``coro`` is cancelled)."""
    work = asyncio.ensure_future(coro)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopper.cancel()
        if not work.done():
            work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
