"""Retention of recordings (text always kept) and forgetting (text and audio)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.store_helpers import T0, FakeClock, tone_flac
from voiceloop.errors import StoreError
from voiceloop.store import Store

DAY = 86400.0


def _turn(store: Store, session: int, status: str, text: str = "words") -> tuple[int, Path]:
    turn_id, audio = store.begin_turn(session, "dictate", tone_flac(0.5), duration=0.5)
    if status == "failed":
        store.update_turn(turn_id, status="failed", error="Connection failed")
    elif status != "captured":
        store.update_turn(turn_id, transcript=text, status=status)
    assert audio is not None
    return turn_id, Path(audio)


def test_forever_keeps_everything(tmp_path: Path) -> None:
    clock = FakeClock()
    with Store(tmp_path, keep_audio="forever", clock=clock) as store:
        session = store.open_session("dictate")
        _, audio = _turn(store, session, "transcribed")
        clock.advance(1000 * DAY)
        assert store.apply_retention() == 0
        assert audio.exists()


def test_days_deletes_old_finished_audio_only(tmp_path: Path) -> None:
    clock = FakeClock()
    with Store(tmp_path, keep_audio="days", keep_days=30, clock=clock) as store:
        session = store.open_session("dictate")
        old_id, old_audio = _turn(store, session, "transcribed", "old words")
        failed_id, failed_audio = _turn(store, session, "failed")
        clock.advance(20 * DAY)
        young_id, young_audio = _turn(store, session, "answered", "young words")
        clock.advance(15 * DAY)  # old: 35 days, young: 15 days

        assert store.apply_retention() == 1
        assert not old_audio.exists()
        assert store.turn(old_id).audio_path is None
        assert store.turn(old_id).transcript == "old words"  # text kept
        assert young_audio.exists() and store.turn(young_id).audio_path == young_audio
        assert failed_audio.exists()  # the only copy of those words: kept
        assert store.turn(failed_id).audio_path == failed_audio
        assert store.apply_retention() == 0  # idempotent


def test_none_drops_audio_once_the_turn_is_done(tmp_path: Path) -> None:
    with Store(tmp_path, keep_audio="none", clock=FakeClock()) as store:
        session = store.open_session("dictate")
        turn_id, audio = store.begin_turn(session, "dictate", tone_flac(0.5), duration=0.5)
        assert audio is not None and Path(audio).exists()  # kept while the turn runs
        store.update_turn(turn_id, transcript="hello")
        assert Path(audio).exists()
        store.update_turn(turn_id, status="transcribed")
        assert not Path(audio).exists()
        assert store.turn(turn_id).audio_path is None
        assert store.turn(turn_id).transcript == "hello"
        _failed_id, failed_audio = _turn(store, session, "failed")
        assert failed_audio.exists()
        assert store.apply_retention() == 0


def test_none_retention_cleans_turns_finished_under_another_policy(tmp_path: Path) -> None:
    with Store(tmp_path, clock=FakeClock()) as store:
        session = store.open_session("dictate")
        _, done_audio = _turn(store, session, "transcribed")
        _, captured_audio = _turn(store, session, "captured")
    with Store(tmp_path, keep_audio="none") as store:
        assert store.apply_retention() == 1
        assert not done_audio.exists()
        assert captured_audio.exists()


def test_forget_session_deletes_text_and_audio(tmp_path: Path) -> None:
    phrase = "a very private phrase zx81"
    with Store(tmp_path, clock=FakeClock()) as store:
        gone = store.open_session("dictate")
        kept = store.open_session("dictate")
        gone_turn, gone_audio = _turn(store, gone, "transcribed", phrase)
        kept_turn, kept_audio = _turn(store, kept, "transcribed", "ordinary")
    with Store(tmp_path) as store:  # the text is now in the database file itself
        assert phrase.encode() in store.db_path.read_bytes()
        store.forget_session(gone)
        assert [s.id for s in store.sessions()] == [kept]
        assert [t.id for t in store.turns()] == [kept_turn]
        assert not gone_audio.exists()
        assert not (store.recordings / str(gone)).exists()
        assert kept_audio.exists()
        with pytest.raises(StoreError):
            store.session(gone)
    for path in tmp_path.iterdir():
        if path.is_file():
            assert phrase.encode() not in path.read_bytes(), path  # not left in free pages
    del gone_turn


def test_forget_all(tmp_path: Path) -> None:
    with Store(tmp_path, clock=FakeClock()) as store:
        for _ in range(2):
            session = store.open_session("converse")
            _turn(store, session, "transcribed", "secret plans")
    with Store(tmp_path, clock=FakeClock()) as store:
        assert b"secret plans" in store.db_path.read_bytes()
        store.create_job(tmp_path / "history.sqlite3", [(0, 1)])
        assert store.forget_all() == 2
        assert store.sessions() == [] and store.turns() == [] and store.jobs() == []
        assert list(store.recordings.iterdir()) == []
        # Still usable afterwards.
        session = store.open_session("dictate")
        _, audio = _turn(store, session, "transcribed")
        assert audio.exists()
    for path in tmp_path.iterdir():
        if path.is_file():
            assert b"secret plans" not in path.read_bytes()


def test_forget_unknown_session(tmp_path: Path) -> None:
    with Store(tmp_path) as store, pytest.raises(StoreError, match="no session 5"):
        store.forget_session(5)


def test_retention_uses_the_clock_not_mtime(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    with Store(tmp_path, keep_audio="days", keep_days=1, clock=clock) as store:
        session = store.open_session("dictate")
        _, audio = _turn(store, session, "transcribed")
        clock.advance(0.5 * DAY)
        assert store.apply_retention() == 0
        clock.advance(0.6 * DAY)
        assert store.apply_retention() == 1
        assert not audio.exists()


def test_from_settings_applies_retention_and_masks_keys(tmp_path: Path) -> None:
    from pydantic import SecretStr

    from voiceloop.config import Settings, StoreSettings

    with Store(tmp_path, clock=FakeClock()) as store:
        session = store.open_session("dictate")
        done_id, done_audio = _turn(store, session, "transcribed")
        failed_id, failed_audio = _turn(store, session, "failed")
    settings = Settings(store=StoreSettings(keep_audio="none"), groq_api_key=SecretStr("k3y-x"))
    with Store.from_settings(settings, tmp_path) as store:
        assert store.keep_audio == "none"
        assert not done_audio.exists() and store.turn(done_id).audio_path is None
        assert failed_audio.exists()
        store.update_turn(failed_id, error="refused k3y-x")
        assert store.turn(failed_id).error == "refused ***"
