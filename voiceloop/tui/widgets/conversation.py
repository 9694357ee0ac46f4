"""The conversation log: user turns, streamed replies, translations, each with its time."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Label, Markdown, Static
from textual.widgets.markdown import MarkdownStream

T = TypeVar("T")


def _clock(at: datetime) -> str:
    return at.strftime("%H:%M:%S")


class TurnHeader(Static):
    """``You · 12:00:01`` above a bubble."""


class UserTurn(Vertical):
    """What the user said, as transcribed (a placeholder until the transcript arrives)."""

    def __init__(self, turn_id: int, at: datetime, text: str = "") -> None:
        super().__init__(id=f"user-{turn_id}", classes="turn user-turn")
        self.turn_id = turn_id
        self.at = at
        self._text = text

    def compose(self) -> ComposeResult:
        yield TurnHeader(f"You · {_clock(self.at)}", classes="turn-header")
        yield Static(self._text or "…", classes="turn-body", markup=False)

    @property
    def text(self) -> str:
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self.query_one(".turn-body", Static).update(text or "(nothing heard)")
        self.remove_class("pending")


class AssistantTurn(Vertical):
    """A reply whose markdown streams in as it is generated."""

    def __init__(self, turn_id: int, at: datetime) -> None:
        super().__init__(id=f"reply-{turn_id}", classes="turn assistant-turn")
        self.turn_id = turn_id
        self.at = at
        self._stream: MarkdownStream | None = None
        self.text = ""
        self.done = False

    def compose(self) -> ComposeResult:
        yield TurnHeader(f"Assistant · {_clock(self.at)}", classes="turn-header")
        yield Markdown("", classes="turn-body")

    async def append(self, delta: str) -> None:
        """Add streamed text; fragments are batched if they come faster than they render."""
        self.text += delta
        if self._stream is None:
            self._stream = Markdown.get_stream(self.query_one(Markdown))
        await self._stream.write(delta)

    async def finish(self, text: str, *, interrupted: bool = False, heard: str = "") -> None:
        """Close the stream; show the whole reply and mark an interrupted one."""
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None
        if text and text != self.text:
            self.text = text
            await self.query_one(Markdown).update(text)
        self.done = True
        if interrupted:
            self.add_class("interrupted")
            note = "interrupted" + (f" — heard: “{heard}”" if heard else " before speaking")
            await self.mount(Label(note, classes="turn-note", markup=False))


class TranslationTurn(Vertical):
    """A translation: the English, with the original beside it when known."""

    def __init__(
        self, turn_id: int, at: datetime, english: str, original: str | None, language: str | None
    ) -> None:
        super().__init__(id=f"translation-{turn_id}", classes="turn translation-turn")
        self.turn_id = turn_id
        self.at = at
        self.english = english
        self.original = original
        self.language = language

    def compose(self) -> ComposeResult:
        lang = f" ({self.language})" if self.language else ""
        yield TurnHeader(f"Translation{lang} · {_clock(self.at)}", classes="turn-header")
        with Horizontal(classes="translation-pair"):
            if self.original:
                yield Static(self.original, classes="original", markup=False)
            yield Static(self.english, classes="english", markup=False)


class NoteTurn(Static):
    """A line in the log that is not a turn: a failure, a mode change."""


class ConversationLog(VerticalScroll):
    """The scrolling log. Methods are keyed by ``turn_id`` so events can find their turn."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.can_focus = True

    def compose(self) -> ComposeResult:
        yield Static(
            "Speak when the state says Listening. Ctrl+T talks (press again to stop), "
            "Esc interrupts, F1 shows every key, Ctrl+P finds any command.",
            id="log-hint",
            markup=False,
        )

    def on_mount(self) -> None:
        self.anchor()

    def _find(self, kind: type[T], widget_id: str) -> T | None:
        results = self.query(f"#{widget_id}")
        for widget in results:
            if isinstance(widget, kind):
                return widget
        return None

    async def add_user(self, turn_id: int, at: datetime) -> UserTurn:
        turn = self._find(UserTurn, f"user-{turn_id}")
        if turn is None:
            turn = UserTurn(turn_id, at)
            turn.add_class("pending")
            await self.mount(turn)
        return turn

    async def set_user_text(self, turn_id: int, at: datetime, text: str) -> None:
        turn = await self.add_user(turn_id, at)
        turn.set_text(text)

    async def reply(self, turn_id: int, at: datetime) -> AssistantTurn:
        turn = self._find(AssistantTurn, f"reply-{turn_id}")
        if turn is None:
            turn = AssistantTurn(turn_id, at)
            await self.mount(turn)
        return turn

    async def add_translation(
        self,
        turn_id: int,
        at: datetime,
        english: str,
        original: str | None,
        language: str | None,
    ) -> None:
        user = self._find(UserTurn, f"user-{turn_id}")
        if user is not None:
            await user.remove()
        await self.mount(TranslationTurn(turn_id, at, english, original, language))

    async def add_note(self, text: str, *, classes: str = "") -> None:
        await self.mount(NoteTurn(text, classes=f"note {classes}".strip(), markup=False))

    def transcript(self) -> str:
        """The conversation as plain text (markdown kept), for the clipboard."""
        blocks = []
        for turn in self.query(".turn"):
            if isinstance(turn, UserTurn) and turn.text:
                blocks.append(f"You ({_clock(turn.at)}): {turn.text}")
            elif isinstance(turn, AssistantTurn) and turn.text:
                blocks.append(f"Assistant ({_clock(turn.at)}): {turn.text}")
            elif isinstance(turn, TranslationTurn):
                original = f"{turn.original}\n" if turn.original else ""
                blocks.append(f"Translation ({_clock(turn.at)}): {original}{turn.english}")
        return "\n\n".join(blocks)

    def user_turns(self) -> list[UserTurn]:
        return list(self.query(UserTurn))

    def replies(self) -> list[AssistantTurn]:
        return list(self.query(AssistantTurn))
