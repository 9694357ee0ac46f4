"""Merging transcripts of overlapping chunks."""

from __future__ import annotations

import itertools
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.frames import Segment, Transcript, Word
from voiceloop.text.merge import merge_chunk_transcripts

VOCAB = "the a cat dog sat on mat and then ran far away quickly slowly home again"


def truth(n: int, seed: int, gap: float = 0.1) -> list[Word]:
    """Ground-truth words: 0.2-0.6 s each, separated by small gaps."""
    rng = random.Random(seed)
    words, t = [], 0.0
    for _ in range(n):
        length = rng.uniform(0.2, 0.6)
        words.append(Word(round(t, 3), round(t + length, 3), rng.choice(VOCAB.split())))
        t += length + rng.uniform(0.02, gap)
    return words


def segment(words: list[Word]) -> Segment:
    return Segment(words[0].start, words[-1].end, " " + " ".join(w.word for w in words))


def chunk_transcript(
    words: list[Word], start: float, end: float, seed: int, *, jitter: float = 0.04
) -> Transcript:
    """What a model would return for audio [start, end): the words whose centre lies in
    it, times relative to the chunk with a little jitter, split into ~3 s segments."""
    rng = random.Random(seed)
    inside = [w for w in words if start <= (w.start + w.end) / 2 < end]
    rel = [
        Word(
            max(0.0, w.start - start + rng.uniform(-jitter, jitter)),
            max(0.0, w.end - start + rng.uniform(-jitter, jitter)),
            w.word,
        )
        for w in inside
    ]
    segments, group = [], []
    for w in rel:
        group.append(w)
        if group[-1].end - group[0].start > 3:
            segments.append(
                Segment(group[0].start, group[-1].end, " " + " ".join(g.word for g in group))
            )
            group = []
    if group:
        segments.append(
            Segment(group[0].start, group[-1].end, " " + " ".join(g.word for g in group))
        )
    return Transcript(
        text=" ".join(w.word for w in rel),
        duration=end - start,
        segments=tuple(segments),
        words=tuple(rel),
        language="en",
        provider="p",
        model="m",
    )


def plan(total: float, size: float, overlap: float) -> list[tuple[float, float]]:
    spans, start = [], 0.0
    while True:
        end = min(total, start + size)
        spans.append((start, end))
        if end >= total:
            return spans
        start = end - overlap


def test_text_only_overlap_aligned_by_common_run() -> None:
    a = Transcript(text="one two three four five six seven eight")
    b = Transcript(text="six seven eight nine ten")
    merged = merge_chunk_transcripts([(0.0, a), (30.0, b)])
    assert merged.text == "one two three four five six seven eight nine ten"
    assert merged.words == () and merged.segments == ()


def test_text_only_tolerates_case_and_punctuation_and_edge_garbage() -> None:
    a = Transcript(text="We went to the market, bought apples and pe")
    b = Transcript(text="Market bought apples and pears. Then home.")
    merged = merge_chunk_transcripts([(0.0, a), (20.0, b)])
    assert merged.text == "We went to the market, bought apples and pears. Then home."


def test_text_only_without_common_words_is_joined() -> None:
    merged = merge_chunk_transcripts(
        [(0.0, Transcript(text="alpha beta")), (5.0, Transcript(text="gamma delta"))]
    )
    assert merged.text == "alpha beta gamma delta"


def test_timed_words_are_shifted_and_deduplicated() -> None:
    words = truth(300, seed=1)
    total = words[-1].end + 0.5
    parts = [
        (s, chunk_transcript(words, s, e, seed=i)) for i, (s, e) in enumerate(plan(total, 40, 10))
    ]
    assert len(parts) >= 3
    merged = merge_chunk_transcripts(parts)
    assert [w.word for w in merged.words] == [w.word for w in words]
    assert all(abs(m.start - w.start) < 0.1 for m, w in zip(merged.words, words, strict=True))
    assert merged.text == " ".join(w.word for w in words)
    assert " ".join(s.text.strip() for s in merged.segments) == merged.text
    assert all(a.start <= b.start for a, b in itertools.pairwise(merged.segments))
    assert merged.language == "en" and merged.provider == "p"
    assert abs(merged.duration - total) < 1e-6


