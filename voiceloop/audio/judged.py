"""The endpointer's frames, each with the voice detector's verdict, and what is read off
a run of them: the current stretch of speech, how much of it is speech, the utterance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame, Utterance

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


def frames_in(ms: float) -> int:
    """Whole frames in ``ms`` milliseconds, at least one."""
    return max(1, round(ms / 1000 / FRAME_S))


@dataclass(slots=True)
class Judged:
    """A frame and whether it counts as speech."""

    frame: AudioFrame
    speech: bool


def speech_frames(frames: Iterable[Judged]) -> int:
    return sum(1 for j in frames if j.speech)


def speech_run(ring: Sequence[Judged]) -> tuple[int, int] | None:
    """The run of speech at the end of ``ring``: (index of its first frame, number of
    speech frames); one non-speech frame inside the run is tolerated. None when the last
    frame is not speech."""
    if not ring or not ring[-1].speech:
        return None
    count = 0
    first = len(ring) - 1
    gap = 0
    for i in range(len(ring) - 1, -1, -1):
        if ring[i].speech:
            count += 1
            first = i
            gap = 0
        else:
            gap += 1
            if gap > 1:
                break
    return first, count


def utterance_of(
    frames: Sequence[Judged], end: float | None, speech_end: float | None
) -> Utterance:
    """The utterance these frames make, closed at ``end`` (else after the last frame)."""
    pcm = np.concatenate([j.frame.pcm for j in frames]).astype(np.int16, copy=False)
    end = end if end is not None else frames[-1].frame.time + FRAME_S
    return Utterance(
        pcm=pcm,
        start=frames[0].frame.time,
        end=end,
        speech_fraction=speech_frames(frames) / len(frames),
        speech_end=speech_end,
        closed_at=end,
    )
