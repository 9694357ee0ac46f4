"""Sessions: opening one (and holding its liveness lock), ending them, dropping empty ones."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voiceloop.errors import StoreError
from voiceloop.store.liveness import hold_session_lock, release_session_lock, session_alive
from voiceloop.store.paths import os_error

_EMPTY = (
    "SELECT s.id, s.pid FROM sessions s WHERE NOT EXISTS "
    "(SELECT 1 FROM turns t WHERE t.session_id = s.id) AND NOT EXISTS "
    "(SELECT 1 FROM jobs j WHERE j.session_id = s.id)"
)


class SessionsMixin:
    """Session methods of :class:`~voiceloop.store.Store`."""

    data_dir: Path
    recordings: Path
    read_only: bool
    _clock: Callable[[], float]
    _write: Callable[..., Any]
    _read: Callable[[str, tuple[Any, ...]], list[sqlite3.Row]]
    _own_sessions: list[int]
    _session_locks: dict[int, int | None]

    def open_session(self, mode: str) -> int:
        """Start a session; returns its id.

        The session holds a lock for as long as this process runs, so that its turns
        left ``captured`` read as unfinished as soon as the process is gone.
        """

        def insert(db: sqlite3.Connection) -> int:
            cur = db.execute(
                "INSERT INTO sessions(started_at, mode, pid) VALUES (?, ?, ?)",
                (self._clock(), mode, os.getpid()),
            )
            session_id = int(cur.lastrowid or 0)
            # Locked before the row is committed: no reader ever sees it unlocked.
            self._session_locks[session_id] = hold_session_lock(self.data_dir, session_id)
            return session_id

        try:
            session_id = self._write(insert, "cannot start a session")
            # Made here so that begin_turn, on the hot path, only writes a file.
            (self.recordings / str(session_id)).mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, "cannot start a session") from exc
        self._own_sessions.append(session_id)
        return int(session_id)

    def drop_empty_sessions(self) -> int:
        """Delete sessions with no turn and no job whose process is gone; returns how many.

        A start that failed before anything was said leaves nothing in the history.
        """
        if self.read_only:
            return 0
        rows = self._read(_EMPTY, ())
        gone = [r["id"] for r in rows if not session_alive(self.data_dir, r["id"], r["pid"])]
        with contextlib.suppress(sqlite3.Error, StoreError):  # housekeeping: nothing is lost
            return self._delete_sessions(gone)
        return 0

    def _end_own_sessions(self) -> None:
        """Mark this store's sessions ended, drop the empty ones and release their locks."""
        if not self._own_sessions:
            return
        marks = ",".join("?" * len(self._own_sessions))
        with contextlib.suppress(sqlite3.Error, StoreError):
            self._write(
                lambda db: db.execute(
                    f"UPDATE sessions SET ended_at=? WHERE id IN ({marks})",
                    (self._clock(), *self._own_sessions),
                ),
                "",
            )
        with contextlib.suppress(sqlite3.Error, StoreError):
            empty = {r["id"] for r in self._read(_EMPTY, ())}
            self._delete_sessions([i for i in self._own_sessions if i in empty])
        for session_id, fd in self._session_locks.items():
            release_session_lock(self.data_dir, session_id, fd)
        self._session_locks.clear()

    def _delete_sessions(self, ids: list[int]) -> int:
        if not ids:
            return 0
        marks = ",".join("?" * len(ids))
        self._write(lambda db: db.execute(f"DELETE FROM sessions WHERE id IN ({marks})", ids), "")
        for session_id in ids:
            folder = self.recordings / str(session_id)
            with contextlib.suppress(OSError):
                if not any(folder.iterdir()):
                    shutil.rmtree(folder, ignore_errors=True)
        return len(ids)
