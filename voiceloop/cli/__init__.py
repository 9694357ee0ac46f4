"""The ``voiceloop`` command.

Each subcommand lives in its own module under ``voiceloop.cli`` and exposes
``register(subparsers)``, which adds its parser(s) with ``set_defaults(handler=run)``;
``run(args) -> int`` does the work. Logging stays off the terminal whenever the TUI owns it
(bare ``voiceloop``, or a mode without ``--headless``); any other command that takes over
the screen adds ``console_log=False`` to its defaults.

Modules import only the standard library at module level: ``voiceloop --help`` must not pull
in pydantic, numpy, httpx or Textual. Shared helpers for commands (settings with flag
overrides, ``TEXT|-`` arguments, help formatting) are in :mod:`voiceloop.cli.common`.

``main()`` is the one place errors become output: a :class:`~voiceloop.errors.VoiceloopError`
is one line on stderr and its exit code (2 bad usage or config, 1 service failure); anything
else is one line naming the log file that holds the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from voiceloop.cli.common import VoiceloopArgumentParser

# Subcommand modules, one per line; the order is the order in --help.
COMMAND_MODULES = [
    "run",
    "transcribe",
    "ask",
    "say",
    "models",
    "config",
    "devices",
    "history",
    "retry",
    "export",
    "forget",
]


DESCRIPTION = """\
A voice assistant that lives in the terminal: converse, dictate and translate by voice.

