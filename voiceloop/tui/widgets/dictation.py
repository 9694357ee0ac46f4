"""The dictation view: the accumulating text, editable, with copy, save and clear."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, TextArea


class DictationView(Vertical):
    """A TextArea holding the dictation buffer, and its actions."""

    class Action(Message):
        """A button asked for ``copy``, ``save``, ``append`` or ``clear``."""

        def __init__(self, action: str) -> None:
            super().__init__()
            self.action = action

    class Edited(Message):
        """The user changed the text by hand."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._synced = ""

    def compose(self) -> ComposeResult:
        area = TextArea("", id="dictation-text", soft_wrap=True, show_line_numbers=False)
        area.border_title = "Dictation"
        yield area
        with Horizontal(id="dictation-actions"):
            yield Button("Copy all ^y", id="dictation-copy", compact=True)
            yield Button("Save ^s", id="dictation-save", compact=True)
            yield Button("Append ^o", id="dictation-append", compact=True)
            yield Button("Clear ^l", id="dictation-clear", compact=True, variant="warning")

    @property
    def text(self) -> str:
        return self.query_one(TextArea).text

    def show_buffer(self, buffer: str) -> None:
        """Bring the view in line with the engine's buffer, appending where possible."""
        area = self.query_one(TextArea)
        if buffer == area.text:
            return
        # TextArea.Changed arrives later as a message: remember what we set so that
        # our own update is not mistaken for an edit by hand.
        self._synced = buffer
        if buffer.startswith(area.text):
            area.insert(buffer[len(area.text) :], area.document.end)
        else:
            area.load_text(buffer)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if event.text_area.text != self._synced:
            self.post_message(self.Edited(event.text_area.text))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        assert event.button.id is not None
        self.post_message(self.Action(event.button.id.removeprefix("dictation-")))
