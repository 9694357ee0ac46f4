"""Inputs beyond one request's limits, and Whisper's phantom text.

- Audio files larger than the upload limit are re-encoded as 16 kHz mono FLAC; if that is
  still too large they are split near silences into overlapping chunks, each transcribed,
  and the transcripts merged with their real time offsets.
- ``verbose_json`` segments that Whisper invented on silence are dropped.

A :class:`ChunkJournal` given to :func:`transcribe_path` hears the chunk plan and each
chunk's outcome (so they can be kept), and supplies the chunks already done by an earlier
run, which are then not sent again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from voiceloop.errors import AudioDecodeError, UsageError
from voiceloop.frames import SAMPLE_RATE, Segment, Word
from voiceloop.providers.groq import AudioInput, GroqClient, TranscriptionResult

if TYPE_CHECKING:
    import numpy as np

    from voiceloop.audio.detectors import SpeechDetector

Progress = Callable[[int, int], None]
"""``(chunks done, chunks in all)``."""

BYTES_PER_SECOND = SAMPLE_RATE * 2
"""16 kHz mono 16-bit: FLAC is always smaller, so a chunk sized by this fits."""
MAX_CHUNK_SECONDS = 600.0
OVERLAP_SECONDS = 10.0
SHORT_UTTERANCE_S = 30.0
"""Local files up to this long go to the model whole; longer ones are gated by loudness."""


class ChunkJournal(Protocol):
    """Keeps a chunked transcription's progress (e.g. in the history store)."""

    def plan(self, spans: Sequence[tuple[float, float]]) -> dict[int, TranscriptionResult]:
        """The chunk plan (seconds); returns the results of chunks already done, by index."""
        ...

    def done(self, index: int, result: TranscriptionResult) -> None:
        """Chunk ``index`` was transcribed (times in ``result`` are from the chunk's start)."""
        ...

    def failed(self, index: int, error: BaseException) -> None:
        """Chunk ``index`` failed; ``error`` is raised to the caller next."""
        ...

    def finished(self) -> None:
        """Every chunk is done."""
        ...


_SEGMENT_FIELDS = ("start", "end", "text", "avg_logprob", "no_speech_prob", "compression_ratio")


def to_segments(raw: Sequence[dict[str, Any]]) -> tuple[Segment, ...]:
    """Server segment dicts as :class:`Segment` (unknown fields dropped)."""
    out = []
    for s in raw:
        try:
            out.append(
                Segment(
                    start=float(s.get("start", 0.0)),
                    end=float(s.get("end", 0.0)),
                    text=str(s.get("text", "")),
                    avg_logprob=_opt_float(s.get("avg_logprob")),
                    no_speech_prob=_opt_float(s.get("no_speech_prob")),
                    compression_ratio=_opt_float(s.get("compression_ratio")),
                )
            )
        except (TypeError, ValueError):
            continue
    return tuple(out)


def to_words(raw: Sequence[dict[str, Any]]) -> tuple[Word, ...]:
    out = []
    for w in raw:
        try:
            out.append(Word(float(w["start"]), float(w["end"]), str(w["word"])))
        except (KeyError, TypeError, ValueError):
            continue
    return tuple(out)


def segment_dicts(segments: Sequence[Segment]) -> list[dict[str, Any]]:
    return [
        {"id": i, **{f: getattr(s, f) for f in _SEGMENT_FIELDS if getattr(s, f) is not None}}
        for i, s in enumerate(segments)
    ]


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def apply_hallucination_filter(
    result: TranscriptionResult,
    *,
    duration: float | None = None,
    speech_fraction: float | None = None,
) -> TranscriptionResult:
    """Drop phantom text, at any length: segments the model's own scores call silence or
    a loop, then the whole text when it is a known phantom phrase and the audio was mostly
    silence (``speech_fraction`` by loudness, or the model's ``no_speech_prob``).

    Long audio is filtered piece by piece before it is merged (see :func:`transcribe_path`),
    so one phantom per silent chunk cannot add up.
    """
    from voiceloop.frames import Transcript
    from voiceloop.text.hallucination import filter_segments, is_phantom

    segments = to_segments(result.segments)
    kept = tuple(filter_segments(segments)) if segments else segments
    text = "".join(s.text for s in kept).strip() if len(kept) != len(segments) else result.text
    whole = Transcript(text=text, language=result.language, duration=duration, segments=kept)
    if is_phantom(whole, speech_fraction=speech_fraction):
        text, kept = "", ()
    if text == result.text and len(kept) == len(segments):
        return result
    raw = result.raw
    if isinstance(raw, dict):
        raw = {**raw, "text": text, "segments": segment_dicts(kept)}
    words = result.words if kept else []
    return replace(result, text=text, segments=segment_dicts(kept), words=words, raw=raw)


