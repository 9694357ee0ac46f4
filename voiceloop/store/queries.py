"""Reading the history: sessions and turns, filtered and searched."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from voiceloop.store.liveness import session_alive
from voiceloop.store.paths import not_found
from voiceloop.store.rows import (
    SessionRow,
    TurnRow,
    session_from_row,
    turn_from_row,
)

_SEARCHED = ("transcript", "reply", "reply_heard", "translation", "original", "error")


class QueriesMixin:
    """Read methods of :class:`~voiceloop.store.Store`."""

    data_dir: Path
    _read: Callable[[str, tuple[Any, ...]], list[sqlite3.Row]]

    def sessions(self) -> list[SessionRow]:
        """All sessions, oldest first, with their turn counts."""
        rows = self._read(
            "SELECT s.*, (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS turn_count"
            " FROM sessions s ORDER BY s.id",
            (),
        )
        return [session_from_row(r) for r in rows]

    def session(self, session_id: int) -> SessionRow:
        """One session; :class:`StoreError` (exit 2) if there is no such session."""
        rows = self._read(
            "SELECT s.*, (SELECT COUNT(*) FROM turns t WHERE t.session_id = s.id) AS turn_count"
            " FROM sessions s WHERE s.id=?",
            (session_id,),
        )
        if not rows:
            raise not_found("session", session_id)
        return session_from_row(rows[0])

    def turn(self, turn_id: int) -> TurnRow:
        """One turn; :class:`StoreError` (exit 2) if there is no such turn."""
        found = self._turns("WHERE t.id=?", (turn_id,))
        if not found:
            raise not_found("turn", turn_id)
        return found[0]

    def turns(
        self,
        *,
        session_id: int | None = None,
        search: str | None = None,
        failed: bool = False,
        unfinished: bool = False,
    ) -> list[TurnRow]:
        """Turns in order, filtered. ``failed`` and ``unfinished`` together mean either."""
        where: list[str] = []
        params: list[Any] = []
        if session_id is not None:
            where.append("t.session_id=?")
            params.append(session_id)
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern += "%"
            where.append("(" + " OR ".join(f"t.{c} LIKE ? ESCAPE '\\'" for c in _SEARCHED) + ")")
            params.extend([pattern] * len(_SEARCHED))
        statuses = (["failed"] if failed else []) + (
            ["captured", "transcribed"] if unfinished else []
        )
        if statuses:
            where.append(f"t.status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        rows = self._turns(clause, tuple(params))
        if unfinished and not failed:
            return [r for r in rows if r.unfinished]
        if unfinished and failed:
            return [r for r in rows if r.status == "failed" or r.unfinished]
        return rows

    def _turns(self, clause: str, params: tuple[Any, ...]) -> list[TurnRow]:
        rows = self._read(
            f"SELECT t.*, s.pid AS owner_pid FROM turns t JOIN sessions s ON s.id = t.session_id"
            f" {clause} ORDER BY t.id",
            params,
        )
        alive: dict[int, bool] = {}
        result = []
        for row in rows:
            session = row["session_id"]
            if session not in alive:
                alive[session] = session_alive(self.data_dir, session, row["owner_pid"])
            result.append(turn_from_row(row, self.data_dir, alive[session]))
        return result
