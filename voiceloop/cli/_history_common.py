"""What the history commands share: opening the store and parsing ids."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.store import Store


def open_store(settings: Settings | None = None, *, writing: bool = True) -> Store:
    """The history store with the configured audio retention and keys to mask.

    ``writing=False`` is for commands that only read or delete: they work on a full disk.
    """
    from voiceloop.store import Store

    if settings is None:
        return Store(probe=writing)
    return Store.from_settings(settings, probe=writing)


def positive_int(text: str) -> int:
    """An argparse type for ids: a clear usage error for anything but a positive number."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number")
    return value
