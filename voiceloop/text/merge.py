"""Join the transcripts of overlapping chunks of one long recording into one transcript.

Each part comes with the offset (seconds) of its chunk in the recording. Times are shifted
by that offset, and each overlap between neighbours is de-duplicated so that no word is
repeated or lost at a seam:

1. The words of both sides of the overlap are aligned by their longest common run of
   words (compared without case or punctuation). If a run of at least two words (three
   without timestamps) is found, the earlier chunk is kept up to a point inside the run and
   the later one from there; with timestamps that point is the one nearest the middle of
   the overlap.
2. Otherwise, with timestamps, the earlier chunk's words are kept up to the middle of the
   overlap and the later chunk's after it (by each word's centre).
3. Otherwise (text only, nothing in common) the texts are joined as they are.

The text and segments are merged from the segments' words (they carry the punctuation),
timed by the word timestamps where those line up with a segment's words, else spread
evenly over the segment; ``words`` are merged on their own timestamps. A part with neither
segments nor words is text only.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from voiceloop.frames import Segment, Transcript, Word

__all__ = ["merge_chunk_transcripts"]

_TEXT_ONLY_WINDOW = 120  # words looked at on each side of a seam without timestamps
_MARGIN = 1.0  # seconds of slack around an overlap when picking words by time
_NOT_WORD = re.compile(r"[^\w]+")


@dataclasses.dataclass(slots=True)
class _Token:
    text: str
    start: float | None
    end: float | None
    segment: Segment | None  # the (shifted) segment this word came from
    part: int
    first_of_segment: bool = True
    last_of_segment: bool = True
    vagueness: float = 0.0  # seconds: times spread over a segment are only that precise

    @property
    def centre(self) -> float | None:
        return None if self.start is None or self.end is None else (self.start + self.end) / 2

    @property
    def key(self) -> str:
        return _NOT_WORD.sub("", self.text.lower())


def _shift_segment(seg: Segment, offset: float) -> Segment:
    return dataclasses.replace(seg, start=seg.start + offset, end=seg.end + offset)


def _word_tokens(t: Transcript, offset: float, part: int) -> list[_Token]:
    return [
        _Token(w.word.strip(), w.start + offset, w.end + offset, None, part)
        for w in t.words
        if w.word.strip()
    ]


def _text_tokens(t: Transcript, offset: float, part: int) -> list[_Token]:
    """The transcript's words as spelled in its segments (with punctuation), timed by the
    word timestamps where they line up with a segment's words, else spread evenly."""
    if not t.segments:
        if t.words:
            return _word_tokens(t, offset, part)
        return [_Token(text, None, None, None, part) for text in t.text.split()]
    timed = _word_tokens(t, offset, part)
    out: list[_Token] = []
    for raw in t.segments:
        seg = _shift_segment(raw, offset)
        texts = seg.text.split()
        inside = [w for w in timed if seg.start <= (w.start or 0.0) < seg.end]
        if texts and len(inside) == len(texts):
            times = [(w.start or seg.start, w.end or seg.end, 0.0) for w in inside]
        else:
            step = (seg.end - seg.start) / max(1, len(texts))
            vague = seg.end - seg.start
            times = [
                (seg.start + i * step, seg.start + (i + 1) * step, vague) for i in range(len(texts))
            ]
        for i, (text, (start, end, vague)) in enumerate(zip(texts, times, strict=True)):
            out.append(_Token(text, start, end, seg, part, i == 0, i == len(texts) - 1, vague))
    return out


def _part_end(t: Transcript, offset: float, tokens: list[_Token]) -> float | None:
    if t.duration is not None:
        return offset + t.duration
    ends = [tok.end for tok in tokens if tok.end is not None]
    ends += [s.end + offset for s in t.segments]
    return max(ends) if ends else None


def _longest_common_run(n: int, m: int, same: Callable[[int, int], bool]) -> tuple[int, int, int]:
    """(start in a, start in b, length) of the longest run with ``same(i, j)`` all along."""
    best = (0, 0, 0)
    prev = [0] * (m + 1)
    for i in range(1, n + 1):
        cur = [0] * (m + 1)
        for j in range(1, m + 1):
            if same(i - 1, j - 1):
                cur[j] = prev[j - 1] + 1
                if cur[j] > best[2]:
                    best = (i - cur[j], j - cur[j], cur[j])
        prev = cur
    return best


