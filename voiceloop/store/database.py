"""The history store: sessions, turns and their recordings, in SQLite (WAL) + FLAC files.

The engine calls the recorder methods (:meth:`Store.open_session`, :meth:`Store.begin_turn`,
:meth:`Store.update_turn`) synchronously on its event loop, so each is one small write:
FLAC bytes already encoded, written with a plain ``write`` (no fsync), and one SQLite
commit in WAL mode with ``synchronous=NORMAL`` (no fsync either; durability against
power loss is traded for latency, while a killed process loses nothing committed).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from voiceloop.errors import StoreError
from voiceloop.logs import configured_secrets
from voiceloop.store.cleanup import CleanupMixin
from voiceloop.store.jobs import JobsMixin
from voiceloop.store.paths import (
    DB_NAME,
    RECORDINGS,
    NotFoundError,
    default_data_dir,
    not_found,
    os_error,
    prepare_data_dir,
    sqlite_error,
    write_private,
)
from voiceloop.store.queries import QueriesMixin
from voiceloop.store.redact import one_line_error
from voiceloop.store.rows import (
    FINAL_STATUSES,
    TURN_STATUSES,
    dumps,
    loads,
)
from voiceloop.store.schema import SCHEMA_VERSION, migrate, transaction
from voiceloop.store.sessions import SessionsMixin

if TYPE_CHECKING:
    from voiceloop.config import Settings

_T = TypeVar("_T")

KeepAudio = Literal["forever", "days", "none"]

_TEXT_FIELDS = ("transcript", "reply", "reply_heard", "translation", "original", "language")
_STAGE_ALIASES = {
    "stt": "stt",
    "transcriber": "stt",
    "translate": "stt",
    "llm": "llm",
    "responder": "llm",
    "tts": "tts",
    "synthesizer": "tts",
}


class Store(SessionsMixin, QueriesMixin, CleanupMixin, JobsMixin):
    """Conversation history on disk. Every method raises :class:`StoreError` on failure."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        keep_audio: KeepAudio = "forever",
        keep_days: int = 30,
        clock: Callable[[], float] = time.time,
        secrets: Iterable[str] = (),
        probe: bool = True,
    ) -> None:
        """Open (creating if needed) the store in ``data_dir``.

        ``data_dir`` defaults to ``$VOICELOOP_DATA_DIR`` or the platform's user data dir.
        ``keep_audio``/``keep_days`` set the recordings' retention (see
        :meth:`apply_retention`). ``secrets`` (the configured API keys) are masked in any
        error text stored. Raises :class:`StoreError` if the dir cannot be used; with
        ``probe=False`` (for reading and deleting) a full disk is not refused.
        """
        if keep_audio not in ("forever", "days", "none"):
            raise StoreError(f"keep_audio must be forever, days or none, not {keep_audio!r}")
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
        self.keep_audio: KeepAudio = keep_audio
        self.keep_days = keep_days
        self._clock = clock
        self._secrets = tuple(s for s in secrets if s)
        self._lock = threading.RLock()
        self._pending: dict[int, dict[str, Any]] = {}
        self._own_sessions: list[int] = []
        self._session_locks: dict[int, int | None] = {}
        self.recordings = prepare_data_dir(self.data_dir, probe=probe)
        self.db_path = self.data_dir / DB_NAME
        self.read_only = False
        """True when the database could only be opened for reading (e.g. a full disk)."""
        self._db: sqlite3.Connection | None
        try:
            self._db = self._connect()
        except StoreError:
            if probe or not self.db_path.exists():
                raise
            self._db = self._connect_read_only()

    @classmethod
    def from_settings(
        cls, settings: Settings, data_dir: Path | None = None, *, probe: bool = True
    ) -> Store:
        """A store with the ``[store]`` retention and the configured keys to mask.

        The retention policy is applied on opening (best effort: a recording that cannot
        be deleted now is tried again next time).
        """
        section = settings.store
        store = cls(
            data_dir,
            keep_audio=section.keep_audio,
            keep_days=section.keep_days,
            secrets=configured_secrets(settings),
            probe=probe,
        )
        with contextlib.suppress(StoreError):
            store.apply_retention()
        return store

    # -- opening ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        try:
            if not self.db_path.exists():
                # Create it private first: SQLite gives -wal/-shm the database file's mode.
                os.close(os.open(self.db_path, os.O_WRONLY | os.O_CREAT, 0o600))
            db = sqlite3.connect(
                self.db_path, isolation_level=None, check_same_thread=False, timeout=1.0
            )
        except OSError as exc:
            raise os_error(exc, "cannot create the history database") from exc
        except sqlite3.Error as exc:
            raise sqlite_error(exc, "cannot open the history database") from exc
        try:
            db.row_factory = sqlite3.Row
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(
                    f"the history database cannot use WAL mode here (got {mode})",
                    hint="put the data dir on a local disk",
                )
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA foreign_keys=ON")
            db.execute("PRAGMA secure_delete=ON")  # forgotten text is overwritten, not left
            # Checkpoints fsync; keep them off the hot path (done at open and close).
            db.execute("PRAGMA wal_autocheckpoint=0")
            migrate(db)
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as exc:
            db.close()
            raise sqlite_error(exc, "cannot open the history database") from exc
        except StoreError:
            db.close()
            raise
        return db

    def _connect_read_only(self) -> sqlite3.Connection:
        """Open a database that cannot be written right now, to read it all the same."""
        uri = self.db_path.resolve().as_uri() + "?mode=ro&immutable=1"
        try:
            db = sqlite3.connect(uri, uri=True, check_same_thread=False)
            db.row_factory = sqlite3.Row
            version = db.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise sqlite_error(exc, "cannot open the history database") from exc
        if version != SCHEMA_VERSION:
            db.close()
            raise StoreError(
                "the history database cannot be opened: it needs an upgrade and cannot be "
                "written right now",
                hint="free some disk space",
            )
        self.read_only = True
        return db

    def redact(self, text: object) -> str:
        """``text`` as one line with the configured keys and key-like tokens masked."""
        return one_line_error(text, self._secrets) or ""

    def close(self) -> None:
        """End this process's sessions (dropping empty ones), write back pending updates, close.

        Raises :class:`StoreError` (after closing) if pending updates could not be saved.
        """
        with self._lock:
            if self._db is None:
                return
            try:
                self._flush_pending()
                # Housekeeping: failing it loses nothing, so it stays quiet.
                self._end_own_sessions()
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                self._db.close()
                self._db = None
            if self._pending:
                lost = ", ".join(str(t) for t in sorted(self._pending))
                raise StoreError(
                    f"could not save the latest changes to turn(s) {lost}",
                    hint="check the disk and the data dir's permissions",
                )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- recording -------------------------------------------------------------------------

    def begin_turn(
        self, session_id: int, mode: str, flac: bytes | None, *, duration: float
    ) -> tuple[int, str | None]:
        """Record a new turn (status ``captured``) and its audio; returns (turn id, audio path).

        Call it before any network request: once it returns, the utterance survives a
        crash. All or nothing: on failure (disk full, ...) no row and no file are left.
        """
        now = self._clock()
        with self._lock:
            db = self._require_open()
            written: Path | None = None
            try:
                with transaction(db):
                    cur = db.execute(
                        "INSERT INTO turns(session_id, mode, created_at, updated_at, status,"
                        " duration) VALUES (?, ?, ?, ?, 'captured', ?)",
                        (session_id, mode, now, now, duration),
                    )
                    turn_id = int(cur.lastrowid or 0)
                    if flac is None:
                        return turn_id, None
                    relative = f"{RECORDINGS}/{session_id}/{turn_id}.flac"
                    written = self.data_dir / relative
                    try:
                        write_private(written, flac)
                    except FileNotFoundError:
                        written.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                        write_private(written, flac)
                    db.execute("UPDATE turns SET audio_path=? WHERE id=?", (relative, turn_id))
                return turn_id, str(written)
            except (OSError, sqlite3.Error) as exc:
                if written is not None:
                    with contextlib.suppress(OSError):
                        written.unlink()
                if isinstance(exc, OSError):
                    raise os_error(exc, "cannot save the recording") from exc
                raise sqlite_error(exc, "cannot record the turn") from exc

    def update_turn(self, turn_id: int, **fields: Any) -> None:
        """Record progress of a turn.

        Fields: ``transcript``, ``reply``, ``reply_heard``, ``translation``, ``original``,
        ``language`` (str); ``status`` (captured|transcribed|answered|interrupted|failed|
        dropped); ``error`` (stored as one line, credentials masked); ``providers`` and
        ``models`` (stage → name; stages ``stt``/``llm``/``tts`` or ``transcriber``/
        ``responder``/``synthesizer``); ``timings``, ``usage`` (dicts, merged into what is
        there); ``local`` (bool); ``duration`` (float).

        If the write fails the fields are kept in memory and written with the next
        successful update (or at :meth:`close`), and :class:`StoreError` is raised.
        """
        _check_fields(fields)
        with self._lock:
            merged = _merge(self._pending.pop(turn_id, {}), fields)
            try:
                self._write(lambda db: self._apply(db, turn_id, merged), "cannot update turn")
            except NotFoundError:
                raise
            except StoreError:
                self._pending[turn_id] = merged
                raise
        if merged.get("status") in FINAL_STATUSES and self.keep_audio == "none":
            self._drop_audio_of([turn_id])

    def _apply(self, db: sqlite3.Connection, turn_id: int, fields: dict[str, Any]) -> None:
        sets: dict[str, Any] = {}
        for name in _TEXT_FIELDS:
            if name in fields:
                sets[name] = fields[name]
        if "status" in fields:
            sets["status"] = fields["status"]
        if "error" in fields:
            sets["error"] = one_line_error(fields["error"], self._secrets)
        if "local" in fields:
            sets["local"] = int(bool(fields["local"]))
        if "duration" in fields:
            sets["duration"] = fields["duration"]
        for kind in ("providers", "models"):
            column = "provider" if kind == "providers" else "model"
            for stage, name in (fields.get(kind) or {}).items():
                sets[f"{_STAGE_ALIASES[stage]}_{column}"] = name
        row = db.execute("SELECT timings, usage FROM turns WHERE id=?", (turn_id,)).fetchone()
        if row is None:
            raise not_found("turn", turn_id)
        for name in ("timings", "usage"):
            if name in fields:
                sets[name] = dumps({**(loads(row[name]) or {}), **(fields[name] or {})})
        sets["updated_at"] = self._clock()
        assignments = ", ".join(f"{column}=?" for column in sets)
        db.execute(f"UPDATE turns SET {assignments} WHERE id=?", (*sets.values(), turn_id))

    def _flush_pending(self) -> None:
        for turn_id, fields in list(self._pending.items()):
            try:
                self._write(functools.partial(self._apply, turn_id=turn_id, fields=fields), "")
                self._pending.pop(turn_id, None)
            except (sqlite3.Error, StoreError):
                continue

    # -- plumbing --------------------------------------------------------------------------

    def _require_open(self) -> sqlite3.Connection:
        if self._db is None:
            raise StoreError("the history store is closed")
        return self._db

    def _write(self, action: Callable[[sqlite3.Connection], _T], what: str) -> _T:
        with self._lock:
            db = self._require_open()
            try:
                if db.in_transaction:
                    return action(db)
                with transaction(db):
                    return action(db)
            except sqlite3.Error as exc:
                raise sqlite_error(exc, what or "cannot write the history") from exc

    def _pragma(self, pragma: str) -> None:
        """Run a PRAGMA outside any transaction (checkpoints cannot run inside one)."""
        with self._lock:
            try:
                self._require_open().execute(f"PRAGMA {pragma}")
            except sqlite3.Error as exc:
                raise sqlite_error(exc, "cannot write the history") from exc

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[sqlite3.Row]:
        with self._lock:
            db = self._require_open()
            try:
                return db.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise sqlite_error(exc, "cannot read the history") from exc


def _check_fields(fields: dict[str, Any]) -> None:
    allowed = {*_TEXT_FIELDS, "status", "error", "local", "duration", "providers", "models",
               "timings", "usage"}  # fmt: skip
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"update_turn() got unknown fields: {', '.join(sorted(unknown))}")
    if "status" in fields and fields["status"] not in TURN_STATUSES:
        raise ValueError(f"unknown turn status {fields['status']!r}")
    for kind in ("providers", "models"):
        for stage in fields.get(kind) or {}:
            if stage not in _STAGE_ALIASES:
                raise ValueError(f"unknown stage {stage!r} in {kind}")


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    merged = {**old, **new}
    for name in ("providers", "models", "timings", "usage"):
        if name in old and name in new:
            merged[name] = {**(old[name] or {}), **(new[name] or {})}
    return merged
