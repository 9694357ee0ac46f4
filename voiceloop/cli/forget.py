"""``voiceloop forget``: delete a session's (or all) text and recordings."""

from __future__ import annotations

import argparse
import sys

from voiceloop.cli._history_common import open_store, positive_int
from voiceloop.cli.common import add_command

EXAMPLES = [
    ("voiceloop forget 3", "delete session 3 (asks first)"),
    ("voiceloop forget --all --yes", "delete every session without asking"),
]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "forget",
        help="delete a session (or all history): text and audio",
        description="Delete the text and the recordings of one session, or of all history. "
        "This cannot be undone.",
        examples=EXAMPLES,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("session", nargs="?", type=positive_int, metavar="SESSION_ID")
    which.add_argument("--all", action="store_true", help="every session, job and recording")
    parser.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voiceloop.errors import UsageError

    store = open_store(writing=False)
    try:
        if args.all:
            what = f"all history ({_count(len(store.sessions()), 'session')})"
        else:
            session = store.session(args.session)
            what = f"session {session.id} ({_count(session.turn_count, 'turn')})"
        if not args.yes:
            if not sys.stdin.isatty():
                raise UsageError(
                    f"not deleting {what} without confirmation", hint="add --yes to confirm"
                )
            answer = input(f"Delete {what}, text and audio? This cannot be undone. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing deleted.")
                return 0
        if args.all:
            store.forget_all()
        else:
            store.forget_session(args.session)
    finally:
        store.close()
    print(f"Deleted {what} and the recordings.")
    return 0


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
