"""``voiceloop converse | dictate | translate``: the three modes, in the TUI or headless."""

from __future__ import annotations

import argparse
from typing import Any

MODES = {
    "converse": (
        "talk with the assistant: it listens, answers aloud, and can be interrupted",
        """examples:
  voiceloop converse                      open the TUI in converse mode
  voiceloop converse --headless           talk through the default microphone and speaker
  voiceloop converse --headless --input question.wav --output reply.wav
  voiceloop converse --headless --turns 3 --metrics latency.jsonl""",
    ),
    "dictate": (
        "speech to text: what you say is printed, appended to a file or copied",
        """examples:
  voiceloop dictate                       open the TUI in dictate mode
  voiceloop dictate --headless --input memo.wav > memo.txt
  voiceloop dictate --headless --append notes.txt --cleanup""",
    ),
    "translate": (
        "speech in any language to English text (optionally spoken)",
        """examples:
  voiceloop translate                     open the TUI in translate mode
  voiceloop translate --headless --input interview.mp3 --original
  voiceloop translate --headless --speak""",
    ),
}


EPILOG_TAIL = (
    "\n\nHeadless: events go to stderr, text to stdout; exit status 1 if a turn failed."
    "\nWith a file as input the run ends when the file is used up and its last turn is done."
)


def register(sub: Any) -> None:
    for mode, (summary, examples) in MODES.items():
        if mode == "translate":
            continue  # shares `voiceloop translate` with file translation (transcribe_cmd)
        parser = sub.add_parser(
            mode,
            help=summary,
            description=summary[0].upper() + summary[1:] + ".",
            epilog=examples + EPILOG_TAIL,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        add_mode_arguments(parser, mode)
        parser.set_defaults(handler=run, mode=mode)


def add_mode_arguments(parser: argparse.ArgumentParser, mode: str, *, output: bool = True) -> None:
    """The options of a mode run; ``output=False`` when the parser has its own ``--output``."""
    parser.add_argument(
        "--headless", action="store_true", help="run without the TUI (events on stderr)"
    )
    parser.add_argument(
        "--input", metavar="DEVICE|FILE", help="audio file to read, or input device"
    )
    if output:
        parser.add_argument(
            "--output", metavar="DEVICE|FILE", help="WAV file to write, or output device"
        )
    parser.add_argument("--input-device", metavar="DEVICE", help="microphone index or name")
    parser.add_argument("--output-device", metavar="DEVICE", help="speaker index or name")
    parser.add_argument("--turns", type=int, metavar="N", help="stop after N turns")
    parser.add_argument(
        "--metrics", metavar="FILE.jsonl", help="append per-turn timings as JSON lines"
    )
    if mode == "converse":
        parser.add_argument(
            "--barge-in", action="store_true", help="let your voice interrupt (headphones!)"
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


def overrides_from_args(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Settings overrides (CLI flags win over file and environment)."""
    out: dict[str, dict[str, Any]] = {}

    def put(section: str, field: str, value: Any) -> None:
        if value not in (None, False):
            out.setdefault(section, {})[field] = value

    put("audio", "input", args.input_device)
    put("audio", "output", args.output_device)
    put("audio", "barge_in", getattr(args, "barge_in", False))
    put("dictate", "output_file", getattr(args, "append", None))
    put("dictate", "clipboard", getattr(args, "clipboard", False))
    put("dictate", "cleanup", getattr(args, "cleanup", False))
    put("translate", "show_original", getattr(args, "original", False))
    put("translate", "speak", getattr(args, "speak", False))
    return out


def run(args: argparse.Namespace) -> int:
    import sys

    from voiceloop.errors import UsageError, VoiceloopError

    try:
        if args.turns is not None and args.turns < 1:
            raise UsageError("--turns must be at least 1")
        from voiceloop.config import load_settings

        settings = load_settings(overrides_from_args(args))
        if not args.headless:
            return _run_tui(args.mode, settings)
        return _run_headless(args, settings)
    except VoiceloopError as exc:
        print(f"voiceloop: {exc.title}: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def run_default(args: argparse.Namespace) -> int:
    """Bare ``voiceloop``: the TUI in converse mode, or dictate when there is no chat backend."""
    from voiceloop.cli.common import settings_from_args

    settings = settings_from_args(args)
    return _run_tui("converse" if settings.has_chat_backend() else "dictate", settings)


def _run_tui(mode: str, settings: Any) -> int:
    from voiceloop.errors import UsageError

    try:
        from voiceloop.tui import run_app
    except ImportError as exc:
        raise UsageError(
            "the terminal interface is not available in this installation",
            hint=f"run with --headless ({exc})",
        ) from exc
    return int(run_app(mode=mode, settings=settings) or 0)  # type: ignore[arg-type]


def _run_headless(args: argparse.Namespace, settings: Any) -> int:
    import asyncio
    from pathlib import Path

    from voiceloop.cli._printer import EventPrinter
    from voiceloop.engine import Engine
    from voiceloop.errors import UsageError

    if args.input and not Path(args.input).expanduser().exists() and _looks_like_path(args.input):
        raise UsageError(f"no such file: {args.input}", hint="give an audio file or a device")
    printer = EventPrinter(verbose=getattr(args, "verbose", False))
    engine = Engine.from_settings(
        settings,
        mode=args.mode,
        on_event=printer,
        input=args.input,
        output=args.output,
        metrics_path=Path(args.metrics) if args.metrics else None,
        max_turns=args.turns,
    )
    asyncio.run(_run_engine(engine))
    if printer.finished == 0 and args.input and Path(args.input).is_file():
        print(f"voiceloop: no speech found in {args.input}", file=__import__("sys").stderr)
        return 1
    return 1 if printer.failed else 0


async def _run_engine(engine: Any) -> None:
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
