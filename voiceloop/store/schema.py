"""The database schema, as an ordered list of migrations.

``PRAGMA user_version`` holds the number of migrations applied. A migration is only
ever appended, never edited: databases in the wild are at every version in between.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from voiceloop.errors import StoreError


def _v1_sessions_and_turns(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            started_at REAL NOT NULL,
            ended_at REAL,
            mode TEXT NOT NULL,
            pid INTEGER
        )"""
    )
    db.execute(
        """CREATE TABLE turns (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            mode TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            status TEXT NOT NULL DEFAULT 'captured',
            error TEXT,
            transcript TEXT,
            reply TEXT,
            reply_heard TEXT,
            translation TEXT,
            original TEXT,
            language TEXT,
            stt_provider TEXT, stt_model TEXT,
            llm_provider TEXT, llm_model TEXT,
            tts_provider TEXT, tts_model TEXT,
            timings TEXT,
            usage TEXT,
            audio_path TEXT,
            local INTEGER NOT NULL DEFAULT 0,
            duration REAL
        )"""
    )
    db.execute("CREATE INDEX turns_session ON turns(session_id, id)")


def _v2_jobs(db: sqlite3.Connection) -> None:
    """Long transcriptions done in chunks: each chunk's result is kept as it arrives."""
    db.execute(
        """CREATE TABLE jobs (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            source_path TEXT NOT NULL,
            source_size INTEGER,
            source_mtime REAL,
            params TEXT,
            session_id INTEGER REFERENCES sessions(id) ON DELETE CASCADE,
            status TEXT NOT NULL DEFAULT 'running',
            error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE job_chunks (
            job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            start REAL NOT NULL,
            end REAL NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending',
            text TEXT,
            result TEXT,
            error TEXT,
            PRIMARY KEY (job_id, idx)
        )"""
    )
    db.execute("CREATE INDEX jobs_source ON jobs(source_path, status)")


def _v3_turn_status_index(db: sqlite3.Connection) -> None:
    """``history --failed`` / ``--unfinished`` and ``retry --all-failed`` filter on status."""
    db.execute("CREATE INDEX turns_status ON turns(status)")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _v1_sessions_and_turns,
    _v2_jobs,
    _v3_turn_status_index,
]
SCHEMA_VERSION = len(MIGRATIONS)


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """An immediate (write-locking) transaction on an autocommit connection."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.in_transaction:  # SQLite may already have rolled back (e.g. disk full)
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def schema_version(db: sqlite3.Connection) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite3.Connection, *, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations the database lacks, each in its own transaction.

    Returns the version reached. A database newer than this code is refused, not touched.
    """
    version = schema_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the history database is from a newer voiceloop (schema {version}, "
            f"this one knows {SCHEMA_VERSION})",
            hint="upgrade voiceloop, or set VOICELOOP_DATA_DIR to another folder",
        )
    for number in range(version + 1, target + 1):
        with transaction(db):  # one per step: a crash leaves a consistent version behind
            MIGRATIONS[number - 1](db)
            db.execute(f"PRAGMA user_version = {number}")
    return max(version, target)
