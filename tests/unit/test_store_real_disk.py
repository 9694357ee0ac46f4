"""Real read-only and full filesystems (small tmpfs mounts; needs mount permission)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.store_helpers import tone_flac
from voiceloop.errors import StoreError
from voiceloop.store import Store


@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"needs permission to mount a tmpfs (root with CAP_SYS_ADMIN): {result.stderr}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_read_only_filesystem(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=16m") as mount, pytest.raises(StoreError) as err:
        Store(mount / "voiceloop")
    assert "Read-only file system" in err.value.one_line()
    assert "\n" not in err.value.one_line()


def test_existing_store_on_a_now_read_only_filesystem(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "rw", "size=16m") as mount:
        with Store(mount) as store:
            store.open_session("dictate")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        with pytest.raises(StoreError, match="Read-only"):
            Store(mount)


def test_full_disk_is_refused_at_open(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "tiny", "size=2m") as mount, pytest.raises(StoreError) as err:
        Store(mount / "voiceloop")
    assert "full" in err.value.one_line()


def test_disk_filling_up_mid_session(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "small", "size=12m") as mount:
        store = Store(mount / "voiceloop")
        session = store.open_session("dictate")
        kept, _ = store.begin_turn(session, "dictate", tone_flac(0.5), duration=0.5)
        # Something else fills the disk while we run.
        with open(mount / "filler", "wb") as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
                os.fsync(filler.fileno())
        with pytest.raises(StoreError, match="full"):
            store.begin_turn(session, "dictate", tone_flac(3.0), duration=3.0)
        assert [t.id for t in store.turns()] == [kept]  # nothing half-written
        assert sorted(p.name for p in (store.recordings / str(session)).iterdir()) == [
            f"{kept}.flac"
        ]
        (mount / "filler").unlink()
        turn_id, audio = store.begin_turn(session, "dictate", tone_flac(3.0), duration=3.0)
        assert audio is not None and Path(audio).stat().st_size > 0
        assert store.turn(turn_id).status == "captured"
        store.close()


def test_history_can_be_read_and_forgotten_on_a_full_disk(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "full", "size=12m") as mount:
        with Store(mount) as store:
            session = store.open_session("dictate")
            turn_id, _ = store.begin_turn(session, "dictate", tone_flac(1.0), duration=1.0)
            store.update_turn(turn_id, transcript="still readable", status="transcribed")
        with open(mount / "filler", "wb") as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 65536)
        with pytest.raises(StoreError, match="full"):
            Store(mount)  # a recording session is refused up front...
        with Store(mount, probe=False) as reader:  # ...but it can still be read
            assert reader.turn(turn_id).transcript == "still readable"
            assert reader.read_only
            with pytest.raises(StoreError, match="can only be read right now"):
                reader.forget_session(session)
        (mount / "filler").unlink()
        with Store(mount, probe=False) as store:
            assert not store.read_only
            store.forget_session(session)
            assert store.turns() == []
