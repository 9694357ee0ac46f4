"""``python -m voiceloop.tui [--demo] [--mode MODE]``: run the TUI."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voiceloop.tui")
    parser.add_argument("--demo", action="store_true", help="use a scripted engine (no audio)")
    parser.add_argument("--mode", choices=["converse", "dictate", "translate"], default="converse")
    parser.add_argument("--input", metavar="DEVICE|FILE", help="audio file or input device")
    parser.add_argument("--output", metavar="DEVICE|FILE", help="WAV file or output device")
    args = parser.parse_args(argv)
    from voiceloop.tui import run_app

    if args.demo:
        from voiceloop.tui.demo import demo_deps

        deps = demo_deps()
        return run_app(args.mode, **{f: getattr(deps, f) for f in deps.__dataclass_fields__})
    from voiceloop.config import load_settings
    from voiceloop.errors import VoiceloopError

    audio = {k: v for k, v in (("input", args.input), ("output", args.output)) if v is not None}
    try:
        settings = load_settings({"audio": audio} if audio else None)
    except VoiceloopError as error:
        print(f"voiceloop: {error.one_line()}", file=sys.stderr)
        return error.exit_code
    return run_app(args.mode, settings=settings)


if __name__ == "__main__":
    sys.exit(main())
