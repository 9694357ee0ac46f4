"""``voiceloop retry --job``: finish a chunked transcription whose chunks failed or never ran.

A job's ``params`` say how it was transcribed: ``task`` (transcribe|translate), and
optionally ``provider``, ``model``, ``language``, ``prompt``. Each chunk's result is
stored as it arrives (text, plus segments and words timed from the chunk's start), so
they can be merged once none is pending. ``--job ID`` then writes the merged transcript
(to ``-o FILE`` or stdout); progress goes to stderr.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from voiceloop.session.builder import Session
    from voiceloop.store import JobRow, Store

SAMPLE_RATE = 16_000


async def retry_jobs(
    store: Store, jobs: list[JobRow], args: argparse.Namespace, session: Session
) -> int:
    """Transcribe every pending chunk of ``jobs``; returns how many jobs still failed."""
    from voiceloop.errors import VoiceloopError

    failures = 0
    for job in jobs:
        try:
            await _finish(store, job, args, session)
        except VoiceloopError as exc:
            failures += 1
            line = store.redact(exc.one_line())
            store.finish_job(job.id, status="failed", error=line)
            print(f"job {job.id}: failed — {line}", file=sys.stderr)
        else:
            print(
                f"job {job.id}: done, all {len(job.chunks)} chunks of {job.source_path}",
                file=sys.stderr,
            )
            if args.job is not None:
                write_result(store.job(job.id), args.output)
    return failures


def write_result(job: JobRow, output: str | None) -> None:
    """The job's merged transcript as text, SRT, VTT or JSON (by ``output``'s suffix)."""
    import json
    from pathlib import Path

    from voiceloop.errors import UsageError
    from voiceloop.store.jobs import merged_transcript
    from voiceloop.text.subtitles import cues_or_whole_text, to_srt, to_vtt

    merged = merged_transcript(job)
    suffix = Path(output).suffix.lower() if output and output != "-" else ""
    if suffix in (".srt", ".vtt"):
        cues, whole = cues_or_whole_text(merged.segments, merged.text)
        if whole:
            print(
                "voiceloop: the transcript has no timed segments; the subtitles hold the "
                "whole text with estimated times",
                file=sys.stderr,
            )
        text = to_srt(cues) if suffix == ".srt" else to_vtt(cues)
    elif suffix == ".json":
        segments = [{"start": s.start, "end": s.end, "text": s.text} for s in merged.segments]
        text = json.dumps(
            {"text": merged.text, "language": merged.language, "segments": segments},
            ensure_ascii=False,
            indent=2,
        )
    else:
        text = merged.text.strip() + "\n"
    if output is None or output == "-":
        sys.stdout.write(text)
        return
    try:
        Path(output or "").write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from exc
    print(f"Wrote {output}", file=sys.stderr)


async def _finish(store: Store, job: JobRow, args: argparse.Namespace, session: Session) -> None:
    from voiceloop.audio.formats import encode_flac
    from voiceloop.audio.gating import read_span
    from voiceloop.frames import Utterance
    from voiceloop.session.builder import section_for

    task = job.params.get("task", "transcribe")
    section = section_for(
        session.settings,
        "translate" if task == "translate" else "stt",
        provider=args.provider or job.params.get("provider"),
        model=args.model or job.params.get("model"),
        extra={k: job.params[k] for k in ("language", "prompt") if k in job.params},
    )
    pending = job.pending
    if not pending:
        store.finish_job(job.id)
        return
    transcriber = session.create("transcriber", section)
    for chunk in (c for c in job.chunks if c.index in pending):
        piece = read_span(job.source_path, SAMPLE_RATE, chunk.start, chunk.end)
        utterance = Utterance(
            pcm=piece,
            start=chunk.start,
            end=chunk.start + len(piece) / SAMPLE_RATE,
            speech_fraction=1.0,
            flac=encode_flac(piece, SAMPLE_RATE),
        )
        try:
            transcript = await transcriber.transcribe(utterance, task=task)
        except Exception as exc:
            store.update_chunk(job.id, chunk.index, status="failed", error=_line(exc))
            raise
        store.update_chunk(
            job.id,
            chunk.index,
            status="done",
            text=transcript.text,
            result={
                "language": transcript.language,
                "segments": [
                    {"start": s.start, "end": s.end, "text": s.text} for s in transcript.segments
                ],
                "words": [
                    {"start": w.start, "end": w.end, "word": w.word} for w in transcript.words
                ],
                "provider": transcript.provider,
                "model": transcript.model,
            },
        )
        print(f"job {job.id}: chunk {chunk.index + 1}/{len(job.chunks)} done", file=sys.stderr)
    store.finish_job(job.id)


def _line(exc: BaseException) -> str:
    one_line = getattr(exc, "one_line", None)
    return one_line() if callable(one_line) else f"{type(exc).__name__}: {exc}"
