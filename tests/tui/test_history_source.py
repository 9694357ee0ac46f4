"""The history screen's view of the real store."""

from __future__ import annotations

from pathlib import Path

from voiceloop.store import Store
from voiceloop.tui.history_source import StoreHistory


def test_store_history_lists_newest_first_and_reads_turns(tmp_path: Path) -> None:
    clock = iter(range(1_700_000_000, 1_700_000_100)).__next__
    with Store(tmp_path, clock=clock) as store:
        first = store.open_session("converse")
        turn, _ = store.begin_turn(first, "converse", None, duration=1.0)
        store.update_turn(
            turn, transcript="Hi", reply="Hello there, friend.", reply_heard="Hello there",
            status="interrupted",
        )  # fmt: skip
        second = store.open_session("translate")
        turn, _ = store.begin_turn(second, "translate", None, duration=1.0)
        store.update_turn(
            turn, original="Hola", translation="Hello", language="es", status="transcribed"
        )

    history = StoreHistory(lambda: Store(tmp_path, probe=False))
    sessions = history.sessions()
    assert [(s.id, s.mode, s.turns) for s in sessions] == [
        (second, "translate", 1),
        (first, "converse", 1),
    ]
    converse = history.turns(first)
    assert [(t.user, t.reply, t.status) for t in converse] == [
        ("Hi", "Hello there", "interrupted")  # what the user actually heard
    ]
    translated = history.turns(second)
    assert [(t.user, t.reply) for t in translated] == [("Hola", "Hello")]


def test_a_converse_turn_left_without_its_answer_is_not_shown_as_done(tmp_path: Path) -> None:
    with Store(tmp_path) as store:  # transcribed, then the process went before the reply
        session = store.open_session("converse")
        turn, _ = store.begin_turn(session, "converse", None, duration=1.0)
        store.update_turn(turn, transcript="What time is it?", status="transcribed")
        live = StoreHistory(lambda: Store(tmp_path, probe=False))
        assert [t.status for t in live.turns(session)] == ["in progress"]
    history = StoreHistory(lambda: Store(tmp_path, probe=False))
    [record] = history.turns(session)
    assert record.status == "unfinished"
    assert f"voiceloop retry {turn}" in record.reply


def test_sessions_without_a_turn_are_not_listed(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "import sys, os; from voiceloop.store import Store; "
    code += "Store(sys.argv[1]).open_session('converse'); os._exit(0)"  # a crashed start
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], check=True)
    with Store(tmp_path) as store:
        kept = store.open_session("dictate")
        store.begin_turn(kept, "dictate", None, duration=1.0)
        store.open_session("converse")  # this run's own, still empty
        history = StoreHistory(lambda: Store(tmp_path, probe=False))
        assert [s.id for s in history.sessions()] == [kept]
    with Store(tmp_path) as store:
        assert [s.id for s in store.sessions()] == [kept]  # the crashed one is gone too
