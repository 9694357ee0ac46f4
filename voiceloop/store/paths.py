"""Where the history lives, and making sure it can be written before a turn needs it."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from pathlib import Path

from voiceloop.errors import StoreError

DATA_DIR_ENV = "VOICELOOP_DATA_DIR"
DB_NAME = "history.sqlite3"
RECORDINGS = "recordings"
MIN_FREE_BYTES = 8 * 1024 * 1024
"""Below this much free space we refuse to start rather than fail in the middle of a turn."""
_PROBE_BYTES = 64 * 1024


def default_data_dir() -> Path:
    """``$VOICELOOP_DATA_DIR`` if set, else the platform's user data dir for voiceloop."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("voiceloop", appauthor=False))


def prepare_data_dir(data_dir: Path, *, probe: bool = True) -> Path:
    """Create ``data_dir`` and its recordings folder (mode 0700) and prove both writable.

    Raises :class:`StoreError` with one line when the directory cannot be used, or (with
    ``probe``) the disk is (almost) full, so the problem shows at start-up and never
    mid-turn. Without ``probe`` only what reading and deleting need is checked.
    """
    recordings = data_dir / RECORDINGS
    try:
        for folder in (data_dir, recordings):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            _restrict(folder)
        free = shutil.disk_usage(data_dir).free
    except OSError as exc:
        raise os_error(exc, f"cannot use the data dir {data_dir}") from exc
    if not probe:
        return recordings
    if free < MIN_FREE_BYTES:
        raise StoreError(
            f"the disk holding {data_dir} is full ({free // 1024} KiB free)",
            hint="free some space or set VOICELOOP_DATA_DIR to another disk",
        )
    for folder in (data_dir, recordings):
        _probe(folder)
    return recordings


def _restrict(folder: Path) -> None:
    """Make a folder private to its owner (best effort: it may belong to someone else)."""
    with contextlib.suppress(OSError):
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)


def _probe(folder: Path) -> None:
    probe = folder / f".probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * _PROBE_BYTES)
        finally:
            os.close(fd)
    except OSError as exc:
        raise os_error(exc, f"cannot write to {folder}") from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a new file readable by its owner only. No fsync: speed matters here."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def os_error(exc: OSError, what: str) -> StoreError:
    """One clear line for a filesystem failure."""
    import errno

    reason = exc.strerror or type(exc).__name__
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(f"{what}: the disk is full", hint="free some space")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError(
            f"{what}: {reason}",
            hint="check its permissions, or set VOICELOOP_DATA_DIR to a writable folder",
        )
    return StoreError(f"{what}: {reason}", hint="set VOICELOOP_DATA_DIR to a usable folder")


def sqlite_error(exc: sqlite3.Error, what: str) -> StoreError:
    """One clear line for a database failure."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    lowered = text.lower()
    if "full" in lowered:
        return StoreError(f"{what}: the disk is full", hint="free some space")
    if "locked" in lowered or "busy" in lowered:
        return StoreError(
            f"{what}: the history database is busy",
            hint="another voiceloop is writing to it; try again",
        )
    if "not a database" in lowered or "malformed" in lowered:
        return StoreError(
            f"{what}: the history database is damaged ({text})",
            hint="move history.sqlite3 out of the data dir to start a new one",
        )
    if "readonly" in lowered:
        return StoreError(
            f"{what}: the history can only be read right now",
            hint="free some disk space, or check the data dir's permissions",
        )
    if "unable to open" in lowered:
        return StoreError(
            f"{what}: {text}",
            hint="check the data dir's permissions, or set VOICELOOP_DATA_DIR",
        )
    return StoreError(f"{what}: {text}")


class NotFoundError(StoreError):
    """No session, turn or job with that id (a usage error on the command line)."""

    exit_code = 2


def not_found(kind: str, ident: int) -> NotFoundError:
    return NotFoundError(f"no {kind} {ident} in the history", hint="`voiceloop history` lists them")
