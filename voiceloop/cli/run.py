"""``voiceloop converse | dictate`` (and the mode side of ``translate``), in the TUI or headless.

Without ``--headless`` they open the TUI in that mode. Bare ``voiceloop`` runs
:func:`run_default`: the TUI in converse mode, or dictate when no chat backend is configured.
:mod:`voiceloop.cli.transcribe` adds the mode options to ``voiceloop translate``, which
translates files when given FILE arguments and runs the mode otherwise.
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from voiceloop.config import Settings
    from voiceloop.engine.loop import Engine
    from voiceloop.events import Mode

HEADLESS_NOTE = (
    "Headless: events go to stderr, text to stdout; the exit status is 1 if a turn failed. "
    "With a file as input the run ends when the file is used up and its last turn is done."
)

MODES: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "converse": (
        "talk with the assistant: it listens, answers aloud, and can be interrupted",
        [
            ("voiceloop converse", "open the assistant in converse mode"),
            ("voiceloop converse --headless", "default microphone and speaker, no TUI"),
            ("voiceloop converse --headless --input q.wav --output reply.wav", "files"),
            ("voiceloop converse --headless --turns 3 --metrics latency.jsonl", "timings"),
        ],
    ),
    "dictate": (
        "speech to text: what you say is printed, appended to a file or copied",
        [
            ("voiceloop dictate", "open the assistant in dictate mode"),
            ("voiceloop dictate --headless --input memo.wav > memo.txt", "from a file"),
            ("voiceloop dictate --headless --append notes.txt --cleanup", "from the mic"),
            ("voiceloop dictate --local", "offline: the local model, no key needed"),
        ],
    ),
}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # Imported here: this module opens the microphone at launch, before the parser is built.
    from voiceloop.cli.common import add_command

    for mode, (summary, examples) in MODES.items():
        parser = add_command(sub, mode, help=summary, examples=examples)
        parser.epilog = f"{parser.epilog}\n\n{HEADLESS_NOTE}"
        add_mode_options(parser, mode)
        parser.set_defaults(handler=run, mode=mode)


def add_mode_options(parser: argparse.ArgumentParser, mode: str, *, output: bool = True) -> None:
    """The options of a mode run; ``output=False`` when the parser already has ``--output``."""
    parser.add_argument(
        "--headless", action="store_true", help="run without the TUI (logs may use stderr)"
    )
    parser.add_argument("--input", metavar="DEVICE|FILE", help="audio file to read, or a device")
    if output:
        parser.add_argument(
            "--output", metavar="DEVICE|FILE", help="WAV file to write, or a device"
        )
    parser.add_argument(
        "--realtime",
        action="store_true",
        help="play an --input file at real time, as if spoken (half-duplex, barge-in)",
    )
    parser.add_argument("--input-device", metavar="DEVICE", help="microphone index or name")
    parser.add_argument("--output-device", metavar="DEVICE", help="speaker index or name")
    parser.add_argument(
        "--local",
        action="store_true",
        help="speech to text, translation and speech on this machine ([llm] is unchanged)",
    )
    parser.add_argument("--turns", type=int, metavar="N", help="stop after N turns")
    parser.add_argument(
        "--metrics", metavar="FILE.jsonl", help="append per-turn timings as JSON lines"
    )
    if mode == "converse":
        parser.add_argument(
            "--barge-in",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="let your voice interrupt a reply (on by default: [audio] barge_in); "
            "--no-barge-in: half-duplex, it does not listen while it speaks",
        )
    if mode == "dictate":
        parser.add_argument("--append", metavar="FILE", help="append each piece to FILE")
        parser.add_argument("--clipboard", action="store_true", help="copy via OSC 52")
        parser.add_argument(
            "--cleanup", action="store_true", help="fix punctuation, drop filler words"
        )
    if mode == "translate":
        parser.add_argument(
            "--original", action="store_true", help="also show the original-language text"
        )
        parser.add_argument("--speak", action="store_true", help="read the English aloud")


def overrides_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """Settings overrides from the flags (they win over file and environment)."""
    flags = {
        "audio.input": args.input_device,
        "audio.output": args.output_device,
        "audio.barge_in": getattr(args, "barge_in", None),
        "dictate.output_file": getattr(args, "append", None),
        "dictate.clipboard": getattr(args, "clipboard", False),
        "dictate.cleanup": getattr(args, "cleanup", False),
        "translate.show_original": getattr(args, "original", False),
        "translate.speak": getattr(args, "speak", False),
        "translate.model": getattr(args, "model", None) if args.mode == "translate" else None,
    }
    if getattr(args, "local", False):
        flags.update({f"{name}.provider": "local" for name in ("stt", "translate", "tts")})
    flags = {key: value for key, value in flags.items() if value not in (None, False)}
    if getattr(args, "barge_in", None) is False:
        flags["audio.barge_in"] = False  # --no-barge-in wins over the file
    return flags


def run(args: argparse.Namespace) -> int:
    from voiceloop.cli.common import settings_from_args
    from voiceloop.errors import UsageError

    if args.turns is not None and args.turns < 1:
        raise UsageError("--turns must be at least 1")
    open_microphone_early(args)
    try:
        settings = settings_from_args(args, overrides_from_args(args))
        if not args.headless:
            return open_tui(args.mode, settings)
        return run_headless(args, settings)
    finally:
        _discard_early()


def run_default(args: argparse.Namespace) -> int:
    from voiceloop.cli.common import settings_from_args

    open_microphone_early(args)
    try:
        settings = settings_from_args(args)
        return open_tui("converse" if settings.has_chat_backend() else "dictate", settings)
    finally:
        _discard_early()


def open_microphone_early(args: argparse.Namespace) -> None:
    """Open the microphone before anything heavy is imported, so that speech said while
    the rest starts is kept (the engine takes the stream over)."""
    source = getattr(args, "input", None)
    if source and (_looks_like_path(source) or os.path.exists(os.path.expanduser(source))):
        return  # a file is read, no microphone
    from voiceloop.audio.early import guess_input_spec, open_early

    flag = source or getattr(args, "input_device", None)
    open_early(guess_input_spec(flag, getattr(args, "config", None)))


def open_microphone_for_argv(argv: list[str]) -> None:
    """Before the command line is even built: open the microphone when ``argv`` runs a
    mode or the bare TUI (a few options are read here; the real parse comes after)."""
    if {"-h", "--help", "--version"} & set(argv):
        return
    early = argparse.ArgumentParser(add_help=False)
    for option in ("--input", "--input-device", "--config", "--output", "--output-device"):
        early.add_argument(option)
    try:
        known, rest = early.parse_known_args(argv)
    except SystemExit:
        return
    words = [word for word in rest if not word.startswith("-")]
    if words and words[0] not in MODES and words[0] != "translate":
        return
    if words[1:] and words[0] == "translate":
        return  # translating files
    open_microphone_early(known)


def _discard_early() -> None:
    from voiceloop.audio.early import discard_early

    discard_early()


def open_tui(mode: Mode, settings: Settings) -> int:
    from voiceloop.tui import run_app

    return int(run_app(mode=mode, settings=settings) or 0)


def run_headless(args: argparse.Namespace, settings: Settings) -> int:
    import asyncio
    import sys
    from pathlib import Path

    from voiceloop.cli._printer import EventPrinter
    from voiceloop.errors import UsageError

    source = args.input
    if source and not Path(source).expanduser().exists() and _looks_like_path(source):
        raise UsageError(f"no such file: {source}", hint="give an audio file or a device")
    if source and Path(source).expanduser().is_file():
        from voiceloop.cli.common import check_audio_file

        # Before any model loads: a bad file fails at once, with nothing to shut down.
        check_audio_file(Path(source).expanduser())
    from voiceloop.session.engine import engine_from_settings

    printer = EventPrinter(verbose=bool(getattr(args, "verbose", False)))
    engine = engine_from_settings(
        settings,
        mode=args.mode,
        on_event=printer,
        input=source,
        output=args.output,
        metrics_path=Path(args.metrics) if args.metrics else None,
        max_turns=args.turns,
        realtime_file=args.realtime,
    )
    asyncio.run(_run_engine(engine))
    if printer.finished == 0 and source and Path(source).expanduser().is_file():
        from voiceloop.cli.common import EXIT_NO_SPEECH

        print(f"voiceloop: no speech found in {source}", file=sys.stderr)
        return EXIT_NO_SPEECH
    return 1 if printer.failed else 0


async def _run_engine(engine: Engine) -> None:
    import asyncio
    import contextlib
    import signal

    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, engine.stop)
        loop.add_signal_handler(signal.SIGTERM, engine.stop)
    try:
        await engine.run()
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)


def _looks_like_path(spec: str) -> bool:
    return "/" in spec or "." in spec.rsplit("/", 1)[-1]
