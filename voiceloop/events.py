"""What the engine tells the world: small frozen dataclasses.

Consumers (the TUI, the headless CLI printer, the history store, the metrics log)
receive these in order through one callback or queue; none of them talks to stages or
devices directly. Every event carries ``at``, a ``time.monotonic()`` stamp.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

EngineState = Literal[
    "idle", "listening", "hearing", "transcribing", "thinking", "speaking", "error"
]
Mode = Literal["converse", "dictate", "translate"]


def _now() -> float:
    return time.monotonic()


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    at: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class StateChanged(Event):
    state: EngineState
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ModeChanged(Event):
    mode: Mode


@dataclass(frozen=True, slots=True, kw_only=True)
class Level(Event):
    """Microphone level, about 30 per second; consumers should drop stale ones."""

    level_db: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureOverflow(Event):
    """The capture queue was full: ``dropped`` frames lost since the last report."""

    dropped: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeechStarted(Event):
    time: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnStarted(Event):
    turn_id: int
    mode: Mode
    duration: float
    """Length of the utterance audio in seconds."""
    audio_path: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TranscriptReady(Event):
    turn_id: int
    text: str
    provider: str = ""
    model: str = ""
    language: str | None = None
    local: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TranslationReady(Event):
    turn_id: int
    english: str
    original: str | None = None
    language: str | None = None
    local: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DictationAppended(Event):
    turn_id: int
    text: str
    buffer: str
    """The whole dictation buffer after appending."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyDelta(Event):
    """Reply text as displayed (markdown intact), streamed."""

    turn_id: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SpeakingChunk(Event):
    """The first sample of this piece of speech has just been played."""

    turn_id: int
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyDone(Event):
    turn_id: int
    text: str
    """The whole reply as generated."""
    heard: str
    """What the user actually heard (all of ``text`` unless interrupted)."""
    interrupted: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnFailed(Event):
    turn_id: int
    stage: str
    title: str
    message: str
    hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FallbackUsed(Event):
    turn_id: int
    stage: str
    reason: str
    provider: str


STAGE_WORDS = {
    "transcriber": "speech-to-text",
    "translator": "translation",
    "responder": "chat",
    "synthesizer": "speech",
}
"""What to call a stage in a message."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StageWaiting(Event):
    """A stage has not answered for ``seconds``: the turn is still waiting on it."""

    turn_id: int
    stage: str
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnMetrics(Event):
    """Per-turn timings in milliseconds (keys in ``voiceloop.engine.metrics``)."""

    turn_id: int
    metrics: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnFinished(Event):
    turn_id: int
    status: Literal["transcribed", "answered", "interrupted", "failed", "dropped"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice(Event):
    """Something worth a toast that is not tied to a turn."""

    level: Literal["info", "warning", "error"]
    title: str
    message: str
