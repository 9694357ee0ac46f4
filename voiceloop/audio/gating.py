"""Long files read in blocks and gated: only stretches that hold speech go on.

Loudness finds the stretches that may hold speech, cheaply; the voice detector
(:func:`has_speech`) then looks into those for a voice, so room noise, hum or music
without words is skipped too. A transcriber never sees long silence (where Whisper invents
"Thank you." or "you"), and memory stays bounded by the longest stretch, whatever the
file's length. Blocks are resampled as one stream: no step at their joins.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from os import PathLike

import numpy as np
import soundfile as sf

from voiceloop.audio.detectors import SpeechDetector
from voiceloop.audio.formats import to_int16, to_mono
from voiceloop.audio.framing import StreamResampler

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


VOICE_FRAMES = 3
"""Consecutive 32 ms frames the voice detector must call speech (about 100 ms)."""


def has_speech(
    pcm: np.ndarray, rate: int = 16_000, *, detector: SpeechDetector | None = None
) -> bool:
    """Whether int16 ``pcm`` (16 kHz) may hold speech: loud enough, and, with a voice
    ``detector`` (Silero), a voice in the loud parts (it stops at the first it hears)."""
    loud = loud_windows(pcm, rate)
    if int(loud.sum()) < MIN_SPEECH_WINDOWS:
        return False
    if detector is None:
        return True
    detector.reset()
    window = max(1, int(WINDOW_SECONDS * rate))
    frame = 512
    run = 0
    for i in range(0, len(pcm) - frame + 1, frame):
        if not loud[i // window : (i + frame - 1) // window + 1].any():
            run = 0
            continue
        run = run + 1 if detector.probability(pcm[i : i + frame]) >= 0.5 else 0
        if run >= VOICE_FRAMES:
            return True
    return False


def blocks_at(
    path: str | PathLike[str], rate: int, seconds: float = BLOCK_SECONDS
) -> Iterator[np.ndarray]:
    """``path`` read in blocks of about ``seconds``, as mono int16 at ``rate``."""
    with sf.SoundFile(str(path)) as f:
        native = int(f.samplerate)
        resampler = StreamResampler(rate) if native != rate else None
        for raw in f.blocks(
            blocksize=max(1, int(seconds * native)), dtype="float32", always_2d=False
        ):
            mono = to_mono(raw)
            yield to_int16(resampler.feed(mono, native) if resampler else mono)
        if resampler is not None and resampler.holding:
            tail = resampler.finish()
            if len(tail):
                yield to_int16(tail)


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
    held: list[np.ndarray] = []  # the stretch being built
    held_loud = 0
    quiet_run = 0
    start = 0.0
    at = 0.0  # where the next block starts (s)
    before: list[np.ndarray] = []  # quiet blocks kept as lead-in context
    max_blocks = max(1, int(max_seconds / BLOCK_SECONDS))
    for block in blocks_at(path, rate):
        loud = int(loud_windows(block, rate).sum()) >= MIN_SPEECH_WINDOWS
        if held:
            held.append(block)
            quiet_run = 0 if loud else quiet_run + 1
            held_loud += int(loud)
            if quiet_run > gap_blocks or len(held) >= max_blocks:
                yield _stretch(held, start, rate)
                held, held_loud, quiet_run = [], 0, 0
                before = []
        elif loud:
            start = at - sum(len(b) for b in before) / rate
            held = [*before, block]
            held_loud, quiet_run = 1, 0
            before = []
        else:
            before = [*before, block][-pad_blocks:] if pad_blocks else []
        at += len(block) / rate
    if held and held_loud:
        yield _stretch(held, start, rate)


def _stretch(blocks: list[np.ndarray], start: float, rate: int) -> Stretch:
    pcm = np.concatenate(blocks)
    return Stretch(
        offset=start,
        pcm=pcm,
        speech_fraction=speech_fraction(pcm, rate),
    )


def file_chunks(
    path: str | PathLike[str], rate: int, *, max_seconds: float, overlap_seconds: float
) -> Iterator[tuple[int, np.ndarray]]:
    """``(first sample, int16 pcm)`` of each chunk of ``path`` at ``rate``, cut near
    silences as :func:`~voiceloop.audio.longaudio.plan_chunks` cuts them, overlapping by
    about ``overlap_seconds``. The file is read in blocks: about one chunk and a block are
    in memory at a time, whatever its length. The same file gives the same chunks."""
    from voiceloop.audio.longaudio import plan_chunks

    max_len = max(1, int(max_seconds * rate))
    held: list[np.ndarray] = []
    held_len = 0
    offset = 0  # the file's sample index of held[0][0]
    for block in blocks_at(path, rate, seconds=10.0):
        held.append(block)
        held_len += len(block)
        if held_len <= max_len:
            continue
        pcm = np.concatenate(held)
        spans = plan_chunks(pcm, rate, max_seconds=max_seconds, overlap_seconds=overlap_seconds)
        # All but the last are final: each was cut within its own maximum length, and the
        # last one's start is fixed by the chunk before it; its end waits for more audio.
        for start, end in spans[:-1]:
            yield offset + start, pcm[start:end]
        keep = spans[-1][0]
        held, held_len, offset = [pcm[keep:]], len(pcm) - keep, offset + keep
    if held_len:
        pcm = np.concatenate(held)
        spans = plan_chunks(pcm, rate, max_seconds=max_seconds, overlap_seconds=overlap_seconds)
        for start, end in spans:
            yield offset + start, pcm[start:end]


def read_span(path: str | PathLike[str], rate: int, start: float, end: float) -> np.ndarray:
    """Seconds ``start`` to ``end`` of ``path``, as mono int16 at ``rate`` (only that part
    is read)."""
    from voiceloop.audio.formats import resample

    with sf.SoundFile(str(path)) as f:
        native = int(f.samplerate)
        first = max(0, round(start * native))
        f.seek(min(first, f.frames))
        raw = f.read(max(0, round(end * native) - first), dtype="float32", always_2d=False)
    return to_int16(resample(to_mono(raw), native, rate))
