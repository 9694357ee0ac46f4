"""``voiceloop export``: history as Markdown, JSON, text, SRT or WebVTT."""

from __future__ import annotations

import argparse
import sys

from voiceloop.cli._history_common import open_store, positive_int
from voiceloop.cli.common import add_command

FORMATS = ("md", "json", "txt", "srt", "vtt")
EXAMPLES = [
    ("voiceloop export 3 --format md", "session 3 as Markdown on stdout"),
    ("voiceloop export --all --format json -o all.json", "everything, as JSON"),
    ("voiceloop export 3 --format srt -o talk.srt", "subtitles timed within the session"),
]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "export",
        help="export a session (or all) as md, json, txt, srt or vtt",
        description="Export the history of one session, or of all, to a file or stdout.",
        examples=EXAMPLES,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("session", nargs="?", type=positive_int, metavar="SESSION_ID")
    which.add_argument("--all", action="store_true", help="every session")
    parser.add_argument("--format", "-f", choices=FORMATS, required=True, help="output format")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of stdout")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voiceloop.store.export import export_history

    store = open_store(writing=False)
    try:
        ids = None if args.all else [args.session]
        text = export_history(store, args.format, ids)
    finally:
        store.close()
    if args.output in (None, "-"):
        sys.stdout.write(text)
        return 0
    from pathlib import Path

    from voiceloop.errors import UsageError

    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    print(f"Wrote {args.output}", file=sys.stderr)
    return 0
