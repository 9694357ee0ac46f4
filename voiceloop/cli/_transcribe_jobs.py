"""``voiceloop transcribe`` of a long file keeps its chunks in the history store as a job.

The chunk plan is recorded before the first upload and each chunk's result as it arrives,
so a failure or a kill loses nothing: running the same command again on the unchanged file
sends only the chunks not yet done, and ``voiceloop retry --job N`` finishes it too.
Results are stored the way :mod:`voiceloop.cli._retry_jobs` stores them (text, plus
``segments`` and ``words`` timed from the chunk's start).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.providers.groq import TranscriptionResult
    from voiceloop.store import Store

log = logging.getLogger(__name__)

_PLAN_TOLERANCE_S = 0.01


class StoreJournal:
    """A :class:`~voiceloop.providers.longform.ChunkJournal` backed by the history store.

    The store is opened only when the file is really split (small files never touch it);
    with ``[store] enabled = false``, or a store that cannot be opened (one warning line),
    the transcription runs without it.
    """

    def __init__(self, settings: Settings, source: Path, params: dict[str, Any]) -> None:
        self._settings = settings
        self._source = source
        self._params = {k: v for k, v in params.items() if v is not None}
        self._store: Store | None = None
        self._job_id: int | None = None
        self._total = 0
        self._done = 0

    def __enter__(self) -> StoreJournal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    # -- ChunkJournal --------------------------------------------------------------------

    def plan(self, spans: Sequence[tuple[float, float]]) -> dict[int, TranscriptionResult]:
        store = self._open()
        if store is None:
            return {}
        self._total = len(spans)
        job = store.find_job(self._source, params=self._params)
        if job is not None and _same_plan([(c.start, c.end) for c in job.chunks], spans):
            self._job_id = job.id
            store.finish_job(job.id, status="running")
            kept = {c.index: _result(c.text, c.result) for c in job.chunks if c.status == "done"}
            self._done = len(kept)
            if kept:
                print(
                    f"{self._source.name}: resuming job {job.id}, "
                    f"{len(kept)} of {len(spans)} chunks already done",
                    file=sys.stderr,
                )
            return kept
        self._job_id = store.create_job(self._source, list(spans), params=self._params)
        return {}

    def done(self, index: int, result: TranscriptionResult) -> None:
        from voiceloop.providers.longform import segment_dicts, to_segments

        self._done += 1
        stored = {
            "language": result.language,
            "segments": segment_dicts(to_segments(result.segments)),
            "words": list(result.words or ()),
            "provider": self._params.get("provider"),
            "model": self._params.get("model"),
        }
        self._call(
            lambda store, job: store.update_chunk(
                job, index, status="done", text=result.text, result=stored
            )
        )

    def failed(self, index: int, error: BaseException) -> None:
        if self._job_id is None or self._store is None:
            return
        line = _line(error)
        self._call(lambda store, job: store.update_chunk(job, index, status="failed", error=line))
        self._call(
            lambda store, job: store.finish_job(
                job, status="failed", error=f"chunk {index + 1} failed: {line}"
            )
        )
        print(
            f"{self._source.name}: chunk {index + 1}/{self._total} failed; "
            f"{self._done} done are kept — `voiceloop retry --job {self._job_id}` finishes it",
            file=sys.stderr,
        )

    def finished(self) -> None:
        self._call(lambda store, job: store.finish_job(job, status="done"))

    # -- helpers -------------------------------------------------------------------------

    def _open(self) -> Store | None:
        if not getattr(self._settings.store, "enabled", True):
            return None
        from voiceloop.errors import StoreError
        from voiceloop.store import Store

        try:
            self._store = Store.from_settings(self._settings)
        except StoreError as exc:
            print(f"voiceloop: warning: chunks are not kept ({exc.one_line()})", file=sys.stderr)
            return None
        return self._store

    def _call(self, write: Callable[[Store, int], object]) -> None:
        """A store write about this job; a failing store must not fail a transcription
        that is going well."""
        if self._store is None or self._job_id is None:
            return
        from voiceloop.errors import StoreError

        try:
            write(self._store, self._job_id)
        except StoreError as exc:
            log.warning("cannot record job %s: %s", self._job_id, exc.one_line())


def _same_plan(old: Sequence[tuple[float, float]], new: Sequence[tuple[float, float]]) -> bool:
    return len(old) == len(new) and all(
        abs(a - c) <= _PLAN_TOLERANCE_S and abs(b - d) <= _PLAN_TOLERANCE_S
        for (a, b), (c, d) in zip(old, new, strict=True)
    )


def _result(text: str | None, stored: dict[str, Any] | None) -> TranscriptionResult:
    from voiceloop.providers.groq import TranscriptionResult

    stored = stored or {}
    return TranscriptionResult(
        text=text or "",
        language=stored.get("language"),
        segments=list(stored.get("segments") or ()),
        words=list(stored.get("words") or ()),
    )


def _line(exc: BaseException) -> str:
    one_line = getattr(exc, "one_line", None)
    if callable(one_line):
        return str(one_line())
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    return f"{type(exc).__name__}: {exc}"
