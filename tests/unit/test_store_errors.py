"""An unusable data dir is a clear StoreError at open time; a failed write loses nothing."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from tests.unit.store_helpers import tone_flac
from voiceloop.errors import StoreError
from voiceloop.store import Store
from voiceloop.store import database as database_module
from voiceloop.store import paths as paths_module


def test_data_dir_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(StoreError) as err:
        Store(blocker / "voiceloop")
    message = err.value.one_line()
    assert "\n" not in message
    assert str(blocker / "voiceloop") in message
    assert "VOICELOOP_DATA_DIR" in message


def test_database_path_taken_by_a_directory(tmp_path: Path) -> None:
    (tmp_path / "history.sqlite3").mkdir()
    with pytest.raises(StoreError, match="history database"):
        Store(tmp_path)


def test_damaged_database(tmp_path: Path) -> None:
    (tmp_path / "history.sqlite3").write_bytes(b"this is not sqlite" * 300)
    with pytest.raises(StoreError, match=r"damaged|not a database"):
        Store(tmp_path)


def test_full_disk_is_refused_at_open(tmp_path: Path, monkeypatch) -> None:
    class Usage:
        total, used, free = 10**9, 10**9 - 4096, 4096

    monkeypatch.setattr(paths_module.shutil, "disk_usage", lambda path: Usage)
    with pytest.raises(StoreError, match=r"disk .* is full"):
        Store(tmp_path)


def test_probe_write_failure_is_mapped(tmp_path: Path, monkeypatch) -> None:
    real_write = paths_module.os.write

    def no_space(fd: int, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(paths_module.os, "write", no_space)
    with pytest.raises(StoreError, match="disk is full"):
        Store(tmp_path)
    monkeypatch.setattr(paths_module.os, "write", real_write)
    assert not list(tmp_path.glob(".probe-*"))


def test_recording_write_failure_leaves_nothing_half_done(tmp_path: Path, monkeypatch) -> None:
    store = Store(tmp_path)
    session = store.open_session("converse")

    def no_space(path: Path, data: bytes) -> None:
        path.write_bytes(data[:10])  # a partial file, as a real ENOSPC would leave
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(database_module, "write_private", no_space)
    with pytest.raises(StoreError, match="cannot save the recording: the disk is full"):
        store.begin_turn(session, "converse", tone_flac(), duration=1.0)
    assert store.turns() == []
    assert list((store.recordings / str(session)).iterdir()) == []

    monkeypatch.undo()
    turn_id, audio = store.begin_turn(session, "converse", tone_flac(), duration=1.0)
    assert Path(audio or "").exists()
    assert [t.id for t in store.turns()] == [turn_id]
    store.close()


def test_failed_update_is_kept_and_written_later(tmp_path: Path) -> None:
    store = Store(tmp_path)
    session = store.open_session("converse")
    turn_id, _ = store.begin_turn(session, "converse", None, duration=1.0)

    other = sqlite3.connect(store.db_path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    with pytest.raises(StoreError, match="busy"):
        store.update_turn(turn_id, transcript="words that must survive", timings={"stt_ms": 1})
    other.execute("ROLLBACK")
    other.close()

    store.update_turn(turn_id, status="transcribed", timings={"total_ms": 2})
    turn = store.turn(turn_id)
    assert turn.transcript == "words that must survive"
    assert turn.status == "transcribed"
    assert turn.timings == {"stt_ms": 1, "total_ms": 2}
    store.close()


def test_pending_update_is_written_at_close(tmp_path: Path) -> None:
    store = Store(tmp_path)
    session = store.open_session("dictate")
    turn_id, _ = store.begin_turn(session, "dictate", None, duration=1.0)
    other = sqlite3.connect(store.db_path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError):
        store.update_turn(turn_id, transcript="kept in memory", status="transcribed")
    other.execute("ROLLBACK")
    other.close()
    store.close()
    with Store(tmp_path) as again:
        assert again.turn(turn_id).transcript == "kept in memory"


def test_bad_keep_audio_value(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="keep_audio"):
        Store(tmp_path, keep_audio="sometimes")  # type: ignore[arg-type]


def test_close_reports_updates_it_could_not_save(tmp_path: Path) -> None:
    store = Store(tmp_path)
    session = store.open_session("dictate")
    turn_id, _ = store.begin_turn(session, "dictate", None, duration=1.0)
    other = sqlite3.connect(store.db_path, isolation_level=None, timeout=0)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StoreError):
        store.update_turn(turn_id, transcript="cannot be written")
    with pytest.raises(StoreError, match=f"turn\\(s\\) {turn_id}"):
        store.close()  # the lock is still held: the pending update cannot be written
    other.execute("ROLLBACK")
    other.close()
    store.close()  # closing twice is harmless
