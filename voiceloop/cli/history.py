"""``voiceloop history``: a readable list of past sessions and turns."""

from __future__ import annotations

import argparse
import shutil
import textwrap
from typing import TYPE_CHECKING

from voiceloop.cli._history_common import open_store, positive_int
from voiceloop.cli.common import add_command

if TYPE_CHECKING:
    from voiceloop.store import JobRow, SessionRow, TurnRow

EXAMPLES = [
    ("voiceloop history", "every session, oldest first"),
    ("voiceloop history --session 3", "one session"),
    ("voiceloop history --search invoice", 'turns whose text mentions "invoice"'),
    ("voiceloop history --failed", "turns that failed (audio kept: `voiceloop retry`)"),
    ("voiceloop history --unfinished", "turns cut short by a crash"),
    ("voiceloop history --last 3", "the three most recent sessions"),
    ("voiceloop history --full", "do not shorten long texts"),
]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "history",
        help="list past sessions and turns",
        description="List past sessions and turns: what you said, what was answered, "
        "what failed and can be retried.",
        examples=EXAMPLES,
    )
    parser.add_argument("--session", type=positive_int, metavar="ID", help="only this session")
    parser.add_argument("--search", metavar="TEXT", help="only turns whose text contains TEXT")
    parser.add_argument("--failed", action="store_true", help="only failed turns")
    parser.add_argument(
        "--unfinished", action="store_true", help="only turns a crash left unfinished"
    )
    parser.add_argument(
        "--last", type=positive_int, metavar="N", help="only the last N sessions shown"
    )
    parser.add_argument("--full", action="store_true", help="show long texts in full")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    store = open_store(writing=False)
    try:
        store.drop_empty_sessions()  # failed starts leave nothing to list
        if args.session is not None:
            store.session(args.session)  # unknown id: one clear line, exit 2
        turns = store.turns(
            session_id=args.session,
            search=args.search,
            failed=args.failed,
            unfinished=args.unfinished,
        )
        filtered = bool(args.search or args.failed or args.unfinished)
        sessions = {s.id: s for s in store.sessions()}
        jobs = [] if args.search or args.session else store.jobs(unfinished=True)
    finally:
        store.close()
    if args.session is not None:
        sessions = {args.session: sessions[args.session]}
    shown = _group(turns, sessions, include_empty=not filtered)
    if args.last:
        shown = shown[-args.last :]
    if not shown and not jobs:
        print("No turns match." if filtered else "No history yet.")
        return 0
    width = shutil.get_terminal_size((100, 24)).columns
    for session, session_turns in shown:
        print(_session_line(session))
        for turn in session_turns:
            print(_turn_block(turn, width, args.full))
        if not session_turns:
            print("  (no turns)")
        print()
    if jobs:
        print("Unfinished long transcriptions")
        for job in jobs:
            print(_job_line(job))
    return 0


def _job_line(job: JobRow) -> str:
    from pathlib import Path

    done = len(job.chunks) - len(job.pending)
    state = f"failed: {job.error}" if job.status == "failed" and job.error else job.status
    return (
        f"  job {job.id}  {Path(job.source_path).name}  {done}/{len(job.chunks)} chunks done"
        f"  {state} — `voiceloop retry --job {job.id}`"
    )


def _group(
    turns: list[TurnRow], sessions: dict[int, SessionRow], *, include_empty: bool
) -> list[tuple[SessionRow, list[TurnRow]]]:
    by_session: dict[int, list[TurnRow]] = {}
    for turn in turns:
        by_session.setdefault(turn.session_id, []).append(turn)
    ids = sorted(sessions) if include_empty else sorted(by_session)
    return [(sessions[i], by_session.get(i, [])) for i in ids]


def _session_line(session: SessionRow) -> str:
    from datetime import datetime

    started = datetime.fromtimestamp(session.started_at).strftime("%Y-%m-%d %H:%M")
    count = f"{session.turn_count} turn" + ("" if session.turn_count == 1 else "s")
    return f"Session {session.id} · {session.mode} · {started} · {count}"


_INDENT = 39  # width of the turn head: id, clock, length, status


def _turn_block(turn: TurnRow, width: int, full: bool) -> str:
    from datetime import datetime

    clock = datetime.fromtimestamp(turn.created_at).strftime("%H:%M:%S")
    length = f"{turn.duration:5.1f}s" if turn.duration is not None else "     "
    status = "UNFINISHED" if turn.unfinished else turn.status
    if turn.in_progress:
        status = "in progress"
    head = f"  #{turn.id:<5} {clock} {length}  {status:<12} "
    lines = _body(turn)
    out = []
    for i, text in enumerate(lines):
        prefix = head.ljust(_INDENT) if i == 0 else " " * _INDENT
        out.append(prefix + _fit(text, width - _INDENT, full, _INDENT))
    return "\n".join(out)


def _body(turn: TurnRow) -> list[str]:
    lines: list[str] = []
    if turn.text:
        lines.append(turn.text)
    if turn.mode == "translate" and turn.original:
        lines.append(f"({turn.original})")
    heard = turn.reply_heard if turn.reply_heard is not None else turn.reply
    if heard:
        lines.append("→ " + heard + (" [interrupted]" if turn.status == "interrupted" else ""))
    if turn.status == "failed":
        lines.append(f"! {turn.error or 'failed'}")
    if turn.needs_retry:
        kept = "audio kept" if turn.audio_path and turn.audio_path.exists() else "no audio"
        lines.append(f"{kept} — `voiceloop retry {turn.id}`")
    return lines or ["(no text)"]


def _fit(text: str, room: int, full: bool, indent: int) -> str:
    text = " ".join(text.split())
    room = max(room, 20)
    if not full:
        return text if len(text) <= room else text[: room - 1] + "…"
    return "\n".join(textwrap.wrap(text, room, subsequent_indent=" " * indent)) or text
