"""The latency panel: a waterfall of each turn's timings and a rolling median.

``TurnMetrics.metrics`` holds milliseconds measured from the end of the user's speech;
each milestone is drawn as a bar from the previous one, so the eye sees where the
time went. Keys are looked up as written below or with an ``_ms`` suffix.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rich.console import Group
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

MILESTONES: tuple[tuple[str, str], ...] = (
    ("utterance_closed", "close"),
    ("transcript", "transcript"),
    ("first_token", "1st token"),
    ("first_chunk", "1st chunk"),
    ("first_audio", "1st audio"),
    ("ttfa", "played"),
    ("drained", "total"),
)
"""(metric key, label) in the order they happen within a turn.

The engine's keys (``voiceloop.engine.metrics``): utterance closed, transcript, first
token, first speakable chunk, first synthesized audio, first sample played (time to
first audio) and last sample played (the whole turn)."""

WINDOW = 20
"""How many recent turns the rolling median covers."""

LABEL_WIDTH = 11
VALUE_WIDTH = 7


def metric(metrics: Mapping[str, Any], key: str) -> float | None:
    """The value of ``key`` (or ``key_ms``) in milliseconds, if present and numeric."""
    for name in (key, f"{key}_ms"):
        value = metrics.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    return None


@dataclass(frozen=True, slots=True)
class TurnTiming:
    turn_id: int
    points: tuple[tuple[str, float], ...]
    """(label, ms since speech end) for each milestone present."""

    @property
    def total(self) -> float | None:
        return self.points[-1][1] if self.points else None

    def value(self, label: str) -> float | None:
        return next((ms for name, ms in self.points if name == label), None)


def timing_from_metrics(turn_id: int, metrics: Mapping[str, Any]) -> TurnTiming:
    points = []
    for key, label in MILESTONES:
        ms = metric(metrics, key)
        if ms is not None:
            points.append((label, ms))
    return TurnTiming(turn_id, tuple(points))


def waterfall(timing: TurnTiming, width: int) -> list[Text]:
    """One line per milestone: label, a bar from the previous milestone to it, its time."""
    bar_width = max(4, width - LABEL_WIDTH - VALUE_WIDTH - 2)
    scale = max((ms for _, ms in timing.points), default=0.0) or 1.0
    lines = []
    previous = 0.0
    for label, ms in timing.points:
        start = round(min(previous, ms) / scale * bar_width)
        end = max(start + 1, round(ms / scale * bar_width))
        line = Text(f"{label:<{LABEL_WIDTH}}", style="bold" if label == "total" else "")
        line.append(" " * start)
        line.append("▆" * (end - start), style="magenta" if label == "total" else "blue")
        line.append(" " * (bar_width - end))
        line.append(f"{ms:>{VALUE_WIDTH}.0f}ms"[: VALUE_WIDTH + 2])
        lines.append(line)
        previous = max(previous, ms)
    return lines


class LatencyPanel(Widget):
    """Shows the latest turn's waterfall and rolling medians of the recent turns."""

    revision: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.timings: deque[TurnTiming] = deque(maxlen=WINDOW)
        self.border_title = "Latency"

    def add(self, turn_id: int, metrics: Mapping[str, Any]) -> TurnTiming:
        """Record one turn's metrics and redraw."""
        timing = timing_from_metrics(turn_id, metrics)
        if timing.points:
            self.timings.append(timing)
            self.border_subtitle = f"median of {len(self.timings)}"
            self.revision += 1
        return timing

    def median(self, label: str) -> float | None:
        values = [v for t in self.timings if (v := t.value(label)) is not None]
        return statistics.median(values) if values else None

    def render(self) -> Group | Text:
        if not self.timings:
            return Text("No turns yet: timings appear here after each reply.", style="dim")
        latest = self.timings[-1]
        width = self.content_size.width or 40
        lines: list[Text] = [Text(f"turn {latest.turn_id}", style="bold")]
        lines += waterfall(latest, width)
        medians = [
            f"{short} {value:.0f}ms"
            for label, short in (("played", "ttfa"), ("total", "total"))
            if (value := self.median(label)) is not None
        ]
        if medians:
            line = Text("median ", style="bold")
            line.append(" · ".join(medians))
            lines.append(line)
        return Group(*lines)