Run without a command to open the assistant. Speech-to-text, chat and speech run on
Groq by default (set GROQ_API_KEY); every stage can point at any OpenAI-compatible
server, and dictation works offline with the bundled local models."""

EXAMPLES = [
    ("voiceloop", "open the assistant"),
    ("voiceloop transcribe talk.flac", "speech to text"),
    ('voiceloop ask "What is the capital of Peru?"', "ask the chat model"),
    ('voiceloop say "Hello there" -o hi.wav', "text to speech"),
    ("voiceloop dictate --headless --input speech.wav", "dictate from a file"),
    ("voiceloop config init", "write a commented config file"),
    ("voiceloop COMMAND --help", "more about a command"),
]


def build_parser() -> VoiceloopArgumentParser:
    """The top-level parser with every registered subcommand."""
    from voiceloop.cli.common import CONFIG_ENV, VoiceloopArgumentParser, examples_epilog

    parser = VoiceloopArgumentParser(
        prog="voiceloop",
        description=DESCRIPTION,
        epilog=examples_epilog(EXAMPLES),
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log debug detail to stderr and show tracebacks of internal errors",
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help=f"config file to use (default: `voiceloop config path`; env {CONFIG_ENV})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name in COMMAND_MODULES:
        importlib.import_module(f"voiceloop.cli.{name}").register(sub)
    return parser


class _VersionAction(argparse.Action):
    """``--version``, looking the version up only when asked (package metadata is slow)."""

    def __init__(self, option_strings: list[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        print(f"voiceloop {_version()}")
        parser.exit()


def _version() -> str:
    from voiceloop import __version__

    return __version__


def _check_text(argv: Sequence[str]) -> None:
    """Bytes that are not UTF-8 arrive in argv as lone surrogates, and would fail later,
    deep inside a provider, the store or the log: refuse them here, as bad input."""
    for arg in argv:
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError:
            from voiceloop.errors import UsageError

            shown = arg.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
            raise UsageError(
                f"argument {shown!r} is not valid UTF-8 text",
                hint="pass UTF-8 text; rename a file whose name is in another encoding",
            ) from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code. Never lets a traceback reach the user."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in argv or "--verbose" in argv
    log_path: str | None = None
    try:
        _check_text(argv)
        from voiceloop.cli.run import open_microphone_for_argv

        open_microphone_for_argv(argv)
        from voiceloop.cli.common import CONFIG_ENV  # after the microphone: it takes a while

        parser = build_parser()
        args = parser.parse_args(argv)
        verbose = bool(args.verbose)
        if args.command is None:
            from voiceloop.cli.run import run_default

            args.handler = run_default
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.print_help()
            return 0
        if args.config:
            # Through the environment so that every reader of config_path() (settings
            # screens, child processes) agrees on the file.
            os.environ[CONFIG_ENV] = os.path.abspath(os.path.expanduser(args.config))
        from voiceloop.logs import setup_logging

        path = setup_logging(verbose, console=_console_is_free(args))
        log_path = str(path) if path else None
        _log_start(args)
        return int(handler(args) or 0)
    except KeyboardInterrupt:
        from voiceloop.cli.common import EXIT_INTERRUPTED

        _flush_quietly()
        print("voiceloop: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader of stdout went away (`voiceloop ... | head`): not an error worth a line.
        _silence_stdout()
        return 1
    except SystemExit as exc:  # argparse (--help, --version, usage errors) exits this way
        code = exc.code
        if code is None or isinstance(code, int):
            return code or 0
        print(f"voiceloop: {code}", file=sys.stderr)  # sys.exit("message")
        return 1
    except Exception as exc:
        return _report(exc, verbose=verbose, log_path=log_path)


def entry() -> NoReturn:
    """The ``voiceloop`` program: :func:`main`, then an exit that skips interpreter teardown.

    Native runtimes (CTranslate2, ONNX Runtime) can crash when the interpreter's final
    garbage collection tears down objects a model thread still holds, turning a clean exit
    code into SIGSEGV. By the time ``main`` returns everything voiceloop opened is closed;
    the exit handlers (model hosts, logging) run here, streams are flushed, and the process
    ends with its own code.
    """
    import atexit

    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError, OSError):
            stream.flush()
    os._exit(code)


def _report(exc: Exception, *, verbose: bool, log_path: str | None) -> int:
    import logging

    from voiceloop.errors import VoiceloopError
    from voiceloop.logs import redact

    _flush_quietly()
    if log_path is None and not _logging_ready():
        # The failure came before logging was set up (e.g. while building the parser): set
        # it up now, so the traceback lands in the file and not on the terminal.
        from voiceloop.logs import setup_logging

        try:
            path = setup_logging(verbose, console=False)
        except Exception:
            path = None
        log_path = str(path) if path else None
    logger = logging.getLogger("voiceloop.cli")
    if isinstance(exc, VoiceloopError):
        # Status, error type and request id help a bug report; the one line stays short.
        facts = [
            f"{name}={value}"
            for name in ("provider", "status", "error_type", "code", "request_id", "retry_after")
            if (value := getattr(exc, name, None)) is not None
        ]
        detail = f" [{' '.join(facts)}]" if facts else ""
        logger.info("%s: %s%s", exc.title, exc.one_line(), detail, exc_info=verbose)
        print(redact(f"voiceloop: {exc.title}: {exc.one_line()}"), file=sys.stderr)
        return exc.exit_code
    logger.error("internal error", exc_info=exc)
    where = f"details in {log_path}" if log_path else "run with --verbose for details"
    text = f"{exc}".splitlines()[0] if str(exc) else ""
    print(
        redact(f"voiceloop: internal error: {type(exc).__name__}: {text} ({where})"),
        file=sys.stderr,
    )
    if verbose:
        import traceback

        print(redact("".join(traceback.format_exception(exc))), file=sys.stderr, end="")
    return 1


def _logging_ready() -> bool:
    import logging

    from voiceloop.logs import is_voiceloop_handler

    return any(is_voiceloop_handler(h) for h in logging.getLogger().handlers)


def _console_is_free(args: argparse.Namespace) -> bool:
    """False when the TUI will own the terminal, so logging must not write to it."""
    if args.command is None:
        return False
    if getattr(args, "mode", None) and not args.headless and not getattr(args, "files", None):
        return False
    return bool(getattr(args, "console_log", True))


def _log_start(args: object) -> None:
    import logging

    logging.getLogger("voiceloop.cli").debug(
        "voiceloop %s: command %s", _version(), getattr(args, "command", None)
    )


def _flush_quietly() -> None:
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError, OSError):
        _silence_stdout()


def _silence_stdout() -> None:
    # Python flushes stdout again at exit; point it at /dev/null so that flush cannot fail.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":
    entry()
