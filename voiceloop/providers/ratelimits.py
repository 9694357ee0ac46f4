"""Rate-limit headers (``x-ratelimit-*``) as a small value callers can show or act on."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(text: str | None) -> float | None:
    """Seconds in a Groq reset duration such as ``2m59.56s``, ``7.66s``, ``1h2m`` or ``120ms``.

    A bare number is taken as seconds. ``None`` when absent or unreadable.
    """
    if not text:
        return None
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) and pos > 0 else None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class RateLimits:
    """What the server said about our quota on its last response.

    Requests are counted per day, tokens per minute (Groq's convention); resets are in
    seconds from the moment the response arrived.
    """

    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens: float | None = None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> RateLimits | None:
        """Parse the ``x-ratelimit-*`` headers; ``None`` when there are none."""
        get = headers.get
        limits = cls(
            limit_requests=_int(get("x-ratelimit-limit-requests")),
            remaining_requests=_int(get("x-ratelimit-remaining-requests")),
            reset_requests=parse_duration(get("x-ratelimit-reset-requests")),
            limit_tokens=_int(get("x-ratelimit-limit-tokens")),
            remaining_tokens=_int(get("x-ratelimit-remaining-tokens")),
            reset_tokens=parse_duration(get("x-ratelimit-reset-tokens")),
        )
        return None if limits == cls() else limits

    def resets_in(self) -> float | None:
        """Seconds until the exhausted quota (or the sooner one) resets, when known."""
        if self.remaining_requests == 0 and self.reset_requests is not None:
            return self.reset_requests
        if self.remaining_tokens == 0 and self.reset_tokens is not None:
            return self.reset_tokens
        known = [t for t in (self.reset_requests, self.reset_tokens) if t is not None]
        return min(known) if known else None
