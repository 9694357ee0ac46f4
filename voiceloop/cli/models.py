"""``voiceloop models``: what the configured server offers."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from voiceloop.cli.common import add_command, settings_from_args

if TYPE_CHECKING:
    from voiceloop.providers.groq import GroqClient, ModelInfo

STAGES = ("llm", "stt", "translate", "tts")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "models",
        help="list the models a server offers (id, owner, context window, active)",
        description=(
            "List the models of the server a stage talks to (by default the chat stage's).\n"
            "Use it when a request fails with an unknown or decommissioned model."
        ),
        examples=[
            ("voiceloop models", "models of the chat server"),
            ("voiceloop models --stage stt", "models of the speech-to-text server"),
            ("voiceloop models --json", "the raw list as JSON"),
        ],
    )
    parser.add_argument(
        "--stage", choices=STAGES, default="llm", help="whose server to ask (default: llm)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import json

    from voiceloop.cli.remote import require_service, run_with_client

    settings = settings_from_args(args)
    section = getattr(settings, args.stage)
    require_service(settings, section, "models")

    async def work(client: GroqClient) -> list[ModelInfo]:
        return await client.models()

    models = sorted(run_with_client(settings, section, work), key=lambda m: m.id)
    out = sys.stdout
    if args.json:
        rows = [
            {"id": m.id, "owned_by": m.owned_by, "context_window": m.context_window,
             "active": m.active, **m.extra}
            for m in models
        ]  # fmt: skip
        out.write(json.dumps(rows, indent=2) + "\n")
        return 0
    table = [("ID", "OWNER", "CONTEXT", "ACTIVE")]
    for m in models:
        active = "-" if m.active is None else ("yes" if m.active else "no")
        context = "-" if m.context_window is None else str(m.context_window)
        table.append((m.id, m.owned_by or "-", context, active))
    widths = [max(len(row[i]) for row in table) for i in range(3)]
    for row in table:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)))
        out.write("  " + row[3] + "\n")
    return 0
