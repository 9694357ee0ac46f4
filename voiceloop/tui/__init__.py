"""The Textual TUI: the only package that imports Textual.

``run_app`` is the entry point; ``VoiceloopApp`` the application; the seams it needs
(engine, devices, models, voices, history, config file) are described in
:mod:`voiceloop.tui.protocols`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from voiceloop.events import Mode
from voiceloop.tui.protocols import TuiDeps

if TYPE_CHECKING:
    from voiceloop.config import Settings


def run_app(mode: Mode = "converse", settings: Settings | None = None, **deps: Any) -> int:
    """Run the TUI until the user quits; returns the exit code.

    ``deps`` are the fields of :class:`TuiDeps`; with ``settings`` the missing ones
    are filled from it (see :func:`voiceloop.tui.wiring.deps_from_settings`).
    """
    from voiceloop.tui.app import VoiceloopApp
    from voiceloop.tui.wiring import deps_from_settings

    resolved = TuiDeps(**deps)
    if settings is not None:
        resolved = deps_from_settings(settings, resolved)
    result = VoiceloopApp(mode=mode, deps=resolved).run()
    return int(result or 0)


__all__ = ["TuiDeps", "run_app"]
