"""The running app, typed as the one app voiceloop's screens and commands run in."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.app import App

    from voiceloop.tui.app import VoiceloopApp


def voiceloop_app(app: App[object]) -> VoiceloopApp:
    """``app`` as the :class:`VoiceloopApp` it is.

    Textual types every node's ``app`` as ``App[object]``; the screens and the command
    provider are only ever mounted by :class:`VoiceloopApp`, so this is the one cast.
    """
    return cast("VoiceloopApp", app)
