"""Plan how to cut a recording that is too long for one transcription request.

Chunks overlap (so a word cut at one seam is whole in the neighbour) and end at the
quietest moment near their maximum length (so few words are cut at all). The overlaps
are de-duplicated afterwards by :func:`voiceloop.text.merge.merge_chunk_transcripts`.
"""

from __future__ import annotations

import numpy as np

from voiceloop.audio.formats import to_mono

__all__ = ["plan_chunks"]

_WINDOW_SECONDS = 0.03
_SEARCH_FRACTION = 0.25
"""The cut is looked for in the last quarter of each chunk's maximum length."""


def _window_rms(pcm: np.ndarray, window: int, block: int = 4096) -> np.ndarray:
    """RMS of consecutive ``window``-sample windows, a block of windows at a time (an hour
    of audio in float64 at once would take hundreds of megabytes)."""
    count = len(pcm) // window
    windows = pcm[: count * window].reshape(count, window)
    rms = np.empty(count, dtype=np.float32)
    for first in range(0, count, block):
        x = windows[first : first + block].astype(np.float32)
        rms[first : first + block] = np.sqrt(np.mean(x * x, axis=1))
    return rms


def _quietest(rms: np.ndarray, lo: int, hi: int, window: int) -> int | None:
    """Sample position in the middle of the quietest stretch of windows fully inside
    samples [lo, hi); None when no whole window fits."""
    first = -(-lo // window)
    last = min(hi // window, len(rms))  # exclusive
    if last <= first:
        return None
    region = rms[first:last]
    k = int(np.argmin(region))
    floor = region[k] * 1.25 + 1e-9
    left, right = k, k
    while left > 0 and region[left - 1] <= floor:
        left -= 1
    while right + 1 < len(region) and region[right + 1] <= floor:
        right += 1
    centre = (first + left) * window + ((right - left + 1) * window) // 2
    return min(max(centre, lo), hi)


def plan_chunks(
    pcm: np.ndarray, rate: int, *, max_seconds: float, overlap_seconds: float = 10.0
) -> list[tuple[int, int]]:
    """Sample ranges ``[start, end)`` covering all of ``pcm``, each at most ``max_seconds``.

    Each chunk but the last ends at the quietest point (30 ms RMS) in the last quarter of
    its maximum length; the next starts about ``overlap_seconds`` earlier, at the quietest
    point within a quarter of the overlap from there. The overlap is capped at a third of
    ``max_seconds`` so every chunk moves forward.
    """
    if max_seconds <= 0 or rate <= 0:
        raise ValueError("max_seconds and rate must be positive")
    pcm = to_mono(np.asarray(pcm))
    n = len(pcm)
    max_len = max(1, int(max_seconds * rate))
    if n == 0:
        return []
    if n <= max_len:
        return [(0, n)]
    overlap = max(0, min(int(overlap_seconds * rate), max_len // 3))
    window = max(1, int(_WINDOW_SECONDS * rate))
    rms = _window_rms(pcm, window)
    chunks: list[tuple[int, int]] = []
    start = 0
    while n - start > max_len:
        hi = start + max_len
        lo = hi - max(window, int(max_len * _SEARCH_FRACTION))
        quiet = _quietest(rms, max(lo, start + overlap + 1), hi, window)
        end = hi if quiet is None else quiet
        chunks.append((start, end))
        slack = overlap // 4
        target = end - overlap
        nxt = _quietest(rms, target - slack, target + slack, window) if slack else None
        nxt = target if nxt is None else nxt
        start = min(max(nxt, start + 1), end)
    chunks.append((start, n))
    return chunks
