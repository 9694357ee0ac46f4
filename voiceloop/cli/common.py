"""What every subcommand shares: its parser class, help layout, settings and text input.

Standard library only at module level (``voiceloop --help`` stays fast); pydantic and the
rest load when a command actually runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from voiceloop.config import Settings

CONFIG_ENV = "VOICELOOP_CONFIG"
EXIT_USAGE = 2
EXIT_NO_SPEECH = 3
"""The audio was read but held no speech: nothing failed, nothing to output."""
EXIT_INTERRUPTED = 130


class VoiceloopArgumentParser(argparse.ArgumentParser):
    """argparse with examples kept as written and usage errors in voiceloop's one-line form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"voiceloop: Bad usage: {message} — see `{self.prog} --help`\n")


def examples_epilog(examples: Iterable[tuple[str, str]]) -> str:
    """An ``examples:`` block for a parser's epilog from ``(command, what it does)`` pairs."""
    rows = list(examples)
    width = max((len(cmd) for cmd, what in rows if what and len(cmd) <= 50), default=0)
    lines = ["examples:"]
    for cmd, what in rows:
        if not what:
            lines.append(f"  {cmd}")
        elif len(cmd) <= width:
            lines.append(f"  {cmd.ljust(width)}  # {what}")
        else:
            lines += [f"  # {what}", f"  {cmd}"]
    return "\n".join(lines)


def add_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    *,
    help: str,
    description: str | None = None,
    examples: Iterable[tuple[str, str]] = (),
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """Add a subcommand parser with a description and an examples section."""
    examples = list(examples)
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=description or help[:1].upper() + help[1:] + ".",
        epilog=examples_epilog(examples) if examples else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        **kwargs,
    )
    return parser


def settings_from_args(
    args: argparse.Namespace, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Load settings (file, then env) with ``overrides`` from flags on top: later wins.

    ``overrides`` may be nested (``{"stt": {"model": m}}``) or dotted (``{"stt.model": m}``);
    ``None`` values mean "flag not given" and are dropped. The configured API keys are
    registered with the log redaction filter.
    """
    from pathlib import Path

    from voiceloop.config import load_settings
    from voiceloop.logs import add_settings_secrets

    config = getattr(args, "config", None)
    path = Path(config).expanduser() if config else None
    settings = load_settings(nest_overrides(overrides or {}), path=path)
    add_settings_secrets(settings)
    return settings


def nest_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``{"stt.model": "x", "llm": {"model": None}}`` → ``{"stt": {"model": "x"}}``."""
    result: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            value = nest_overrides(value)
            if not value:
                continue
        elif value is None:
            continue
        *parents, leaf = key.split(".")
        target = result
        for part in parents:
            target = target.setdefault(part, {})
        if isinstance(value, dict) and isinstance(target.get(leaf), dict):
            target[leaf].update(value)
        else:
            target[leaf] = value
    return result


def read_text_arg(value: str | None, *, what: str = "text", stdin: IO[str] | None = None) -> str:
    """The text of a ``TEXT|-`` argument: the value itself, or stdin for ``-`` or no value.

    Raises :class:`~voiceloop.errors.UsageError` when the text is empty or missing.
    """
    from voiceloop.errors import UsageError

    stream = sys.stdin if stdin is None else stdin
    if value is None or value == "-":
        if value is None and _is_tty(stream):
            raise UsageError(f"no {what} given", hint=f"pass the {what} or `-` to read stdin")
        try:
            text = stream.read()
        except UnicodeDecodeError as exc:
            raise UsageError(f"stdin is not valid text ({exc.reason})") from None
    else:
        text = value
    source = "stdin" if value in (None, "-") else "the argument"
    try:
        # Undecodable bytes arrive as lone surrogates (argv, or stdin under a C locale);
        # they would only fail later, deep inside a provider.
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            f"{what} from {source} is not valid UTF-8 text",
            hint="convert it to UTF-8 (e.g. with iconv) and try again",
        ) from None
    if not text.strip():
        raise UsageError(f"empty {what} from {source}", hint=f"give some {what} to work on")
    return text


def check_audio_file(path: Path, *, unchecked: Collection[str] = ()) -> None:
    """Refuse a file that is missing, empty or not audio, before any model is loaded.

    Only the header is probed (fast on any length). Suffixes in ``unchecked`` are formats a
    server may read that libsndfile cannot: they pass untouched.
    """
    from voiceloop.errors import AudioDecodeError, UsageError

    if not path.exists():
        raise UsageError(f"{path}: no such file", hint="check the path")
    if not path.is_file():
        raise UsageError(f"{path}: not a file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UsageError(f"{path}: cannot read file ({exc.strerror or exc})") from None
    if size == 0:
        raise AudioDecodeError(f"{path}: empty file (0 bytes)", hint="record or copy it again")
    if path.suffix.lower() in unchecked:
        return
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except Exception as exc:  # libsndfile reports every kind of unreadable file this way
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AudioDecodeError(
            f"{path}: cannot decode audio ({reason})",
            hint="use WAV, FLAC, OGG or MP3 (convert others with ffmpeg or sox)",
        ) from None
    if info.frames == 0:
        raise AudioDecodeError(f"{path}: contains no audio")


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
