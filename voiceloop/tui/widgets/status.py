"""The session line: mode, talking style, models and devices."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from voiceloop.tui.protocols import Profile

MODE_LABELS = {"converse": "Converse", "dictate": "Dictate", "translate": "Translate"}


class ModeBadge(Static):
    """The current mode, coloured per mode."""

    mode: reactive[str] = reactive("converse")

    def render(self) -> str:
        return f" {MODE_LABELS.get(self.mode, self.mode)} "

    def watch_mode(self, old: str, new: str) -> None:
        self.remove_class(f"mode-{old}")
        self.add_class(f"mode-{new}")


class TalkBadge(Static):
    """Hands-free or push-to-talk, and whether the talk key is held."""

    hands_free: reactive[bool] = reactive(True)
    talking: reactive[bool] = reactive(False)
    missing: reactive[str] = reactive("")
    """The device that is missing (``microphone``...): then there is nothing to talk to."""

    def render(self) -> str:
        if self.missing in ("microphone", "sound"):
            return "no microphone"
        if self.missing:
            return f"no {self.missing}"
        if self.talking:
            return "● talk (^t to stop)"
        return "hands-free" if self.hands_free else "push-to-talk ^t"

    def watch_talking(self, talking: bool) -> None:
        self.set_class(talking, "talking")


class ProfileLine(Static):
    """Models and devices, shortened to fit."""

    profile: reactive[Profile] = reactive(Profile, always_update=True)

    def render(self) -> Text:
        p = self.profile
        text = Text(no_wrap=True, overflow="ellipsis")
        parts = [
            ("stt", p.stt_model),
            ("llm", p.chat_model),
            ("voice", p.voice),
            ("in", p.input_device),
            ("out", p.output_device),
        ]
        for i, (name, value) in enumerate(part for part in parts if part[1]):
            if i:
                text.append(" · ", style="dim")
            text.append(f"{name} ", style="dim")
            text.append(_short(value))
        return text


def _short(value: str, limit: int = 24) -> str:
    value = value.rsplit("/", 1)[-1] if "/" in value else value
    return value if len(value) <= limit else value[: limit - 1] + "…"
