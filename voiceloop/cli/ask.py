"""``voiceloop ask``: one question to the chat model, the reply printed as it streams."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from voiceloop.cli.common import add_command, read_text_arg, settings_from_args

if TYPE_CHECKING:
    from voiceloop.stages import Responder


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "ask",
        help="ask the chat model; the reply is printed as it arrives",
        examples=[
            ('voiceloop ask "What is the capital of Peru?"', ""),
            ('echo "Summarise: ..." | voiceloop ask -', "read the question from stdin"),
            ('voiceloop ask --model llama-3.3-70b-versatile "Hi"', "another model"),
            ('voiceloop ask --system "Answer in French." "Good morning"', ""),
        ],
    )
    parser.add_argument("text", nargs="?", metavar="TEXT|-", help="the question; - reads stdin")
    parser.add_argument("--model", help="chat model id (default: [llm] model)")
    parser.add_argument("--system", metavar="S", help="system prompt (default: [llm] one)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    text = read_text_arg(args.text, what="question")
    settings = settings_from_args(args, {"llm.model": args.model})
    from voiceloop.capabilities import stage_capabilities
    from voiceloop.cli.remote import require_service, run_in_session
    from voiceloop.frames import Message
    from voiceloop.session.builder import section_for

    system = {} if args.system is None else {"system_prompt": args.system}
    section = section_for(settings, "llm", extra=system)
    if stage_capabilities(section, settings).openai_api:
        require_service(settings, section, "ask")

    async def ask(responder: Responder) -> None:
        out = sys.stdout
        wrote = False
        async for delta in responder.respond([Message("user", text)]):
            out.write(delta)
            out.flush()
            wrote = True
        if wrote:
            out.write("\n")
            out.flush()

    run_in_session(settings, lambda session: ask(session.create("responder", section)))
    return 0
