"""Copy text to the terminal's clipboard with the OSC 52 escape sequence.

Works over SSH and in most modern terminals (and tmux with ``set-clipboard on``); the
terminal decides whether to honour it. Written to the controlling terminal, never to
stdout, so piped output stays clean.
"""

from __future__ import annotations

import base64
import os

MAX_BYTES = 100_000
"""Terminals cap the sequence length; past this we copy the tail, which is what was last said."""


def osc52_sequence(text: str) -> str:
    """The escape sequence that puts ``text`` on the system clipboard."""
    data = text.encode("utf-8")[-MAX_BYTES:]
    payload = base64.b64encode(data).decode("ascii")
    sequence = f"\x1b]52;c;{payload}\x07"
    if os.environ.get("TMUX"):
        # tmux passes the sequence through only when wrapped in a DCS passthrough.
        sequence = "\x1bPtmux;" + sequence.replace("\x1b", "\x1b\x1b") + "\x1b\\"
    return sequence


def copy_to_terminal(text: str, tty_path: str = "/dev/tty") -> bool:
    """Send ``text`` to the clipboard through the controlling terminal.

    Returns False (and does nothing) when there is no controlling terminal.
    """
    try:
        fd = os.open(tty_path, os.O_WRONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        os.write(fd, osc52_sequence(text).encode("ascii"))
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
