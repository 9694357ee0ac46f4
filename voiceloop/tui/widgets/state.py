"""The state indicator: what the assistant is doing right now, in words and colour."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import Static

from voiceloop.events import EngineState

STATE_LABELS: dict[str, str] = {
    "starting": "Starting…",
    "idle": "Idle",
    "listening": "Listening",
    "hearing": "Hearing speech",
    "transcribing": "Transcribing",
    "thinking": "Thinking",
    "speaking": "Speaking",
    "error": "Error",
}

STATE_MEANINGS: dict[str, str] = {
    "starting": "Opening the microphone and loading the speech services.",
    "idle": "Not listening. Press Ctrl+T (or Space) to talk, or F5 for hands-free.",
    "listening": "The microphone is open; start speaking.",
    "hearing": "Speech detected; it ends when you pause.",
    "transcribing": "Your words are being turned into text.",
    "thinking": "The chat model is writing a reply.",
    "speaking": "The reply is being spoken. Esc interrupts.",
    "error": "The last turn failed; see the message. Speak again to retry.",
}


class StateIndicator(Static):
    """Shows the engine state; the CSS class ``state-<name>`` sets its colour."""

    state: reactive[str] = reactive("idle")
    label: reactive[str] = reactive("")
    """Shown instead of the state's usual word, e.g. "No microphone"."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.add_class("state-idle")

    def render(self) -> str:
        return f"● {self.label or STATE_LABELS.get(self.state, self.state)}"

    def watch_state(self, old: str, new: str) -> None:
        self.remove_class(f"state-{old}")
        self.add_class(f"state-{new}")
        self.tooltip = STATE_MEANINGS.get(new, "")

    def show(self, state: EngineState | str, *, label: str = "", reason: str = "") -> None:
        """Switch to ``state``; ``label`` replaces its word and ``reason`` its tooltip
        (both until the next switch)."""
        self.state = state
        self.label = label
        if reason:
            self.tooltip = reason