def _join(
    merged: list[_Token], nxt: list[_Token], overlap: tuple[float, float | None]
) -> list[_Token]:
    """Append ``nxt`` (the later chunk) to ``merged``, dropping the duplicated overlap."""
    if not merged or not nxt:
        return merged + nxt
    ov_start, given_end = overlap
    timed = all(t.start is not None for t in merged[-1:] + nxt[:1]) and given_end is not None
    ov_end = given_end if given_end is not None else ov_start
    if timed:
        first = next(
            (i for i, t in enumerate(merged) if t.end is not None and t.end > ov_start - _MARGIN),
            len(merged),
        )
        stop = next(
            (j for j, t in enumerate(nxt) if t.start is not None and t.start >= ov_end + _MARGIN),
            len(nxt),
        )
        tail, head = list(range(first, len(merged))), list(range(stop))
    else:
        tail = list(range(max(0, len(merged) - _TEXT_ONLY_WINDOW), len(merged)))
        head = list(range(min(len(nxt), _TEXT_ONLY_WINDOW)))
    if tail and head:
        a0, b0 = tail[0], head[0]

        def same(i: int, j: int) -> bool:
            a, b = merged[a0 + i], nxt[b0 + j]
            if not a.key or a.key != b.key:
                return False
            # with timestamps, the same word must also be at about the same time
            slack = _MARGIN + max(a.vagueness, b.vagueness)
            return not timed or abs((a.start or 0.0) - (b.start or 0.0)) < slack

        ia, jb, length = _longest_common_run(len(tail), len(head), same)
        if length >= (2 if timed else 3):
            a_run, b_run = a0 + ia, b0 + jb

            def on_segment_edge(p: int) -> bool:
                return (p < length and nxt[b_run + p].first_of_segment) or (
                    p > 0 and merged[a_run + p - 1].last_of_segment
                )

            seam = (ov_start + ov_end) / 2 if timed else 0.0
            # the cut: where a segment ends if possible, then nearest the overlap's middle
            k = min(
                range(length + 1),
                key=lambda p: (
                    not on_segment_edge(p),
                    _distance(merged, a_run + p, seam) if timed else abs(p - length // 2),
                ),
            )
            return merged[: a_run + k] + nxt[b_run + k :]
    if timed:
        seam = (ov_start + ov_end) / 2
        part = merged[-1].part
        keep = [t for t in merged if t.part != part or t.centre is None or t.centre < seam]
        later = [t for t in nxt if t.centre is None or t.centre >= seam]
        if keep and later and keep[-1].key == later[0].key:
            later = later[1:]  # the same word, its centre jittered across the seam
        return keep + later
    return merged + nxt


def _distance(tokens: list[_Token], index: int, seam: float) -> float:
    """How far from ``seam`` a cut before ``tokens[index]`` falls."""
    t = tokens[-1].end if index >= len(tokens) else tokens[index].start
    return abs((t if t is not None else seam) - seam)


def _segments(tokens: list[_Token]) -> tuple[Segment, ...]:
    """Segments rebuilt from the kept words, split where the source segment changes."""
    out: list[Segment] = []
    group: list[_Token] = []

    def close() -> None:
        if not group:
            return
        seg, head, last = group[0].segment, group[0], group[-1]
        assert seg is not None
        start = seg.start if head.first_of_segment or head.start is None else head.start
        end = seg.end if last.last_of_segment or last.end is None else last.end
        text = " " + " ".join(t.text for t in group)
        out.append(dataclasses.replace(seg, start=start, end=max(start, end), text=text))
        group.clear()

    for tok in tokens:
        if tok.segment is None:
            close()
            continue
        if group and (tok.segment is not group[0].segment or tok.part != group[0].part):
            close()
        group.append(tok)
    close()
    return tuple(out)


def _words(tokens: list[_Token]) -> tuple[Word, ...]:
    return tuple(
        Word(t.start, t.end, t.text) for t in tokens if t.start is not None and t.end is not None
    )


def _merge(
    parts: list[tuple[float, Transcript]],
    tokens_of: Callable[[Transcript, float, int], list[_Token]],
) -> list[_Token]:
    merged: list[_Token] = []
    prev_end: float | None = None
    for index, (offset, transcript) in enumerate(parts):
        tokens = tokens_of(transcript, offset, index)
        merged = _join(merged, tokens, (offset, prev_end)) if index else tokens
        prev_end = _part_end(transcript, offset, tokens)
    return merged


def merge_chunk_transcripts(parts: list[tuple[float, Transcript]]) -> Transcript:
    """One transcript from ``(chunk offset in seconds, transcript of the chunk)`` pairs."""
    if not parts:
        return Transcript(text="")
    parts = sorted(parts, key=lambda p: p[0])
    merged = _merge(parts, _text_tokens)
    all_words = all(t.words or not t.text.strip() for _, t in parts)
    all_segments = all(t.segments or not t.text.strip() for _, t in parts)
    first = parts[0][1]
    durations = [o + t.duration for o, t in parts if t.duration is not None]
    return Transcript(
        text=" ".join(t.text for t in merged),
        language=next((t.language for _, t in parts if t.language), None),
        duration=max(durations) if durations else None,
        segments=_segments(merged) if all_segments else (),
        words=_words(_merge(parts, _word_tokens)) if all_words else (),
        provider=first.provider,
        model=first.model,
        request_id=first.request_id,
        local=any(t.local for _, t in parts),
    )
