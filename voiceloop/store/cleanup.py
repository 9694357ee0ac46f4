"""Forgetting (text and audio) and the audio retention policy."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voiceloop.store.paths import os_error
from voiceloop.store.rows import FINAL_STATUSES, SessionRow, TurnRow


class CleanupMixin:
    """Forget and retention methods of :class:`~voiceloop.store.Store`."""

    data_dir: Path
    recordings: Path
    keep_audio: str
    keep_days: int
    _clock: Callable[[], float]
    _write: Callable[..., Any]
    _pragma: Callable[[str], None]
    _read: Callable[[str, tuple[Any, ...]], list[sqlite3.Row]]
    session: Callable[[int], SessionRow]
    turns: Callable[..., list[TurnRow]]

    def forget_session(self, session_id: int) -> int:
        """Delete a session's text and recordings. Returns the number of turns deleted."""
        self.session(session_id)  # a clear error for an unknown id
        turns = self.turns(session_id=session_id)
        self._write(lambda db: db.execute("DELETE FROM sessions WHERE id=?", (session_id,)), "")
        self._delete_files([t.audio_path for t in turns])
        shutil.rmtree(self.recordings / str(session_id), ignore_errors=True)
        self._scrub()
        return len(turns)

    def forget_all(self) -> int:
        """Delete every session, turn, job and recording. Returns the number of turns deleted."""
        count = len(self.turns())

        def wipe(db: sqlite3.Connection) -> None:
            for table in ("job_chunks", "jobs", "turns", "sessions"):
                db.execute(f"DELETE FROM {table}")

        self._write(wipe, "cannot forget the history")
        for child in self.recordings.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    child.unlink()
        self._scrub()
        return count

    def apply_retention(self) -> int:
        """Delete recordings the ``keep_audio`` policy no longer keeps; returns how many.

        Text is always kept. The audio of failed and unfinished turns is kept whatever the
        policy: it is the only copy of those words until ``retry`` succeeds.
        """
        if self.keep_audio == "forever":
            return 0
        finals = ",".join(f"'{s}'" for s in sorted(FINAL_STATUSES))
        sql = f"SELECT id FROM turns WHERE audio_path IS NOT NULL AND status IN ({finals})"
        params: tuple[Any, ...] = ()
        if self.keep_audio == "days":
            sql += " AND created_at < ?"
            params = (self._clock() - self.keep_days * 86400.0,)
        ids = [row["id"] for row in self._read(sql, params)]
        return self._drop_audio_of(ids)

    def _drop_audio_of(self, turn_ids: list[int]) -> int:
        if not turn_ids:
            return 0
        marks = ",".join("?" * len(turn_ids))
        rows = self._read(f"SELECT audio_path FROM turns WHERE id IN ({marks})", tuple(turn_ids))
        self._delete_files([self.data_dir / r["audio_path"] for r in rows if r["audio_path"]])
        self._write(
            lambda db: db.execute(
                f"UPDATE turns SET audio_path=NULL WHERE id IN ({marks})", tuple(turn_ids)
            ),
            "cannot update the history",
        )
        return sum(1 for r in rows if r["audio_path"])

    def _delete_files(self, paths: list[Path | None]) -> None:
        for path in paths:
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    try:
                        path.unlink()
                    except OSError as exc:
                        raise os_error(exc, f"cannot delete {path}") from exc

    def _scrub(self) -> None:
        """Fold the WAL into the database so deleted text does not linger in the log."""
        self._pragma("wal_checkpoint(TRUNCATE)")
