"""Textual messages that carry engine news into the widget tree."""

from __future__ import annotations

from textual.message import Message

from voiceloop.events import Event


class EngineEvent(Message, bubble=False):
    """One engine event, delivered in order to the app."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class LevelChanged(Message, bubble=False):
    """A microphone level for the meter. A newer one replaces any still queued."""

    def __init__(self, level_db: float) -> None:
        super().__init__()
        self.level_db = level_db

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LevelChanged)
