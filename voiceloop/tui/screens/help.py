"""Help: the keys, and what each state means."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Markdown

from voiceloop.tui.widgets.state import STATE_LABELS, STATE_MEANINGS

KEYS = """\
| Key | Does |
|---|---|
| F2 / F3 / F4 | converse / dictate / translate |
| Ctrl+T (or Space) | talk: press to start, press again to stop |
| Esc | interrupt: stop speaking and cancel the turn |
| F5 | hands-free (voice detection) on or off |
| F6 | latency panel |
| F7 / F8 / F9 | devices / chat model / voice |
| F10 | settings |
| Ctrl+R | history |
| Ctrl+Y | copy all: the dictation, or in the other modes the conversation |
| Ctrl+S / Ctrl+O / Ctrl+L | dictation: save / append to a file / clear |
| Ctrl+P | command palette: every action by name |
| Ctrl+Q | quit |

Push-to-talk is a toggle: terminals report when a key is pressed but not when it is
released, so "hold to talk" is press once to start and once to stop.
"""


def states_table() -> str:
    rows = [f"| {STATE_LABELS[name]} | {STATE_MEANINGS[name]} |" for name in STATE_LABELS]
    return "| State | Means |\n|---|---|\n" + "\n".join(rows)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen")

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Label("Help — Esc to close", classes="dialog-title")
            yield Markdown(KEYS + "\n" + states_table())
