"""What the engine does once as it starts: warm the stages up, open the speaker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from voiceloop.audio.base import AudioSink
from voiceloop.errors import AudioError
from voiceloop.events import Event, Notice

log = logging.getLogger(__name__)


async def warm_up(
    stages: Iterable[Any], encode_flac: Callable[[Any, int], bytes], emit: Callable[[Event], None]
) -> None:
    """Call each stage's ``warm()`` (a failure is a notice) and warm the FLAC encoder."""

    async def warm_one(stage: Any) -> None:
        warm = getattr(stage, "warm", None)
        if warm is None:
            return
        try:
            await warm()
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
