"""The modal for errors the session cannot carry on past by itself."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from voiceloop.errors import VoiceloopError


class ErrorScreen(ModalScreen[str]):
    """Title, message and what to do; dismisses with ``restart``, ``quit`` or ``close``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss('close')", "Close"),
        Binding("r", "dismiss('restart')", "Restart"),
        Binding("q", "dismiss('quit')", "Quit"),
    ]

    def __init__(self, title: str, message: str, hint: str | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.error_title = title
        self.message = message
        self.hint = hint

    @classmethod
    def from_error(
        cls, error: BaseException, *, what: str = "The speech engine stopped"
    ) -> ErrorScreen:
        """Describe ``error`` for a person: our errors as they are, others by type only."""
        if isinstance(error, VoiceloopError):
            return cls(error.title, error.message, error.hint)
        name = type(error).__name__
        return cls(
            "Unexpected error",
            f"{what}: {name}: {error}",
            "Restart to try again; if it keeps happening, run with -v and report it.",
        )

    def compose(self) -> ComposeResult:
        with Vertical(id="error-dialog", classes="dialog"):
            yield Label(self.error_title, id="error-title", classes="dialog-title", markup=False)
            yield Static(self.message, id="error-message", markup=False)
            if self.hint:
                yield Static(self.hint, id="error-hint", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Restart (r)", id="restart", variant="primary")
                yield Button("Close (esc)", id="close")
                yield Button("Quit (q)", id="quit", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)
