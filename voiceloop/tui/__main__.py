"""``python -m voiceloop.tui [--demo] [--mode MODE]``: run the TUI."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voiceloop.tui")
    parser.add_argument("--demo", action="store_true", help="use a scripted engine (no audio)")
    parser.add_argument("--mode", choices=["converse", "dictate", "translate"], default="converse")
    args = parser.parse_args(argv)
    from voiceloop.tui import run_app

    if args.demo:
        from voiceloop.tui.demo import demo_deps

        deps = demo_deps()
        return run_app(args.mode, **{f: getattr(deps, f) for f in deps.__dataclass_fields__})
    from voiceloop.tui.wiring import load_settings

    return run_app(args.mode, settings=load_settings())


if __name__ == "__main__":
    sys.exit(main())
