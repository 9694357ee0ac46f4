"""Streamed chunks resampled as one signal: no step at the joins."""

from __future__ import annotations

import numpy as np
import pytest
import soxr
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.audio.framing import StreamResampler, to_rate

TARGET = 48_000


def sine(rate: int, seconds: float = 0.6, freq: float = 440.0) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chunked(x: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    out, pos = [], 0
    for n in sizes:
        out.append(x[pos : pos + n])
        pos += n
    return [*out, x[pos:]]


def join_error(y: np.ndarray, reference: np.ndarray) -> float:
    n = min(len(y), len(reference))
    return float(np.abs(y[:n] - reference[:n]).max())


@pytest.mark.parametrize("rate", [24_000, 22_050])
def test_joins_match_resampling_the_whole_signal(rate: int) -> None:
    x = sine(rate)
    reference = soxr.resample(x, rate, TARGET, quality="HQ")
    chunks = chunked(x, [round(rate * 0.040)] * 14)
    per_chunk = np.concatenate([to_rate(c, rate, TARGET) for c in chunks])
    stream = StreamResampler(TARGET)
    streamed = np.concatenate([*(stream.feed(c, rate) for c in chunks), stream.finish()])
    assert len(streamed) == len(reference)
    # each chunk on its own: its ends are computed as if silence followed, a step of a
    # good part of the amplitude at every join; streamed: the whole signal's samples
    assert join_error(per_chunk, reference) > 0.1
    assert join_error(streamed, reference) < 1e-4


@settings(max_examples=60, deadline=None)
@given(
    rate=st.sampled_from([16_000, 22_050, 24_000, 44_100]),
    sizes=st.lists(st.integers(0, 3000), max_size=12),
)
def test_any_chunking_gives_the_same_signal(rate: int, sizes: list[int]) -> None:
    x = sine(rate, seconds=0.3)
    stream = StreamResampler(TARGET)
    expected = sum(stream.expected(len(c), rate) for c in [x])
    parts = []
    owed = 0
    for c in chunked(x, sizes):
        owed += stream.expected(len(c), rate)
        parts.append(stream.feed(c, rate))
    parts.append(stream.finish())
    y = np.concatenate(parts)
    assert owed == expected == len(y)
    assert join_error(y, soxr.resample(x, rate, TARGET, quality="HQ")) < 1e-4


def test_rate_change_and_passthrough() -> None:
    stream = StreamResampler(TARGET)
    a = stream.feed(sine(24_000, 0.1), 24_000)
    assert stream.holding and len(a) < 4800  # the end of the chunk is held back
    b = stream.feed(sine(TARGET, 0.1), TARGET)  # releases the rest, then passes through
    assert not stream.holding
    assert len(a) + len(b) == 4800 + 4800
    stream.feed(sine(22_050, 0.1), 22_050)
    stream.reset()
    assert not stream.holding and len(stream.finish()) == 0
