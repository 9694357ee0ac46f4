"""Turning a stage's exception into what the user is told."""

from __future__ import annotations

from dataclasses import dataclass

from voiceloop.errors import VoiceloopError


class StageFailed(Exception):
    """Carries the exception of one stage up to the turn, with the stage's name."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(f"{stage}: {error}")
        self.stage = stage
        self.error = error


@dataclass(frozen=True, slots=True)
class FailureInfo:
    stage: str
    title: str
    message: str
    hint: str | None
    expected: bool
    """True for a VoiceloopError; False for a bug (log its traceback)."""

    def one_line(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message


def describe(exc: BaseException, stage: str = "engine") -> FailureInfo:
    """Title, message and hint for ``exc``; unknown exceptions get a generic line."""
    if isinstance(exc, StageFailed):
        return describe(exc.error, exc.stage)
    if isinstance(exc, VoiceloopError):
        return FailureInfo(stage, exc.title, exc.message, exc.hint, True)
    name = type(exc).__name__
    return FailureInfo(
        stage,
        "Unexpected error",
        f"the {stage} failed unexpectedly ({name})",
        "details are in the log file; the utterance is kept",
        False,
    )
