"""The history store, as the history screen reads it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from voiceloop.tui.protocols import SessionSummary, TurnRecord

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.store import Store


class StoreHistory:
    """A ``HistoryLike`` over ``voiceloop.store.Store``, opened for each read."""

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open_store = open_store

    @classmethod
    def from_settings(cls, settings: Settings) -> StoreHistory:
        def open_store() -> Store:
            from voiceloop.store import Store

            return Store.from_settings(settings, probe=False)

        return cls(open_store)

    def sessions(self, limit: int = 100) -> list[SessionSummary]:
        """The newest ``limit`` sessions that hold a turn, newest first (the empty ones of
        starts that failed are dropped from the store, as ``voiceloop history`` does)."""
        with self._open_store() as store:
            store.drop_empty_sessions()
            rows = [row for row in store.sessions() if row.turn_count]
        return [
            SessionSummary(
                id=row.id,
                started=datetime.fromtimestamp(row.started_at),
                mode=row.mode,
                turns=row.turn_count,
            )
            for row in reversed(rows[-limit:])
        ]

    def turns(self, session_id: int | str) -> list[TurnRecord]:
        with self._open_store() as store:
            rows = store.turns(session_id=int(session_id))
        records = []
        for row in rows:
            if row.translation is not None:
                user, reply = row.original or row.transcript or "", row.translation
            else:
                user, reply = row.transcript or "", row.reply_heard or row.reply or ""
            if row.status == "failed" and row.error:
                reply = reply or f"(failed: {row.error})"
            status = row.status
            if row.unfinished:  # a crash cut it short: never shown as done
                status = "unfinished"
                reply = reply or f"(unfinished: `voiceloop retry {row.id}` completes it)"
            elif row.in_progress:
                status = "in progress"
            records.append(
                TurnRecord(
                    id=row.id,
                    at=datetime.fromtimestamp(row.created_at),
                    user=user,
                    reply=reply,
                    status=status,
                )
            )
        return records
