"""``voiceloop retry``: transcribe kept recordings again, to complete failed or cut turns."""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from voiceloop.cli._history_common import open_store, positive_int
from voiceloop.cli.common import add_command, settings_from_args

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.config_sections import StageSection
    from voiceloop.frames import Task, Utterance
    from voiceloop.session.builder import Session
    from voiceloop.stages import Responder, Transcriber
    from voiceloop.store import JobRow, Store, TurnRow

EXAMPLES = [
    ("voiceloop retry 12", "transcribe turn 12's recording again"),
    ("voiceloop retry --all-failed", "every failed or crash-interrupted turn and job"),
    ("voiceloop retry 12 --provider local", "transcribe on this machine (no network)"),
    ("voiceloop retry 12 --llm-provider local", "converse turns: ask the assistant locally"),
    ("voiceloop retry --job 3 -o talk.srt", "finish a long transcription, write subtitles"),
]


@dataclass
class _Stages:
    """The stages the retried turns share, each built on first need."""

    transcribers: dict[str, Transcriber] = field(default_factory=dict)
    """By task ("transcribe", "translate")."""
    responder: Responder | None = None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "retry",
        help="transcribe kept recordings again (failed or unfinished turns)",
        description="Transcribe a turn's kept recording again and store the result; "
        "completes turns that failed or were cut short by a crash, and long-file "
        "transcriptions whose chunks failed.",
        examples=EXAMPLES,
    )
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("turn", nargs="?", type=positive_int, metavar="TURN_ID")
    which.add_argument(
        "--all-failed", action="store_true", help="every failed or unfinished turn and job"
    )
    which.add_argument("--job", type=positive_int, metavar="ID", help="one long transcription")
    parser.add_argument("--provider", help="speech-to-text provider to use (default: config)")
    parser.add_argument("--model", help="speech-to-text model to use (default: config)")
    parser.add_argument(
        "--reask",
        action="store_true",
        help="kept for scripts: converse turns always get a new reply",
    )
    parser.add_argument(
        "--llm-provider", help="chat provider for converse turns' replies (default: config)"
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="with --job: write the finished transcript here (.srt, .vtt, .json or text); "
        "default stdout",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    settings = settings_from_args(args)
    store = open_store(settings)
    try:
        turns, jobs = _chosen(store, args)
        if not turns and not jobs:
            print("Nothing to retry: no failed or unfinished turns with kept audio.")
            return 0
        failures = asyncio.run(_retry(store, turns, jobs, settings, args))
    finally:
        store.close()
    return 1 if failures else 0


def _has_audio(turn: TurnRow) -> bool:
    return turn.audio_path is not None and turn.audio_path.exists()


def _retryable(turn: TurnRow) -> bool:
    """Its recording is kept, or (converse) its words are, to ask the question again."""
    return _has_audio(turn) or (turn.mode == "converse" and bool((turn.transcript or "").strip()))


def _chosen(store: Store, args: argparse.Namespace) -> tuple[list[TurnRow], list[JobRow]]:
    from voiceloop.errors import UsageError

    if args.all_failed:
        turns = [t for t in store.turns(failed=True, unfinished=True) if _retryable(t)]
        # A job still "running" may belong to a live `transcribe`: only --job takes those.
        return turns, [j for j in store.jobs(unfinished=True) if j.status == "failed"]
    if args.job is not None:
        return [], [store.job(args.job)]  # a finished one is just written out again
    turn = store.turn(args.turn)
    if turn.in_progress:
        raise UsageError(f"turn {turn.id} is still in progress in a running voiceloop")
    if not _retryable(turn):
        raise UsageError(
            f"turn {turn.id} has no kept recording to transcribe",
            hint="recordings are deleted by `forget` and by the [store] keep_audio setting",
        )
    return [turn], []


async def _retry(
    store: Store,
    turns: list[TurnRow],
    jobs: list[JobRow],
    settings: Settings,
    args: argparse.Namespace,
) -> int:
    from voiceloop.errors import VoiceloopError
    from voiceloop.session.builder import Session

    failures = 0
    async with Session(settings) as session:
        stages = _Stages()
        for turn in turns:
            try:
                text = await _retry_turn(store, turn, args, session, stages)
            except VoiceloopError as exc:
                failures += 1
                line = store.redact(exc.one_line())
                store.update_turn(turn.id, status="failed", error=line)
                print(f"turn {turn.id}: failed — {line}", file=sys.stderr)
            else:
                print(f"turn {turn.id}: {text}")
        if jobs:
            from voiceloop.cli._retry_jobs import retry_jobs

            failures += await retry_jobs(store, jobs, args, session)
    return failures


async def _retry_turn(
    store: Store,
    turn: TurnRow,
    args: argparse.Namespace,
    session: Session,
    stages: _Stages,
) -> str:
    from voiceloop.session.builder import section_for
    from voiceloop.stages import StageReport, reset_current_report, set_current_report

    if turn.mode == "converse" and not _has_audio(turn):  # the words were kept, not the audio
        return await _answer(store, turn, turn.transcript or "", session, stages, args)
    task: Task = "translate" if turn.mode == "translate" else "transcribe"
    section = section_for(
        session.settings, "translate" if task == "translate" else "stt", args.provider, args.model
    )
    if task not in stages.transcribers:
        stages.transcribers[task] = session.create("transcriber", section)
    utterance = _utterance(turn)
    report = StageReport()
    token = set_current_report(report)
    try:
        transcript = await stages.transcribers[task].transcribe(utterance, task=task)
    finally:
        reset_current_report(token)
    provider = transcript.provider or report.providers.get("transcriber") or section.provider
    converse = turn.mode == "converse"
    fields: dict[str, Any] = {
        # A converse turn is done only once answered: until then it stays failed.
        "status": "failed" if converse else "transcribed",
        "error": None,
        "providers": {"stt": provider},
        "models": {"stt": transcript.model or getattr(section, "model", None)},
        "local": transcript.local,
        "language": transcript.language,
    }
    fields["translation" if task == "translate" else "transcript"] = transcript.text
    if report.usage:
        fields["usage"] = report.usage
    if converse:
        fields["error"] = "not answered yet — `voiceloop retry` asks again"
    store.update_turn(turn.id, **fields)  # the words are safe before anything else is tried
    if converse:
        return await _answer(store, turn, transcript.text, session, stages, args)
    return str(transcript.text)


async def _answer(
    store: Store,
    turn: TurnRow,
    text: str,
    session: Session,
    stages: _Stages,
    args: argparse.Namespace,
) -> str:
    """Ask the assistant the turn's question again; the turn is answered only if it replies."""
    from voiceloop.session.builder import section_for

    if not text.strip():
        store.update_turn(turn.id, status="dropped", error=None)  # nothing was said to answer
        return text
    section = section_for(session.settings, "llm", args.llm_provider)
    reply = await _reask(text, section, session, stages)
    store.update_turn(
        turn.id,
        reply=reply,
        reply_heard=None,
        status="answered",
        error=None,
        providers={"llm": section.provider},
        models={"llm": getattr(section, "model", None)},
    )
    return f"{text}\n  → {reply}"


async def _reask(text: str, section: StageSection, session: Session, stages: _Stages) -> str:
    from voiceloop.frames import Message

    if stages.responder is None:
        stages.responder = session.create("responder", section)
    messages = []
    system = getattr(section, "system_prompt", None)
    if system:
        messages.append(Message("system", system))
    messages.append(Message("user", text))
    parts = [delta async for delta in stages.responder.respond(messages)]
    return "".join(parts)


def _utterance(turn: TurnRow) -> Utterance:
    """The kept FLAC as an Utterance (the same bytes are uploaded, not re-encoded)."""
    import io

    import soundfile

    from voiceloop.errors import AudioDecodeError
    from voiceloop.frames import Utterance

    assert turn.audio_path is not None
    try:
        flac = turn.audio_path.read_bytes()
        pcm, rate = soundfile.read(io.BytesIO(flac), dtype="int16", always_2d=False)
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        raise AudioDecodeError(
            f"cannot read the recording of turn {turn.id}: {exc}",
            hint=str(turn.audio_path),
        ) from exc
    if pcm.ndim > 1:
        pcm = pcm[:, 0]
    return Utterance(
        pcm=pcm,
        start=0.0,
        end=len(pcm) / rate,
        speech_fraction=1.0,
        flac=flac,
        sample_rate=rate,
    )
