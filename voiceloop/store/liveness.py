"""Whether the process that owns a session is still running, by an advisory lock.

A running session holds an exclusive ``flock`` on ``locks/<session id>.lock`` in the
data dir. The kernel releases it the moment the process dies (a zombie holds no open
files), so neither an unreaped child nor a process id reused after a reboot keeps a
crashed session "in progress". Where ``flock`` does not exist (Windows) the recorded
process id is asked instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

LOCKS = "locks"

if sys.platform != "win32":
    import fcntl


def lock_path(data_dir: Path, session_id: int) -> Path:
    return data_dir / LOCKS / f"{session_id}.lock"


def hold_session_lock(data_dir: Path, session_id: int) -> int | None:
    """Take the session's lock for as long as this process lives; returns its fd.

    ``None`` where locks are not available (then the process id decides).
    Raises :class:`OSError` if the lock file cannot be made.
    """
    if sys.platform == "win32":  # pragma: no cover - no fcntl there
        return None
    path = lock_path(data_dir, session_id)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise
    return fd


def release_session_lock(data_dir: Path, session_id: int, fd: int | None) -> None:
    """Drop the lock of a session that has ended (best effort)."""
    with contextlib.suppress(OSError):
        lock_path(data_dir, session_id).unlink()
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


def session_alive(data_dir: Path, session_id: int, pid: int | None) -> bool:
    """Whether the session's process still runs (its lock is held)."""
    if sys.platform == "win32":  # pragma: no cover - no fcntl there
        return pid_alive(pid)
    try:
        fd = os.open(lock_path(data_dir, session_id), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False  # no lock file: the session ended, or its owner never took one
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing also drops a shared lock just taken
    return False


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id is running (same machine)."""
    if not pid or pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":  # os.kill(pid, 0) would terminate the process there
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _windows_pid_alive(pid: int) -> bool:
    import ctypes

    if sys.platform != "win32":  # only called there; this tells the type checker too
        raise OSError("not Windows")
    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return False
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
