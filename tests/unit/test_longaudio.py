"""Cutting long recordings into overlapping chunks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.audio.longaudio import plan_chunks

RATE = 8000


def speechlike(seed: int, seconds: float) -> tuple[np.ndarray, np.ndarray]:
    """Noise bursts (2-8 s) separated by digital silence (0.4-1.2 s); returns the audio
    and a mask of the silent samples."""
    rng = np.random.default_rng(seed)
    parts, mask = [], []
    total = 0
    while total < seconds * RATE:
        burst = int(rng.uniform(2, 8) * RATE)
        gap = int(rng.uniform(0.4, 1.2) * RATE)
        parts += [rng.normal(0, 0.2, burst).astype(np.float32), np.zeros(gap, np.float32)]
        mask += [np.zeros(burst, bool), np.ones(gap, bool)]
        total += burst + gap
    return np.concatenate(parts), np.concatenate(mask)


def check_cover(chunks: list[tuple[int, int]], n: int, max_len: int) -> None:
    assert chunks[0][0] == 0 and chunks[-1][1] == n
    for (s1, e1), (s2, e2) in itertools.pairwise(chunks):
        assert s1 < s2 <= e1 < e2  # moves forward, no gap
    assert all(0 < e - s <= max_len for s, e in chunks)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cuts_land_in_silence_and_cover_everything(seed: int) -> None:
    pcm, silent = speechlike(seed, 600)
    chunks = plan_chunks(pcm, RATE, max_seconds=60, overlap_seconds=10)
    check_cover(chunks, len(pcm), 60 * RATE)
    assert len(chunks) >= 11
    for start, end in chunks[:-1]:
        assert silent[end - 1] and silent[min(end, len(pcm) - 1)], (start, end)
    for (_, e1), (s2, _) in itertools.pairwise(chunks):
        assert 7.4 * RATE <= e1 - s2 <= 12.6 * RATE  # about overlap_seconds


def test_int16_stereo_and_short_input() -> None:
    pcm, _ = speechlike(4, 100)
    ints = (np.stack([pcm, pcm], axis=1) * 32767).astype(np.int16)
    chunks = plan_chunks(ints, RATE, max_seconds=30, overlap_seconds=5)
    check_cover(chunks, len(ints), 30 * RATE)
    assert plan_chunks(pcm[:1000], RATE, max_seconds=30) == [(0, 1000)]
    assert plan_chunks(np.zeros(0, np.float32), RATE, max_seconds=30) == []
    with pytest.raises(ValueError):
        plan_chunks(pcm, RATE, max_seconds=0)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 200_000),
    max_seconds=st.floats(0.5, 10),
    overlap=st.floats(0, 20),
    seed=st.integers(0, 5),
)
def test_any_input_is_fully_covered(n, max_seconds, overlap, seed) -> None:
    rng = np.random.default_rng(seed)
    pcm = rng.normal(0, 0.1, n).astype(np.float32)
    pcm[rng.integers(0, n, 20)] = 0
    chunks = plan_chunks(pcm, RATE, max_seconds=max_seconds, overlap_seconds=overlap)
    check_cover(chunks, n, int(max_seconds * RATE))


def test_file_chunks_read_in_blocks_cut_where_the_whole_file_would(tmp_path) -> None:
    import soundfile as sf

    from voiceloop.audio.gating import file_chunks

    rng = np.random.default_rng(1)
    speechy = np.repeat(rng.random(1300) > 0.3, 1600)  # 100 ms on/off, 130 s
    x = (rng.normal(0, 0.1, len(speechy)) * speechy).astype(np.float32)
    sf.write(tmp_path / "long.wav", x, 16_000, subtype="PCM_16")
    whole = (np.clip(x, -1, 1) * 32767).astype(np.int16)
    planned = plan_chunks(whole, 16_000, max_seconds=30, overlap_seconds=3)
    streamed = list(file_chunks(tmp_path / "long.wav", 16_000, max_seconds=30, overlap_seconds=3))
    assert len(streamed) == len(planned)
    for (start, pcm), (a, b) in zip(streamed, planned, strict=True):
        assert abs(start - a) <= 480 and abs(start + len(pcm) - b) <= 480  # one 30 ms window
        assert len(pcm) <= 30 * 16_000
    assert streamed[0][0] == 0 and streamed[-1][0] + len(streamed[-1][1]) == len(whole)
    for (s1, p1), (s2, _) in itertools.pairwise(streamed):
        assert s1 < s2 < s1 + len(p1)  # each overlaps the next and moves on
