"""Faults the fake server can inject, one request each."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Mid = Literal["cut", "error_event", "bare_error", "reset"]


@dataclass(frozen=True)
class Fault:
    """What to do to one request of a route.

    ``status`` answers at once with that status (``retry_after`` and ``body`` optional; a
    ``str`` body is sent as text/plain). ``delay`` waits first (a slow response). ``mid``
    breaks a streamed body after ``after`` pieces (chat tokens / speech pieces): ``cut``
    ends it cleanly without ``[DONE]``, ``error_event`` sends ``event: error``,
    ``bare_error`` a ``data: {"error": ...}`` line, ``reset`` drops the connection.
    """

    status: int | None = None
    retry_after: float | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    mid: Mid | None = None
    after: int = 0

    @classmethod
    def http(cls, status: int, *, retry_after: float | None = None, body: Any = None) -> Fault:
        return cls(status=status, retry_after=retry_after, body=body)

    @classmethod
    def slow(cls, delay: float) -> Fault:
        return cls(delay=delay)

    @classmethod
    def cut(cls, after: int = 0) -> Fault:
        return cls(mid="cut", after=after)

    @classmethod
    def error_event(cls, after: int = 0) -> Fault:
        return cls(mid="error_event", after=after)

    @classmethod
    def bare_error(cls, after: int = 0) -> Fault:
        return cls(mid="bare_error", after=after)

    @classmethod
    def reset(cls, after: int = 0) -> Fault:
        return cls(mid="reset", after=after)
