"""The ``voiceloop`` command.

Each subcommand lives in its own module under ``voiceloop.cli`` and exposes
``register(subparsers)``, which adds its parser(s) with ``set_defaults(handler=run)``;
``run(args) -> int`` does the work. Modules import only the standard library at module
level: ``voiceloop --help`` must not pull in numpy, httpx or Textual.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMAND_MODULES = [
    # Order is the order in --help.
    "run",
    "devices",
    "history",
    "retry",
    "export",
    "forget",
]


def build_parser() -> argparse.ArgumentParser:
    from voiceloop import __version__

    parser = argparse.ArgumentParser(
        prog="voiceloop",
        description="A voice assistant in the terminal: converse, dictate and translate by voice.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"voiceloop {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="more detail on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"voiceloop.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    return int(handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
