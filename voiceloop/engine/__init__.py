"""The voice loop: listening, turns, barge-in, the three modes, metrics.

Pure asyncio; no Textual, no concrete provider. ``Engine`` is imported lazily so that
``import voiceloop.engine`` stays cheap for the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiceloop.engine.loop import Engine
    from voiceloop.engine.services import StageSet

__all__ = ["Engine", "StageSet"]


def __getattr__(name: str) -> Any:
    if name == "Engine":
        from voiceloop.engine.loop import Engine

        return Engine
    if name == "StageSet":
        from voiceloop.engine.services import StageSet

        return StageSet
    raise AttributeError(name)
