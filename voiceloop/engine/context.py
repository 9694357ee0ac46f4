"""Conversation context: the system prompt plus past exchanges, trimmed to a budget."""

from __future__ import annotations

from dataclasses import dataclass

from voiceloop.frames import Message

INTERRUPTED_MARK = "[interrupted by the user]"


@dataclass(frozen=True, slots=True)
class Exchange:
    """One past turn: what the user said and what they actually heard back."""

    user: str
    assistant: str
    interrupted: bool = False

    def messages(self) -> list[Message]:
        reply = self.assistant
        if self.interrupted:
            # Tell the model its answer was cut off, so it does not assume it was heard.
            reply = f"{reply} {INTERRUPTED_MARK}" if reply else INTERRUPTED_MARK
        return [Message("user", self.user), Message("assistant", reply)]

    @property
    def size(self) -> int:
        return sum(len(m.content) for m in self.messages())


class Conversation:
    """History of a converse session.

    ``messages(user_text)`` returns the system prompt, as many of the most recent
    exchanges as fit in ``budget_chars`` (oldest dropped first), and the new user text.
    The system prompt and the new user text are always included, even over budget.
    """

    def __init__(self, system_prompt: str, budget_chars: int) -> None:
        self.system_prompt = system_prompt
        self.budget_chars = budget_chars
        self._history: list[Exchange] = []

    @property
    def history(self) -> tuple[Exchange, ...]:
        return tuple(self._history)

    def add(self, user: str, assistant: str, *, interrupted: bool = False) -> None:
        """Record a finished (or interrupted) exchange; ``assistant`` is what was heard."""
        self._history.append(Exchange(user, assistant, interrupted))
        self._trim_storage()

    def clear(self) -> None:
        self._history.clear()

    def messages(self, user_text: str) -> list[Message]:
        remaining = self.budget_chars - len(self.system_prompt) - len(user_text)
        kept: list[Exchange] = []
        for exchange in reversed(self._history):
            remaining -= exchange.size
            if remaining < 0:
                break
            kept.append(exchange)
        out = [Message("system", self.system_prompt)] if self.system_prompt else []
        for exchange in reversed(kept):
            out.extend(exchange.messages())
        out.append(Message("user", user_text))
        return out

    def _trim_storage(self) -> None:
        # Nothing older than the budget can ever be sent again: do not keep it forever.
        total = 0
        for index in range(len(self._history) - 1, -1, -1):
            total += self._history[index].size
            if total > self.budget_chars:
                del self._history[:index]
                return
