"""A live microphone level meter."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from voiceloop.tui.messages import LevelChanged

FLOOR_DB = -60.0
BAR_CELLS = 12


def level_fraction(level_db: float) -> float:
    """Map dBFS to 0..1 across the meter (``FLOOR_DB`` .. 0 dB)."""
    if level_db != level_db:  # NaN
        return 0.0
    return max(0.0, min(1.0, (level_db - FLOOR_DB) / -FLOOR_DB))


class LevelMeter(Widget):
    """Draws the latest level. Fed with :class:`LevelChanged`; stale ones are dropped."""

    level_db: reactive[float] = reactive(-100.0)
    updates: int = 0

    def on_level_changed(self, message: LevelChanged) -> None:
        self.updates += 1
        self.level_db = message.level_db

    def render(self) -> Text:
        filled = round(level_fraction(self.level_db) * BAR_CELLS)
        text = Text("mic ")
        loud = self.level_db > -6
        text.append("█" * filled, style="bold red" if loud else "bold green")
        text.append("░" * (BAR_CELLS - filled), style="dim")
        label = "  —  " if self.level_db <= -99 else f"{self.level_db:4.0f}dB"
        text.append(f" {label}")
        return text
