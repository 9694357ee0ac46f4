"""Per-turn timings, in milliseconds from the moment the user stopped speaking.

Clocks. Three clocks meet in a turn:

- the *capture stream clock* (``AudioFrame.time``, ``Utterance.speech_end`` /
  ``closed_at``), seconds of audio since the source opened;
- the *sink clock* (``AudioSink.time()``, ``PlaybackHandle.started`` / ``finished``);
- ``time.monotonic()``, which everything else uses.

The stream clock is anchored to monotonic time at the moment the frame that closed the
utterance is handed to the engine: ``speech_end_mono = closed_mono - (closed_at -
speech_end)``. Capture latency before that hand-off (about one block) is therefore not
counted. A sink-clock stamp ``s`` is mapped as ``mono = monotonic() - (sink.time() - s)``,
read as soon as the engine sees the stamp, so it does not include the delay between the
audio thread's report and the event loop noticing it. A sink that is not real time (a
file written as fast as possible, ``realtime = False``) has no clock worth mapping: its
"played" stamps count at the moment the engine sees them.

Timing keys (only what happened in the turn is present): ``utterance_closed_ms``,
``transcript_ms``, ``first_token_ms``, ``reply_done_ms``, ``first_chunk_ms``,
``first_audio_ms``, ``ttfa_ms``, ``drained_ms``; plus ``turn_id``, ``mode``, ``status``,
``interrupted``, ``retries``, ``usage``, ``providers`` and ``request_ids``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from voiceloop.stages import StageReport

UTTERANCE_CLOSED = "utterance_closed_ms"
"""Speech end → the endpointer closed the utterance (the hangover, mostly)."""
TRANSCRIPT = "transcript_ms"
"""Speech end → transcript (or translation) received."""
FIRST_TOKEN = "first_token_ms"
"""Speech end → first reply delta from the responder."""
FIRST_CHUNK = "first_chunk_ms"
"""Speech end → first speakable chunk out of the sentence splitter."""
FIRST_AUDIO = "first_audio_ms"
"""Speech end → first synthesized audio received."""
TTFA = "ttfa_ms"
"""Speech end → first reply sample played: time to first audio."""
DRAINED = "drained_ms"
"""Speech end → the last reply sample played."""
REPLY_DONE = "reply_done_ms"
"""Speech end → the responder's stream ended."""

TIMING_KEYS = (
    UTTERANCE_CLOSED,
    TRANSCRIPT,
    FIRST_TOKEN,
    REPLY_DONE,
    FIRST_CHUNK,
    FIRST_AUDIO,
    TTFA,
    DRAINED,
)


@dataclass
class TurnTimer:
    """Collects the first occurrence of each timing of one turn."""

    speech_end: float
    """Monotonic time the user stopped speaking (the origin of every figure)."""
    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, key: str, at: float | None = None) -> None:
        """Record ``key`` at monotonic time ``at`` (now if omitted), once per turn."""
        if key not in self.marks:
            self.marks[key] = time.monotonic() if at is None else at

    def ms(self, key: str) -> float | None:
        at = self.marks.get(key)
        return None if at is None else round((at - self.speech_end) * 1000.0, 1)

    def summary(
        self,
        *,
        turn_id: int,
        mode: str,
        status: str,
        interrupted: bool,
        report: StageReport | None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The dict carried by ``TurnMetrics`` and written as one JSONL line."""
        out: dict[str, Any] = {"turn_id": turn_id, "mode": mode, "status": status}
        for key in TIMING_KEYS:
            value = self.ms(key)
            if value is not None:
                out[key] = value
        out["interrupted"] = interrupted
        if report is not None:
            out["retries"] = report.retries
            if report.usage:
                out["usage"] = report.usage
            if report.providers:
                out["providers"] = report.providers
            if report.request_ids:
                out["request_ids"] = report.request_ids
        if extra:
            out.update(extra)
        return out


class MetricsLog:
    """Appends one JSON object per turn to a file (JSON Lines)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def write(self, metrics: dict[str, Any]) -> None:
        line = json.dumps({"ts": round(time.time(), 3), **metrics}, default=str)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
