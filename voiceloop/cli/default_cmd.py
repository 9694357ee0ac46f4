"""``voiceloop run``, the command bare ``voiceloop`` runs: open the assistant.

Converse mode when a chat backend is configured, dictate otherwise. Listed in
``COMMAND_MODULES`` once the TUI is part of the installation.
"""

from __future__ import annotations

from typing import Any

from voiceloop.cli.common import add_command


def register(sub: Any) -> None:
    parser = add_command(
        sub,
        "run",
        help="open the assistant (what bare `voiceloop` does)",
        description="Open the assistant: converse mode, or dictate when no chat backend is set.",
        examples=[("voiceloop run", "the same as plain `voiceloop`")],
    )
    parser.set_defaults(handler=run_default, console_log=False)


def run_default(args: Any) -> int:
    from voiceloop.cli.common import settings_from_args
    from voiceloop.cli.run import open_tui

    settings = settings_from_args(args)
    return open_tui("converse" if settings.has_chat_backend() else "dictate", settings)
