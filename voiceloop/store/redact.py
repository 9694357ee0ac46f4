"""Error text as it may be stored: one line, and nothing shaped like a credential."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

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


def configured_secrets(settings: Any) -> list[str]:
    """Every API key in the settings (top level and per section), as plain strings."""
    found: list[str] = []

    def add(value: Any) -> None:
        reveal = getattr(value, "get_secret_value", None)
        if reveal is not None and reveal():
            found.append(reveal())

    for name in type(settings).model_fields if hasattr(type(settings), "model_fields") else ():
        value = getattr(settings, name, None)
        add(value)
        fields = getattr(type(value), "model_fields", None)
        if fields:
            for field in fields:
                add(getattr(value, field, None))
    return found
