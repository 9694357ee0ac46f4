"""Export history as Markdown, JSON, plain text, SRT or WebVTT.

Subtitles place each turn at its time within the session: a cue ends when the turn was
captured (``created_at`` − session start) and lasts as long as the utterance. Exporting
several sessions to subtitles puts them on one timeline, from the first session's start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from voiceloop.store.rows import SessionRow, TurnRow

if TYPE_CHECKING:
    from voiceloop.store.database import Store

FORMATS: tuple[str, ...] = ("md", "json", "txt", "srt", "vtt")
_SPEAKER = {"converse": "You", "dictate": "Dictation", "translate": "Heard"}


def export_history(store: Store, fmt: str, session_ids: Sequence[int] | None = None) -> str:
    """The sessions (all when ``session_ids`` is None) in format ``fmt``."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    sessions = (
        [store.session(i) for i in session_ids] if session_ids is not None else store.sessions()
    )
    groups = [(s, store.turns(session_id=s.id)) for s in sessions]
    return {
        "md": to_markdown,
        "json": to_json,
        "txt": to_text,
        "srt": to_srt,
        "vtt": to_vtt,
    }[fmt](groups)


Groups = Sequence[tuple[SessionRow, Sequence[TurnRow]]]


def to_json(groups: Groups) -> str:
    return json.dumps(
        {"sessions": [_session_dict(s, turns) for s, turns in groups]},
        ensure_ascii=False,
        indent=2,
    )


def _session_dict(session: SessionRow, turns: Sequence[TurnRow]) -> dict[str, Any]:
    return {
        "id": session.id,
        "mode": session.mode,
        "started_at": _iso(session.started_at),
        "ended_at": _iso(session.ended_at) if session.ended_at else None,
        "turns": [_turn_dict(t) for t in turns],
    }


def _turn_dict(turn: TurnRow) -> dict[str, Any]:
    return {
        "id": turn.id,
        "mode": turn.mode,
        "created_at": _iso(turn.created_at),
        "status": "unfinished" if turn.unfinished else turn.status,
        "error": turn.error,
        "duration": turn.duration,
        "language": turn.language,
        "transcript": turn.transcript,
        "reply": turn.reply,
        "reply_heard": turn.reply_heard,
        "translation": turn.translation,
        "original": turn.original,
        "providers": turn.providers,
        "models": turn.models,
        "local": turn.local,
        "timings": turn.timings,
        "usage": turn.usage,
        "audio_path": str(turn.audio_path) if turn.audio_path else None,
    }


def to_markdown(groups: Groups) -> str:
    parts: list[str] = []
    for session, turns in groups:
        parts.append(f"# Session {session.id} — {session.mode}, {_when(session.started_at)}\n")
        for turn in turns:
            parts.append(_turn_markdown(turn))
    return "\n".join(parts).rstrip() + "\n"


def _turn_markdown(turn: TurnRow) -> str:
    clock = datetime.fromtimestamp(turn.created_at).strftime("%H:%M:%S")
    lines = [f"**{_SPEAKER.get(turn.mode, 'You')}** ({clock}): {_said(turn)}"]
    if turn.mode == "translate" and turn.original:
        lines.append(f"> {turn.original}")
    heard = turn.reply_heard if turn.reply_heard is not None else turn.reply
    if heard:
        cut = " *(interrupted)*" if turn.status == "interrupted" else ""
        lines.append(f"**Assistant**: {heard}{cut}")
    return "\n\n".join(lines) + "\n"


def to_text(groups: Groups) -> str:
    parts: list[str] = []
    for session, turns in groups:
        parts.append(f"Session {session.id} ({session.mode}, {_when(session.started_at)})")
        for turn in turns:
            parts.append(_said(turn))
            heard = turn.reply_heard if turn.reply_heard is not None else turn.reply
            if heard:
                parts.append(f"  → {heard}")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def _said(turn: TurnRow) -> str:
    if turn.text:
        return turn.text
    if turn.unfinished:
        return f"[unfinished: audio kept; `voiceloop retry {turn.id}` completes it]"
    if turn.status == "failed":
        return f"[failed: {turn.error or 'unknown error'}]"
    return "[no text]"


def cues(groups: Groups) -> list[Any]:
    """One subtitle cue per turn with text, timed within the session (see module doc)."""
    from voiceloop.text.subtitles import Cue

    if not groups:
        return []
    origin = min(s.started_at for s, _ in groups)
    result = []
    previous_end = 0.0
    for _, turns in groups:
        for turn in turns:
            if not turn.text:
                continue
            end = max(turn.created_at - origin, 0.0)
            start = max(end - (turn.duration or 0.0), previous_end)
            end = max(end, start + 0.001)
            result.append(Cue(start, end, turn.text))
            previous_end = end
    return result


def to_srt(groups: Groups) -> str:
    from voiceloop.text.subtitles import to_srt as format_srt

    return format_srt(cues(groups))


def to_vtt(groups: Groups) -> str:
    from voiceloop.text.subtitles import to_vtt as format_vtt

    return format_vtt(cues(groups))


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp).astimezone().isoformat(timespec="seconds")


def _when(stamp: float) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