def file_speech_fraction(path: Path) -> float | None:
    """The loud share of a file soundfile reads (streamed), else ``None``."""
    from voiceloop.audio.gating import speech_stretches

    try:
        import soundfile as sf

        total = sf.info(str(path)).duration
        if total <= 0:
            return None
        loud = sum(s.speech_fraction * len(s.pcm) / SAMPLE_RATE for s in speech_stretches(path))
    except Exception:  # a format only the server reads: the model's scores decide alone
        return None
    return min(1.0, float(loud) / float(total))


async def transcribe_path(
    client: GroqClient,
    path: str | PathLike[str],
    *,
    task: Literal["transcribe", "translate"],
    model: str,
    language: str | None = None,
    prompt: str | None = None,
    temperature: float | None = None,
    timestamp_granularities: Sequence[str] = ("segment",),
    upload_limit_bytes: int = 24 * 1024 * 1024,
    hallucination_filter: bool = True,
    on_progress: Progress | None = None,
    journal: ChunkJournal | None = None,
    voice_detector: SpeechDetector | None = None,
) -> TranscriptionResult:
    """Transcribe (or translate) a file of any size; ``verbose_json`` with segments.

    ``journal`` (used only when the file is split) keeps each chunk's result and skips
    the chunks it already holds. A split file's chunks without speech (too quiet, or no
    voice by ``voice_detector``) are not sent.
    """
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file", hint="check the path")
    size = os.path.getsize(path)
    if size <= upload_limit_bytes and _server_reads(path):
        result = await _one(client, path, task, model, language, prompt, temperature,
                            timestamp_granularities)  # fmt: skip
        if on_progress:
            on_progress(1, 1)
        if hallucination_filter:
            fraction = file_speech_fraction(path)
            result = apply_hallucination_filter(result, speech_fraction=fraction)
        return result
    return await _chunked(
        client, path, task, model, language, prompt, temperature,
        timestamp_granularities, upload_limit_bytes, on_progress, journal,
        hallucination_filter, voice_detector,
    )  # fmt: skip


_SERVER_FORMATS = {".flac", ".mp3", ".mp4", ".mpeg", ".mpga", ".m4a", ".ogg", ".wav", ".webm"}


def _server_reads(path: Path) -> bool:
    """Whether Groq accepts this file as is (else it is decoded and sent as FLAC)."""
    return path.suffix.lower() in _SERVER_FORMATS


async def _one(
    client: GroqClient,
    file: AudioInput,
    task: str,
    model: str,
    language: str | None,
    prompt: str | None,
    temperature: float | None,
    granularities: Sequence[str],
) -> TranscriptionResult:
    if task == "translate":
        return await client.translate(
            file, model=model, prompt=prompt, response_format="verbose_json",
            temperature=temperature,
        )  # fmt: skip
    return await client.transcribe(
        file, model=model, language=language, prompt=prompt, response_format="verbose_json",
        temperature=temperature, timestamp_granularities=granularities,
    )  # fmt: skip


