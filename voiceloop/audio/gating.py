"""Long files read in blocks and gated by loudness: only stretches that may hold speech go on.

A transcriber never sees long silence (where Whisper invents "Thank you." or "you"), and
memory stays bounded by the longest stretch, whatever the file's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike

import numpy as np
import soundfile as sf

from voiceloop.audio.formats import resample, to_int16, to_mono

SPEECH_DB = -50.0
"""A 30 ms window louder than this (dBFS) may be speech: the energy detector's floor."""
WINDOW_SECONDS = 0.03
BLOCK_SECONDS = 1.0
MIN_SPEECH_WINDOWS = 3
"""A block needs this many loud windows (about 90 ms) to count: a click is not speech."""


def loud_windows(pcm: np.ndarray, rate: int, *, min_db: float = SPEECH_DB) -> np.ndarray:
    """A boolean per 30 ms window of int16 ``pcm``: louder than ``min_db``."""
    window = max(1, int(WINDOW_SECONDS * rate))
    usable = len(pcm) - len(pcm) % window
    if usable == 0:
        return np.zeros(0, dtype=bool)
    frames = pcm[:usable].astype(np.float32).reshape(-1, window) / 32768.0
    rms = np.sqrt(np.mean(frames * frames, axis=1))
    result: np.ndarray = rms > 10 ** (min_db / 20)
    return result


def speech_fraction(pcm: np.ndarray, rate: int, *, min_db: float = SPEECH_DB) -> float:
    """The share of 30 ms windows of int16 ``pcm`` loud enough to be speech (0 for none)."""
    loud = loud_windows(pcm, rate, min_db=min_db)
    return float(loud.mean()) if len(loud) else 0.0


@dataclass(frozen=True, slots=True)
class Stretch:
    """A run of audio that may hold speech, at its offset in the file."""

    offset: float
    pcm: np.ndarray
    speech_fraction: float


def speech_stretches(
    path: str | PathLike[str],
    *,
    rate: int = 16_000,
    max_seconds: float = 60.0,
    pad_blocks: int = 1,
    gap_blocks: int = 2,
) -> Iterator[Stretch]:
    """Stretches of ``path`` (mono int16 at ``rate``) with speech-loud blocks in them.

    The file is read one second at a time. Loud blocks, with ``pad_blocks`` of context on
    each side, make up a stretch; it ends after ``gap_blocks`` quiet blocks or at
    ``max_seconds``. Silent blocks are dropped, so only a stretch is ever in memory.
    """
    with sf.SoundFile(str(path)) as f:
        native = int(f.samplerate)
        block_frames = max(1, int(BLOCK_SECONDS * native))
        held: list[np.ndarray] = []  # the stretch being built
        held_loud = 0
        quiet_run = 0
        start_block = 0
        before: list[np.ndarray] = []  # quiet blocks kept as lead-in context
        max_blocks = max(1, int(max_seconds / BLOCK_SECONDS))
        for index, raw in enumerate(
            f.blocks(blocksize=block_frames, dtype="float32", always_2d=False)
        ):
            block = to_int16(resample(to_mono(raw), native, rate))
            loud = int(loud_windows(block, rate).sum()) >= MIN_SPEECH_WINDOWS
            if held:
                held.append(block)
                quiet_run = 0 if loud else quiet_run + 1
                held_loud += int(loud)
                if quiet_run > gap_blocks or len(held) >= max_blocks:
                    yield _stretch(held, start_block, rate)
                    held, held_loud, quiet_run = [], 0, 0
                    before = []
            elif loud:
                start_block = index - len(before)
                held = [*before, block]
                held_loud, quiet_run = 1, 0
                before = []
            else:
                before = [*before, block][-pad_blocks:] if pad_blocks else []
        if held and held_loud:
            yield _stretch(held, start_block, rate)


def _stretch(blocks: list[np.ndarray], start_block: int, rate: int) -> Stretch:
    pcm = np.concatenate(blocks)
    return Stretch(
        offset=start_block * BLOCK_SECONDS,
        pcm=pcm,
        speech_fraction=speech_fraction(pcm, rate),
    )
