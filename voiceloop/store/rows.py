"""What the store hands back: plain frozen rows, decoded from SQLite."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

TurnStatus = Literal["captured", "transcribed", "answered", "interrupted", "failed", "dropped"]
TURN_STATUSES: frozenset[str] = frozenset(get_args(TurnStatus))
FINAL_STATUSES = frozenset({"transcribed", "answered", "interrupted", "dropped"})
"""A turn in one of these is done: its audio is no longer needed to recover words."""
STAGES = ("stt", "llm", "tts")


def awaiting(mode: str, status: str) -> bool:
    """Whether a turn in this state still has work to do: not yet transcribed, or a
    converse turn transcribed but not answered."""
    return status == "captured" or (mode == "converse" and status == "transcribed")


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: int
    started_at: float
    """Unix time (seconds)."""
    ended_at: float | None
    mode: str
    pid: int | None
    turn_count: int = 0


@dataclass(frozen=True, slots=True)
class TurnRow:
    id: int
    session_id: int
    mode: str
    created_at: float
    """Unix time the utterance was captured (the row was written)."""
    updated_at: float
    status: str
    error: str | None
    transcript: str | None
    reply: str | None
    """The reply as generated."""
    reply_heard: str | None
    """What the user actually heard (shorter than ``reply`` when interrupted)."""
    translation: str | None
    original: str | None
    language: str | None
    providers: dict[str, str]
    """Stage (``stt``/``llm``/``tts``) → provider name that served it."""
    models: dict[str, str]
    timings: dict[str, Any]
    usage: dict[str, Any]
    audio_path: Path | None
    """The utterance's FLAC, while it is kept."""
    local: bool
    duration: float | None
    unfinished: bool = False
    """Left half done (``captured``, or a converse turn with no answer) by a process that
    is gone: it crashed mid-turn."""

    @property
    def text(self) -> str:
        """The words of this turn that matter most in its mode."""
        if self.mode == "translate":
            return self.translation or self.transcript or ""
        return self.transcript or ""

    @property
    def in_progress(self) -> bool:
        """Still being worked on by a running voiceloop."""
        return awaiting(self.mode, self.status) and not self.unfinished

    @property
    def needs_retry(self) -> bool:
        return self.status == "failed" or self.unfinished


@dataclass(frozen=True, slots=True)
class ChunkRow:
    index: int
    start: float
    end: float
    status: str
    """``pending``, ``done`` or ``failed``."""
    text: str | None
    result: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True, slots=True)
class JobRow:
    id: int
    kind: str
    source_path: str
    source_size: int | None
    source_mtime: float | None
    params: dict[str, Any]
    session_id: int | None
    status: str
    """``running``, ``failed`` or ``done``."""
    error: str | None
    created_at: float
    updated_at: float
    chunks: tuple[ChunkRow, ...] = field(default=())

    @property
    def pending(self) -> list[int]:
        """Indices of the chunks still to transcribe (not ``done``)."""
        return [c.index for c in self.chunks if c.status != "done"]


def loads(value: str | None) -> Any:
    return json.loads(value) if value else None


def dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False, default=str)


def turn_from_row(row: sqlite3.Row, data_dir: Path, owner_alive: bool) -> TurnRow:
    providers = {s: row[f"{s}_provider"] for s in STAGES if row[f"{s}_provider"]}
    models = {s: row[f"{s}_model"] for s in STAGES if row[f"{s}_model"]}
    audio = row["audio_path"]
    return TurnRow(
        id=row["id"],
        session_id=row["session_id"],
        mode=row["mode"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        status=row["status"],
        error=row["error"],
        transcript=row["transcript"],
        reply=row["reply"],
        reply_heard=row["reply_heard"],
        translation=row["translation"],
        original=row["original"],
        language=row["language"],
        providers=providers,
        models=models,
        timings=loads(row["timings"]) or {},
        usage=loads(row["usage"]) or {},
        audio_path=data_dir / audio if audio else None,
        local=bool(row["local"]),
        duration=row["duration"],
        unfinished=awaiting(row["mode"], row["status"]) and not owner_alive,
    )


def session_from_row(row: sqlite3.Row) -> SessionRow:
    return SessionRow(
        id=row["id"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        mode=row["mode"],
        pid=row["pid"],
        turn_count=row["turn_count"],
    )
