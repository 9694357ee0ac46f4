"""A sink that plays nothing, for modes that never speak (dictation from a file)."""

from __future__ import annotations

import time

from voiceloop.audio.base import PlaybackHandle
from voiceloop.frames import AudioChunk


class NullSink:
    """Accepts chunks and reports them played at once; not real time."""

    realtime = False

    async def start(self) -> None:
        return None

    def play(self, chunk: AudioChunk) -> PlaybackHandle:
        handle = PlaybackHandle(chunk)
        now = self.time()
        handle.started.set_result(now)
        handle.finished.set_result(now)
        return handle

    def flush(self) -> None:
        return None

    async def drain(self) -> None:
        return None

    def time(self) -> float:
        return time.monotonic()

    @property
    def underruns(self) -> int:
        return 0

    async def aclose(self) -> None:
        return None
