"""Keeping the microphone deaf to ourselves: half-duplex speech and cue sounds.

While the assistant speaks from a live source, the endpointer is ``suppressed`` unless
barge-in is on (speakers leak into microphones). Cue sounds always suppress it, from the
moment they are queued until :data:`voiceloop.audio.cues.CUE_TAIL_S` after they end.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from voiceloop.audio.base import AudioSink

if TYPE_CHECKING:
    from voiceloop.engine.services import SpeechEndpointer

log = logging.getLogger(__name__)


class Deafness:
    """Counts what keeps the endpointer suppressed and applies it."""

    def __init__(self, *, live: bool, barge_in: bool) -> None:
        self.live = live
        self.barge_in = barge_in
        self.endpointer: SpeechEndpointer | None = None
        self.speaking = 0
        self.cueing = 0

    def set_speaking(self, on: bool) -> None:
        self.speaking = max(0, self.speaking + (1 if on else -1))
        self.apply()

    def set_cueing(self, on: bool) -> None:
        self.cueing = max(0, self.cueing + (1 if on else -1))
        self.apply()

    def apply(self) -> None:
        if self.endpointer is None or not self.live:
            return
        half_duplex = not self.barge_in and self.speaking > 0
        self.endpointer.suppressed = half_duplex or self.cueing > 0


class CuePlayer:
    """Plays the ``listening`` / ``done`` cues through the speech sink, in the background."""

    def __init__(self, sink: AudioSink, deafness: Deafness, *, enabled: bool) -> None:
        self._sink = sink
        self._deafness = deafness
        self.enabled = enabled
        self._tasks: set[asyncio.Task[None]] = set()

    def play(self, name: str) -> None:
        if not self.enabled:
            return
        task = asyncio.create_task(self._play(name), name=f"cue-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def aclose(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _play(self, name: str) -> None:
        from voiceloop.audio import cues

        try:
            chunk = cues.load_cue(name)
        except Exception as exc:
            self.enabled = False
            log.warning("cue sounds disabled: %s", exc)
            return
        self._deafness.set_cueing(True)
        try:
            handle = self._sink.play(chunk)
            await asyncio.wait([handle.finished])  # returns even when flushed
            await asyncio.sleep(cues.CUE_TAIL_S)
        finally:
            self._deafness.set_cueing(False)
