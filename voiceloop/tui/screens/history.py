"""History: past sessions and their turns; open, copy, export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Label, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from voiceloop.errors import VoiceloopError
from voiceloop.tui.protocols import HistoryLike, SessionSummary, TurnRecord
from voiceloop.tui.typed_app import voiceloop_app

if TYPE_CHECKING:
    from voiceloop.tui.app import VoiceloopApp


def session_markdown(session: SessionSummary, turns: list[TurnRecord]) -> str:
    """A session as markdown, for reading, copying and exporting."""
    lines = [f"# {session.title or session.mode} — {session.started:%Y-%m-%d %H:%M}", ""]
    for turn in turns:
        status = f" ({turn.status})" if turn.status and turn.status != "answered" else ""
        lines.append(f"**You** · {turn.at:%H:%M:%S}{status}")
        lines.append("")
        lines.append(turn.user or "…")
        lines.append("")
        if turn.reply:
            lines.append("**Assistant**")
            lines.append("")
            lines.append(turn.reply)
            lines.append("")
    return "\n".join(lines)


class HistoryScreen(Screen[None]):
    """Sessions on the left; the opened session on the right."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("c", "copy", "Copy"),
        Binding("e", "export", "Export"),
    ]

    def __init__(self, history: HistoryLike | None) -> None:
        super().__init__(id="history")
        self.history = history
        self.sessions: list[SessionSummary] = []
        self.opened: tuple[SessionSummary, list[TurnRecord]] | None = None

    @property
    def vapp(self) -> VoiceloopApp:
        return voiceloop_app(self.app)

    def compose(self) -> ComposeResult:
        yield Label(
            "History — Enter opens, c copies, e exports, Esc goes back", classes="dialog-title"
        )
        with Horizontal(id="history-body"):
            yield OptionList(id="sessions")
            with VerticalScroll(id="session-view"):
                yield Markdown("", id="session-text")
        yield Static("", id="history-note", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        note = self.query_one("#history-note", Static)
        if self.history is None:
            note.update("History is off or unavailable: nothing has been stored.")
            return
        try:
            self.sessions = list(self.history.sessions())
        except VoiceloopError as error:
            note.update(f"{error.title}: {error.one_line()}")
            return
        listing = self.query_one(OptionList)
        for i, s in enumerate(self.sessions):
            label = f"{s.started:%Y-%m-%d %H:%M} {s.mode} ({s.turns})"
            listing.add_option(Option(label, id=str(i)))
        if self.sessions:
            listing.highlighted = 0
        else:
            note.update("No sessions yet.")
        listing.focus()

    async def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        await self.open(self.sessions[int(event.option.id or 0)])

    async def open(self, session: SessionSummary) -> None:
        assert self.history is not None
        try:
            turns = list(self.history.turns(session.id))
        except VoiceloopError as error:
            self.notify(error.one_line(), title=error.title, severity="error", markup=False)
            return
        self.opened = (session, turns)
        await self.query_one("#session-text", Markdown).update(session_markdown(session, turns))

    def _opened_text(self) -> str | None:
        if self.opened is None:
            self.notify("Open a session first (Enter).", title="History")
            return None
        return session_markdown(*self.opened)

    def action_copy(self) -> None:
        text = self._opened_text()
        if text is not None:
            self.app.copy_to_clipboard(text)
            self.notify("Session copied to the clipboard.", title="Copied")

    def action_export(self) -> None:
        from voiceloop.tui.screens.prompt import PathPrompt

        text = self._opened_text()
        if text is None or self.opened is None:
            return
        default = str(Path.home() / f"voiceloop-{self.opened[0].started:%Y%m%d-%H%M}.md")

        def write(path: str | None) -> None:
            if path:
                self.vapp.write_text(Path(path).expanduser(), text, append=False, title="Exported")

        self.app.push_screen(PathPrompt("Export session to", default), write)
