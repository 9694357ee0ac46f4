"""Error text as it may be stored: one line, and nothing shaped like a credential."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MAX_ERROR_CHARS = 500

_SECRETS = [
    # Authorization headers and bearer tokens, whatever the token looks like.
    re.compile(r"(?i)\b(authorization\s*[:=]\s*)(?:bearer\s+)?\S+"),
    re.compile(r"(?i)\b(bearer\s+)\S+"),
    # api_key=..., "api-key": "...", x-api-key: ...
    re.compile(r"""(?i)\b((?:x-)?api[-_]?key["']?\s*[:=]\s*["']?)[^\s"',}]+"""),
    # Well-known key shapes (Groq, OpenAI-style, and similar prefixed tokens).
    re.compile(r"\b()(?:gsk|sk|xai|pk|rk)[-_][A-Za-z0-9_\-]{12,}"),
]


def one_line_error(text: object, secrets: Iterable[str] = ()) -> str | None:
    """The first line of ``text``, credentials masked, at most ``MAX_ERROR_CHARS`` long.

    ``secrets`` are exact strings (the configured keys) to mask wherever they appear.
    """
    if text is None:
        return None
    line = str(text).strip().splitlines()[0].strip() if str(text).strip() else ""
    for secret in secrets:
        if secret:
            line = line.replace(secret, "***")
    for pattern in _SECRETS:
        line = pattern.sub(lambda m: m.group(1) + "***", line)
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
