"""Subtitles (SRT and WebVTT) from timed transcript segments.

Cues are made readable: text longer than :data:`CUE_CHARS` is cut into several cues at
sentence, clause or word boundaries (their times shared out by length), and each cue's text
is wrapped into lines of at most :data:`LINE_CHARS` where it has spaces to break at.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from voiceloop.frames import Segment

__all__ = [
    "CUE_CHARS",
    "LINE_CHARS",
    "Cue",
    "cues_from_segments",
    "cues_or_whole_text",
    "format_timestamp",
    "readable",
    "to_srt",
    "to_vtt",
]

LINE_CHARS = 42
"""Longest subtitle line (characters), the usual broadcast limit."""
CUE_CHARS = 2 * LINE_CHARS
"""Longest cue: two full lines."""
_WORDS_PER_SECOND = 2.5  # speaking rate, to time a text that came without any times


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


def _width(text: str) -> int:
    """Columns on screen: Chinese and Japanese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _wrap(text: str) -> str:
    """Lines of at most ``LINE_CHARS`` columns (a longer word keeps its own line),
    balanced; text written without spaces (Chinese, Japanese) breaks between characters."""
    if _width(text) <= LINE_CHARS:
        return text
    if " " not in text:
        return _wrap_unspaced(text) if _width(text) > len(text) else text
    words = text.split(" ")
    lines = max(2, -(-len(text) // LINE_CHARS))
    target = -(-len(text) // lines)
    out: list[str] = []
    line = ""
    for word in words:
        if line and (len(line) + 1 + len(word) > LINE_CHARS or len(line) >= target):
            out.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    out.append(line)
    return "\n".join(out)


def _wrap_unspaced(text: str) -> str:
    lines = max(2, -(-_width(text) // LINE_CHARS))
    target = -(-_width(text) // lines)
    out: list[str] = []
    line, width = "", 0
    for char in text:
        w = _width(char)
        if line and (width + w > LINE_CHARS or width >= target):
            out.append(line)
            line, width = "", 0
        line += char
        width += w
    out.append(line)
    return "\n".join(out)


def readable(cues: Iterable[Cue]) -> list[Cue]:
    """Cues cut to at most ``CUE_CHARS`` each and wrapped into lines of ``LINE_CHARS``."""
    from voiceloop.text.sentences import split_text

    out: list[Cue] = []
    for cue in cues:
        text = " ".join(cue.text.split()) if _width(cue.text) > CUE_CHARS else cue.text.strip()
        if _width(text) <= CUE_CHARS:
            out.append(Cue(cue.start, cue.end, _wrap(text) if "\n" not in text else text))
            continue
        wide = _width(text) > len(text) * 1.5  # mostly two-column characters
        pieces = split_text(text, CUE_CHARS // 2 if wide else CUE_CHARS, markdown=False)
        total = sum(len(p) for p in pieces) or 1
        span, at = max(0.0, cue.end - cue.start), cue.start
        for piece in pieces:
            end = at + span * len(piece) / total
            out.append(Cue(at, end, _wrap(piece)))
            at = end
    return out


def _timed(cues: Iterable[Cue]) -> list[tuple[int, int, str]]:
    """Cues made readable, blank text dropped, times in whole milliseconds, end never
    before start."""
    out = []
    for cue in readable(cues):
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


def _vtt_text(text: str) -> str:
    """Cue text as WebVTT reads it: ``&`` and ``<`` start entities and tags, so they are
    escaped; "-->" may not appear at all, and an arrow is what it means anyway."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("-->", "→")


def to_vtt(cues: Iterable[Cue]) -> str:
    """WebVTT: ``WEBVTT`` header, numbered cues, ``HH:MM:SS.mmm --> HH:MM:SS.mmm``."""
    blocks = [
        f"{n}\n{_stamp(start, '.')} --> {_stamp(end, '.')}\n{_vtt_text(text)}\n"
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


def cues_or_whole_text(
    segments: Iterable[Segment], text: str, duration: float | None = None
) -> tuple[list[Cue], bool]:
    """Cues of the segments; when there are none but there is text (a server that returns
    no ``segments``), one cue with the whole text over ``duration`` (estimated from the
    words when unknown), which :func:`readable` cuts further. The flag says whether the
    whole text was used."""
    cues = cues_from_segments(segments)
    if cues or not text.strip():
        return cues, False
    words = len(text.split())
    length = duration if duration and duration > 0 else max(1.0, words / _WORDS_PER_SECOND)
    return [Cue(0.0, length, text.strip())], True