async def _chunked(
    client: GroqClient,
    path: Path,
    task: str,
    model: str,
    language: str | None,
    prompt: str | None,
    temperature: float | None,
    granularities: Sequence[str],
    limit: int,
    on_progress: Callable[[int, int], None] | None,
    journal: ChunkJournal | None = None,
    hallucination_filter: bool = True,
    voice: SpeechDetector | None = None,
) -> TranscriptionResult:
    """The file decoded, cut into chunks under ``limit`` and sent one at a time. It is read
    twice in blocks (once to plan the chunks, for the journal; once to send them), never
    whole; in a long file, a chunk with no speech in it (loudness, then ``voice``) is not
    sent at all."""
    from voiceloop.audio.formats import encode_flac, file_duration
    from voiceloop.audio.gating import file_chunks, has_speech, speech_fraction

    duration = file_duration(path)
    max_seconds = min(MAX_CHUNK_SECONDS, 0.9 * limit / BYTES_PER_SECOND)
    overlap = min(OVERLAP_SECONDS, max_seconds / 10)

    def chunks() -> Iterator[tuple[int, np.ndarray]]:
        return file_chunks(path, SAMPLE_RATE, max_seconds=max_seconds, overlap_seconds=overlap)

    spans, silent = [], set()
    for i, (start, pcm) in enumerate(chunks()):
        spans.append((start / SAMPLE_RATE, (start + len(pcm)) / SAMPLE_RATE))
        if duration > SHORT_UTTERANCE_S and not has_speech(pcm, SAMPLE_RATE, detector=voice):
            silent.add(i)  # a short file is sent as it is, like an utterance
    if not spans:
        raise AudioDecodeError(f"{path}: contains no audio samples")
    kept = journal.plan(spans) if journal else {}
    parts: list[tuple[float, TranscriptionResult]] = []
    for i, (start, pcm) in enumerate(chunks()):
        part = kept.get(i)
        if part is None and i in silent:
            part = TranscriptionResult(text="", duration=len(pcm) / SAMPLE_RATE)
            if journal:
                journal.done(i, part)
        elif part is None:
            flac = encode_flac(pcm, SAMPLE_RATE)
            try:
                part = await _one(client, flac, task, model, language, prompt, temperature,
                                  granularities)  # fmt: skip
            except BaseException as exc:
                if journal:
                    journal.failed(i, exc)
                raise
            if journal:
                journal.done(i, part)
        if hallucination_filter and part.text:
            part = apply_hallucination_filter(
                part, speech_fraction=speech_fraction(pcm, SAMPLE_RATE)
            )
        parts.append((start / SAMPLE_RATE, part))
        if on_progress:
            on_progress(i + 1, len(spans))
    if journal:
        journal.finished()
    return merge_parts(parts, duration=duration)


def plan_spans(
    pcm: np.ndarray, rate: int, *, max_seconds: float, overlap_seconds: float
) -> list[tuple[int, int]]:
    """``[(start_sample, end_sample), ...]`` chunks cut near silences."""
    from voiceloop.audio.longaudio import plan_chunks

    return plan_chunks(pcm, rate, max_seconds=max_seconds, overlap_seconds=overlap_seconds)


def merge_parts(
    parts: Sequence[tuple[float, TranscriptionResult]], *, duration: float
) -> TranscriptionResult:
    """One transcript from chunk transcripts at their offsets (overlaps de-duplicated)."""
    from voiceloop.frames import Transcript
    from voiceloop.text.merge import merge_chunk_transcripts

    merged = merge_chunk_transcripts(
        [
            (
                offset,
                Transcript(
                    text=r.text,
                    language=r.language,
                    duration=r.duration,
                    segments=to_segments(r.segments),
                    words=to_words(r.words),
                ),
            )
            for offset, r in parts
        ]
    )
    segments = segment_dicts(merged.segments)
    words = [{"word": w.word, "start": w.start, "end": w.end} for w in merged.words]
    text = merged.text.strip()
    heard = [r for _, r in parts if r.text]
    first = heard[0] if heard else (parts[0][1] if parts else None)
    raw = {
        "task": (first.raw or {}).get("task") if first and isinstance(first.raw, dict) else None,
        "language": first.language if first else None,
        "duration": duration,
        "text": text,
        "segments": segments,
        "words": words or None,
    }
    return TranscriptionResult(
        text=text,
        language=first.language if first else None,
        duration=duration,
        segments=segments,
        words=words,
        request_id=first.request_id if first else None,
        raw={k: v for k, v in raw.items() if v is not None},
    )
