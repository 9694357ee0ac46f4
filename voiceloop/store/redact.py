"""Error text as it may be stored: one line, and nothing shaped like a credential."""

from __future__ import annotations

from collections.abc import Iterable

from voiceloop.logs import redact

MAX_ERROR_CHARS = 500


def one_line_error(text: object, secrets: Iterable[str] = ()) -> str | None:
    """The first line of ``text``, credentials masked, at most ``MAX_ERROR_CHARS`` long.

    ``secrets`` are exact strings (the configured keys) to mask wherever they appear.
    """
    if text is None:
        return None
    line = str(text).strip().splitlines()[0].strip() if str(text).strip() else ""
    line = redact(line, secrets=secrets, mask="***")
    if len(line) > MAX_ERROR_CHARS:
        line = line[: MAX_ERROR_CHARS - 1] + "…"
    return line or None
