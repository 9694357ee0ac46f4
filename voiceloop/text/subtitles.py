"""Subtitles (SRT and WebVTT) from timed transcript segments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from voiceloop.frames import Segment

__all__ = ["Cue", "cues_from_segments", "format_timestamp", "to_srt", "to_vtt"]


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle: shown from ``start`` to ``end`` seconds."""

    start: float
    end: float
    text: str


def _millis(seconds: float) -> int:
    return max(0, round(seconds * 1000))


def format_timestamp(seconds: float, *, separator: str = ",") -> str:
    """``HH:MM:SS,mmm`` (SRT; ``separator="."`` for WebVTT). Hours grow past 99."""
    ms = _millis(seconds)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{ms:03d}"


def _timed(cues: Iterable[Cue]) -> list[tuple[int, int, str]]:
    """Cues with blank text dropped, times in whole milliseconds, end never before start."""
    out = []
    for cue in cues:
        text = "\n".join(line.strip() for line in cue.text.strip().splitlines() if line.strip())
        if not text:
            continue
        start = _millis(cue.start)
        out.append((start, max(start, _millis(cue.end)), text))
    return out


def _stamp(ms: int, separator: str) -> str:
    return format_timestamp(ms / 1000, separator=separator)


def to_srt(cues: Iterable[Cue]) -> str:
    """SubRip: numbered cues, ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, blank line between."""
    blocks = [
        f"{n}\n{_stamp(start, ',')} --> {_stamp(end, ',')}\n{text}\n"
        for n, (start, end, text) in enumerate(_timed(cues), start=1)
    ]
    return "\n".join(blocks)


def to_vtt(cues: Iterable[Cue]) -> str:
    """WebVTT: ``WEBVTT`` header, numbered cues, ``HH:MM:SS.mmm --> HH:MM:SS.mmm``."""
    blocks = [
        # "-->" may not appear in cue text; an arrow is what it means anyway
        f"{n}\n{_stamp(start, '.')} --> {_stamp(end, '.')}\n{text.replace('-->', '→')}\n"
        for n, (start, end, text) in enumerate(_timed(cues), start=1)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def cues_from_segments(segments: Iterable[Segment], offset: float = 0.0) -> list[Cue]:
    """One cue per non-blank segment, times shifted by ``offset`` seconds."""
    return [
        Cue(seg.start + offset, seg.end + offset, seg.text.strip())
        for seg in segments
        if seg.text.strip()
    ]
