"""``voiceloop translate`` as a mode: the TUI or a headless run when no FILE is given.

``voiceloop translate FILE...`` translates audio files (registered by ``transcribe_cmd``);
this module, listed after it, adds the mode's options to that same command and sends a
run without files to the engine, so one command name serves both.
"""

from __future__ import annotations

import argparse
from typing import Any

from voiceloop.cli.common import add_command, examples_epilog
from voiceloop.cli.run import HEADLESS_NOTE, add_mode_options
from voiceloop.cli.run import run as run_mode

SUMMARY = "translate speech to English: live (TUI or headless) or audio files"
EXAMPLES = [
    ("voiceloop translate", "open the assistant in translate mode"),
    ("voiceloop translate --headless --original", "live, with the original text"),
    ("voiceloop translate --headless --input talk.wav --speak --output en.wav", "spoken"),
]


def register(sub: Any) -> None:
    parser = sub.choices.get("translate")
    file_handler = None
    if parser is None:
        parser = add_command(sub, "translate", help=SUMMARY, examples=EXAMPLES)
        parser.add_argument("files", nargs="*", metavar="FILE", help=argparse.SUPPRESS)
    else:
        file_handler = parser.get_default("handler")
        for action in parser._actions:  # FILE becomes optional: none means the live mode
            if action.dest == "files":
                action.nargs = "*"
                action.required = False
                action.default = []
        live = examples_epilog(EXAMPLES).replace("examples:", "live:", 1)
        parser.epilog = f"{parser.epilog or ''}\n\n{live}"
        for choice in getattr(sub, "_choices_actions", []):  # the line in `voiceloop --help`
            if choice.dest == "translate":
                choice.help = SUMMARY
    parser.epilog = f"{parser.epilog}\n\nWithout FILE: the live mode. {HEADLESS_NOTE}"
    has_output = any("--output" in a.option_strings for a in parser._actions)
    add_mode_options(parser, "translate", output=not has_output)
    parser.set_defaults(handler=_dispatch(file_handler), mode="translate", console_log=False)


def _dispatch(file_handler: Any) -> Any:
    def handler(args: argparse.Namespace) -> int:
        from voiceloop.errors import UsageError

        if getattr(args, "files", None):
            if file_handler is None:
                raise UsageError("translating files is not available in this installation")
            if args.headless or args.input:
                raise UsageError("give audio FILEs or --input/--headless, not both")
            args.console_log = True
            return int(file_handler(args) or 0)
        return run_mode(args)

    return handler
