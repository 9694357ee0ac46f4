"""What the history commands share: opening the store and reporting errors in one line."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from voiceloop.store import Store


def load_settings() -> Any | None:
    """The user's settings, or None where the config module is not available."""
    try:
        from voiceloop.config import load_settings as load
    except ImportError:
        return None
    return load()


def open_store(settings: Any | None = None, *, writing: bool = True) -> Store:
    """The history store with the configured audio retention and keys to mask.

    ``writing=False`` is for commands that only read or delete: they work on a full disk.
    """
    from voiceloop.store import Store

    if settings is None:
        return Store(probe=writing)
    return Store.from_settings(settings, probe=writing)


def reports_errors(run: Callable[[argparse.Namespace], int]) -> Callable[..., int]:
    """Turn a VoiceloopError into one line on stderr and its exit code."""

    @functools.wraps(run)
    def wrapper(args: argparse.Namespace) -> int:
        from voiceloop.errors import VoiceloopError
        from voiceloop.store.redact import one_line_error

        try:
            return run(args)
        except VoiceloopError as exc:
            print(f"voiceloop: {one_line_error(exc.one_line())}", file=sys.stderr)
            return exc.exit_code
        except KeyboardInterrupt:
            print("voiceloop: interrupted", file=sys.stderr)
            return 130

    return wrapper


def positive_int(text: str) -> int:
    """An argparse type for ids: a clear usage error for anything but a positive number."""
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value