def test_timed_overlap_with_disagreeing_words_cuts_at_the_middle() -> None:
    # the two chunks heard the overlap (10-20 s) differently: nothing to align on
    a = Transcript(
        text="x",
        duration=20.0,
        words=(Word(1, 2, "early"), Word(12, 13, "alpha"), Word(17, 18, "beta")),
    )
    b = Transcript(
        text="x",
        duration=20.0,
        words=(Word(2, 3, "gamma"), Word(7, 8, "delta"), Word(15, 16, "late")),
    )
    merged = merge_chunk_transcripts([(10.0, b), (0.0, a)])  # order does not matter
    # seam at 15 s: a keeps words before it, b (shifted by 10 s) after it
    assert [w.word for w in merged.words] == ["early", "alpha", "delta", "late"]
    assert [w.start for w in merged.words] == [1, 12, 17, 25]


def test_text_keeps_segment_punctuation_when_words_have_none() -> None:
    a = Transcript(
        text="Hello, world. How are you?",
        duration=10.0,
        segments=(Segment(0, 2, " Hello, world."), Segment(6, 9.5, " How are you?")),
        words=tuple(
            Word(s, s + 0.4, w)
            for s, w in [(0, "Hello"), (1, "world"), (6, "How"), (7, "are"), (8, "you")]
        ),
    )
    b = Transcript(
        text="How are you? Fine, thanks.",
        duration=10.0,
        segments=(Segment(0, 3.5, " How are you?"), Segment(4, 6, " Fine, thanks.")),
        words=tuple(
            Word(s, s + 0.4, w)
            for s, w in [(0.1, "How"), (1.05, "are"), (2, "you"), (4, "Fine"), (5, "thanks")]
        ),
    )
    merged = merge_chunk_transcripts([(0.0, a), (6.0, b)])
    assert merged.text == "Hello, world. How are you? Fine, thanks."
    assert [w.word for w in merged.words] == [
        "Hello",
        "world",
        "How",
        "are",
        "you",
        "Fine",
        "thanks",
    ]
    assert [s.text for s in merged.segments] == [
        " Hello, world.",
        " How are you?",
        " Fine, thanks.",
    ]


def test_segments_only_parts() -> None:
    a = Transcript(
        text="hello there my friend how are you",
        duration=12.0,
        segments=(Segment(0, 5, " hello there my friend"), Segment(6, 11.5, " how are you")),
    )
    b = Transcript(
        text="how are you today",
        duration=8.0,
        segments=(Segment(0, 3, " how are you"), Segment(3.5, 6, " today")),
    )
    merged = merge_chunk_transcripts([(0.0, a), (5.5, b)])
    assert merged.text == "hello there my friend how are you today"
    assert merged.segments[0] == Segment(0, 5, " hello there my friend")
    assert merged.segments[-1].text == " today" and merged.segments[-1].start == 9.0


def test_single_and_empty() -> None:
    assert merge_chunk_transcripts([]).text == ""
    one = Transcript(text="hi", segments=(Segment(0, 1, " hi"),), duration=1.0)
    merged = merge_chunk_transcripts([(30.0, one)])
    assert merged.segments == (Segment(30.0, 31.0, " hi"),) and merged.text == "hi"
    silent = Transcript(text="", duration=10.0)
    assert merge_chunk_transcripts([(0.0, one), (0.5, silent)]).text == "hi"


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 250),
    size=st.floats(15, 60),
    overlap=st.floats(3, 12),
    seed=st.integers(0, 10_000),
    words_too=st.booleans(),
)
def test_no_word_lost_or_repeated(n, size, overlap, seed, words_too) -> None:
    words = truth(n, seed)
    total = (words[-1].end if words else 0) + 1.0
    parts = []
    for i, (s, e) in enumerate(plan(total, size, overlap)):
        t = chunk_transcript(words, s, e, seed=seed + i)
        parts.append(
            (
                s,
                t
                if words_too
                else Transcript(text=t.text, duration=t.duration, segments=t.segments),
            )
        )
    merged = merge_chunk_transcripts(parts)
    assert merged.text.split() == [w.word for w in words]
    assert " ".join(s.text.strip() for s in merged.segments) == merged.text
    if words_too:
        assert [w.word for w in merged.words] == [w.word for w in words]
