"""Long transcriptions done in chunks, kept chunk by chunk so a failure loses nothing.

A job is a source file, its chunk plan (start/end seconds) and each chunk's status and
result. Whoever transcribes the file records each chunk as it finishes; a failed or
interrupted job is found again by its source and resumed with :attr:`JobRow.pending`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from voiceloop.store.paths import not_found
from voiceloop.store.redact import one_line_error
from voiceloop.store.rows import ChunkRow, JobRow, dumps, loads

if TYPE_CHECKING:
    from voiceloop.frames import Transcript


def merged_transcript(job: JobRow) -> Transcript:
    """The finished chunks as one transcript: times from the file's start, seams de-duplicated.

    Each chunk's ``result`` may hold ``segments`` and ``words`` (dicts with ``start``,
    ``end`` and ``text``/``word``, timed from the chunk's start) and ``language``.
    """
    from voiceloop.frames import Segment, Transcript, Word
    from voiceloop.text.merge import merge_chunk_transcripts

    parts = []
    for chunk in job.chunks:
        if chunk.status != "done":
            continue
        result = chunk.result or {}
        segments = tuple(
            Segment(float(s["start"]), float(s["end"]), str(s.get("text", "")))
            for s in result.get("segments") or ()
        )
        words = tuple(
            Word(float(w["start"]), float(w["end"]), str(w.get("word", "")))
            for w in result.get("words") or ()
        )
        parts.append(
            (
                chunk.start,
                Transcript(
                    text=chunk.text or "",
                    language=result.get("language"),
                    segments=segments,
                    words=words,
                ),
            )
        )
    return merge_chunk_transcripts(parts)


_T = TypeVar("_T")


class JobsMixin:
    """Job methods of :class:`~voiceloop.store.Store`."""

    _clock: Callable[[], float]
    _secrets: tuple[str, ...]
    if TYPE_CHECKING:

        def _write(self, action: Callable[[sqlite3.Connection], _T], what: str) -> _T: ...

    _read: Callable[[str, tuple[Any, ...]], list[sqlite3.Row]]

    def create_job(
        self,
        source_path: str | Path,
        plan: Sequence[tuple[float, float]],
        *,
        kind: str = "transcribe",
        params: dict[str, Any] | None = None,
        session_id: int | None = None,
    ) -> int:
        """Record a chunked job before its first request; returns the job id.

        ``params`` holds what must match to resume it (model, language, task, ...).
        """
        source = Path(source_path).resolve()
        size: int | None
        mtime: float | None
        try:
            stat = source.stat()
            size, mtime = stat.st_size, stat.st_mtime
        except OSError:
            size, mtime = None, None
        now = self._clock()

        def insert(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "INSERT INTO jobs(kind, source_path, source_size, source_mtime, params,"
                " session_id, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?)",
                (kind, str(source), size, mtime, dumps(params or {}), session_id, now, now),
            )
            job_id = int(cur.lastrowid or 0)
            db.executemany(
                "INSERT INTO job_chunks(job_id, idx, start, end) VALUES (?, ?, ?, ?)",
                [(job_id, i, float(a), float(b)) for i, (a, b) in enumerate(plan)],
            )
            return job_id

        return self._write(insert, "cannot record the job")

    def update_chunk(
        self,
        job_id: int,
        index: int,
        *,
        status: str,
        text: str | None = None,
        result: dict[str, Any] | None = None,
        error: object = None,
    ) -> None:
        """Record one chunk's outcome (``done`` with its text/segments, or ``failed``)."""
        if status not in ("pending", "done", "failed"):
            raise ValueError(f"unknown chunk status {status!r}")

        def update(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE job_chunks SET status=?, text=?, result=?, error=?"
                " WHERE job_id=? AND idx=?",
                (status, text, dumps(result), one_line_error(error, self._secrets), job_id, index),
            )
            db.execute("UPDATE jobs SET updated_at=? WHERE id=?", (self._clock(), job_id))

        self._write(update, "cannot record the chunk")

    def finish_job(self, job_id: int, *, status: str = "done", error: object = None) -> None:
        """Mark a job ``done`` or ``failed`` (its chunks keep whatever they have)."""
        if status not in ("running", "done", "failed"):
            raise ValueError(f"unknown job status {status!r}")
        self._write(
            lambda db: db.execute(
                "UPDATE jobs SET status=?, error=?, updated_at=? WHERE id=?",
                (status, one_line_error(error, self._secrets), self._clock(), job_id),
            ),
            "cannot record the job",
        )

    def job(self, job_id: int) -> JobRow:
        """One job with its chunks."""
        found = self._jobs("WHERE id=?", (job_id,))
        if not found:
            raise not_found("job", job_id)
        return found[0]

    def jobs(self, *, unfinished: bool = False) -> list[JobRow]:
        """All jobs (or those not ``done``), oldest first."""
        return self._jobs("WHERE status != 'done'" if unfinished else "", ())

    def find_job(
        self,
        source_path: str | Path,
        *,
        kind: str = "transcribe",
        params: dict[str, Any] | None = None,
    ) -> JobRow | None:
        """The latest unfinished job for this unchanged source (and these params), if any."""
        source = Path(source_path).resolve()
        try:
            stat = source.stat()
        except OSError:
            return None
        for job in reversed(
            self._jobs("WHERE source_path=? AND kind=? AND status != 'done'", (str(source), kind))
        ):
            same_file = job.source_size == stat.st_size and job.source_mtime == stat.st_mtime
            if same_file and (params is None or job.params == params):
                return job
        return None

    def _jobs(self, clause: str, params: tuple[Any, ...]) -> list[JobRow]:
        jobs = self._read(f"SELECT * FROM jobs {clause} ORDER BY id", params)
        result = []
        for row in jobs:
            chunks = self._read(
                "SELECT * FROM job_chunks WHERE job_id=? ORDER BY idx", (row["id"],)
            )
            result.append(
                JobRow(
                    id=row["id"],
                    kind=row["kind"],
                    source_path=row["source_path"],
                    source_size=row["source_size"],
                    source_mtime=row["source_mtime"],
                    params=loads(row["params"]) or {},
                    session_id=row["session_id"],
                    status=row["status"],
                    error=row["error"],
                    created_at=row["created_at"],
                    updated_at=row["updated_at"],
                    chunks=tuple(
                        ChunkRow(
                            index=c["idx"],
                            start=c["start"],
                            end=c["end"],
                            status=c["status"],
                            text=c["text"],
                            result=loads(c["result"]),
                            error=c["error"],
                        )
                        for c in chunks
                    ),
                )
            )
        return result
