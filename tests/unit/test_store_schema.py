"""Schema versions and migrations."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from voiceloop.errors import StoreError
from voiceloop.store import SCHEMA_VERSION, Store
from voiceloop.store.schema import MIGRATIONS, migrate, schema_version


def test_new_database_is_at_the_latest_version(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        db = sqlite3.connect(store.db_path)
        assert schema_version(db) == SCHEMA_VERSION == len(MIGRATIONS)


def test_migrates_a_v1_database_keeping_its_rows(tmp_path: Path) -> None:
    tmp_path.mkdir(exist_ok=True)
    db = sqlite3.connect(tmp_path / "history.sqlite3", isolation_level=None)
    assert migrate(db, target=1) == 1
    assert schema_version(db) == 1
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "jobs" not in tables
    db.execute("INSERT INTO sessions(id, started_at, mode, pid) VALUES (1, 100.0, 'dictate', 0)")
    db.execute(
        "INSERT INTO turns(id, session_id, mode, created_at, updated_at, status, transcript,"
        " duration) VALUES (1, 1, 'dictate', 101.0, 101.0, 'transcribed', 'old words', 1.5)"
    )
    db.close()

    with Store(tmp_path) as store:
        assert schema_version(sqlite3.connect(store.db_path)) == SCHEMA_VERSION
        turn = store.turn(1)
        assert (turn.transcript, turn.status, turn.duration) == ("old words", "transcribed", 1.5)
        job = store.create_job(tmp_path / "history.sqlite3", [(0.0, 10.0)])  # v2 table works
        assert store.job(job).pending == [0]
        indexes = {
            r[0]
            for r in sqlite3.connect(store.db_path).execute(
                "SELECT name FROM sqlite_master WHERE type='index'"
            )
        }
        assert "turns_status" in indexes  # v3


def test_each_migration_step_is_recorded(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "h.sqlite3", isolation_level=None)
    for version in range(1, SCHEMA_VERSION + 1):
        migrate(db, target=version)
        assert schema_version(db) == version
    assert migrate(db) == SCHEMA_VERSION  # nothing left to do


def test_newer_database_is_refused_untouched(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "history.sqlite3")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.close()
    with pytest.raises(StoreError, match="newer voiceloop"):
        Store(tmp_path)
    assert schema_version(sqlite3.connect(tmp_path / "history.sqlite3")) == SCHEMA_VERSION + 5
