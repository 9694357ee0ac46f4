"""A crashed session is told by its released lock, not by whether its process id answers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from voiceloop.store import Store

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="flock is POSIX")

CHILD = textwrap.dedent(
    """
    import os, sys, time
    from voiceloop.store import Store

    store = Store(sys.argv[1])
    session = store.open_session("converse")
    turn_id, _ = store.begin_turn(session, "converse", None, duration=1.0)
    print(turn_id, flush=True)
    if sys.argv[2] == "exit":
        os._exit(0)  # dies mid-turn without closing anything
    time.sleep(120)
    """
)


def _start(data_dir: Path, how: str) -> tuple[subprocess.Popen[str], int]:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), how],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = child.stdout.readline() if child.stdout else ""
    return child, int(line)


def _state(pid: int) -> str:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_a_zombie_owner_leaves_its_turn_unfinished(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    child, turn_id = _start(data_dir, "exit")
    try:
        deadline = time.monotonic() + 30
        while _state(child.pid) != "Z":  # dead, not reaped: os.kill(pid, 0) still succeeds
            assert time.monotonic() < deadline, "the child did not exit"
            time.sleep(0.02)
        os.kill(child.pid, 0)
        with Store(data_dir) as store:
            assert store.turn(turn_id).unfinished
            assert [t.id for t in store.turns(unfinished=True)] == [turn_id]
            assert [t.id for t in store.turns(failed=True, unfinished=True)] == [turn_id]
    finally:
        child.wait(timeout=30)


def test_a_reused_process_id_does_not_keep_a_turn_in_progress(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    child, turn_id = _start(data_dir, "sleep")
    with Store(data_dir) as store:
        assert not store.turn(turn_id).unfinished  # its owner runs: in progress
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    with Store(data_dir) as store:
        # After a reboot the id may belong to any running process, e.g. this one.
        store._db.execute("UPDATE sessions SET pid=?", (os.getpid(),))
        assert store.turn(turn_id).unfinished
        assert [t.id for t in store.turns(unfinished=True)] == [turn_id]


def test_a_live_session_in_this_process_is_in_progress_for_a_second_store(
    tmp_path: Path,
) -> None:
    with Store(tmp_path / "data") as owner:
        session = owner.open_session("dictate")
        turn_id, _ = owner.begin_turn(session, "dictate", None, duration=1.0)
        with Store(tmp_path / "data") as reader:
            assert not reader.turn(turn_id).unfinished
    with Store(tmp_path / "data") as reader:  # closed without finishing the turn
        assert reader.turn(turn_id).unfinished


def test_empty_sessions_are_dropped_and_their_numbers_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for _ in range(3):  # three starts that failed before anything was said
        with Store(data_dir) as store:
            store.open_session("converse")
    with Store(data_dir) as store:
        assert store.sessions() == []
        session = store.open_session("converse")
        assert session == 1
        store.begin_turn(session, "converse", None, duration=1.0)
    with Store(data_dir) as store:
        assert [(s.id, s.turn_count) for s in store.sessions()] == [(1, 1)]


def test_an_empty_session_of_a_crashed_process_is_dropped_at_listing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    code = "import sys, os; from voiceloop.store import Store; "
    code += "Store(sys.argv[1]).open_session('converse'); os._exit(0)"
    subprocess.run([sys.executable, "-c", code, str(data_dir)], cwd=REPO, check=True)
    with Store(data_dir) as store:
        live = store.open_session("dictate")  # an empty session that is still running
        assert [s.id for s in store.sessions()] == [1, live]
        assert store.drop_empty_sessions() == 1
        assert [s.id for s in store.sessions()] == [live]
