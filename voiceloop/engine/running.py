"""The engine's running turns: each one a task, delivered in utterance order, counted
against ``max_turns``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from voiceloop.engine.turn import Turn

log = logging.getLogger(__name__)


class RunningTurns:
    """The turn tasks of one engine run. ``on_all_done`` is called when the latest turn
    is done and none is left running (the engine is listening again)."""

    def __init__(self, max_turns: int | None, on_all_done: Callable[[], None]) -> None:
        self.max_turns = max_turns
        self._on_all_done = on_all_done
        self._tasks: dict[asyncio.Task[None], Turn] = {}
        self._last_task: asyncio.Task[None] | None = None
        self.latest: Turn | None = None
        """The turn started last (its state is the engine's)."""
        self.started = 0

    @property
    def limit_reached(self) -> bool:
        return self.max_turns is not None and self.started >= self.max_turns

    @property
    def busy(self) -> bool:
        """A turn is still running."""
        return any(not task.done() for task in self._tasks)

    def predecessor(self) -> asyncio.Task[None] | None:
        """The task a new turn delivers after (the last one, if it still runs)."""
        last = self._last_task
        return last if last is not None and not last.done() else None

    def start(self, turn: Turn) -> None:
        task = asyncio.create_task(turn.run(), name=f"turn-{turn.utterance.id}")
        self._tasks[task] = turn
        self._last_task = task
        self.latest = turn
        self.started += 1
        task.add_done_callback(self._done)

    def cancel(self, *, keep_dictation: bool = False) -> bool:
        """Cancel the running turns (but dictation ones, with ``keep_dictation``); True if
        any was running."""
        cancelled = False
        for task, turn in self._tasks.items():
            if not task.done() and not (keep_dictation and turn.mode == "dictate"):
                task.cancel()
                cancelled = True
        return cancelled

    def tasks(self) -> list[asyncio.Task[None]]:
        return list(self._tasks)

    async def wait(self) -> None:
        """Until every turn is done (turns started meanwhile too)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def _done(self, task: asyncio.Task[None]) -> None:
        turn = self._tasks.pop(task, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("turn task crashed", exc_info=task.exception())
        if turn is not None and turn is self.latest and not self.busy:
            self._on_all_done()
