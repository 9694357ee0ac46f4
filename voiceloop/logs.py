"""Logging: a rotating file in the user's log dir, stderr only when asked, keys never written.

``setup_logging(verbose, console=...)`` is called once by the CLI. Headless commands pass
``console=True`` so ``--verbose`` mirrors the log to stderr; the TUI passes ``console=False``:
nothing may write to the terminal under a full-screen app.

Every handler carries a :class:`RedactingFilter`, which replaces anything that looks like an
API key (``gsk_…``, ``sk-…``, ``Bearer …``) and every key value registered with
:func:`add_secret` (the CLI registers the configured keys) by ``**********``, in messages,
arguments and tracebacks alike.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
from collections.abc import Iterable
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOGGER_NAME = "voiceloop"
HANDLER_NAME = "voiceloop"  # marks the handlers setup_logging installed
LOG_FILE_NAME = "voiceloop.log"
LOG_DIR_ENV = "VOICELOOP_LOG_DIR"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
REDACTED = "**********"

# Well-known key shapes (Groq, OpenAI-style and similar prefixed tokens), bearer tokens
# and labelled values (Authorization: …, api_key=…, "x-api-key": "…").
_KEY_PATTERNS = re.compile(
    r"\b(?:gsk|sk|xai|pk|rk)[-_][A-Za-z0-9_\-]{8,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]+"
    r"|(?i:(?:(?:x-)?api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?)"
    r"(?:(?i:bearer)\s+)?[^\s\"',}]{8,}"
)
_LABEL = re.compile(
    r"(?i:(?:(?:x-)?api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?|bearer\s+)"
)
_PREFIX = re.compile(r"(?:gsk|sk|xai|pk|rk)[-_]")
_secrets: set[str] = set()
_log_file: Path | None = None


def log_dir() -> Path:
    """Where log files go: ``$VOICELOOP_LOG_DIR`` or the platform's user log dir."""
    override = os.environ.get(LOG_DIR_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_log_dir

    return Path(user_log_dir("voiceloop", appauthor=False))


def log_file() -> Path | None:
    """The file :func:`setup_logging` writes to, or ``None`` when it could not open one."""
    return _log_file


def add_secret(value: object) -> None:
    """Redact this exact value (a ``str`` or ``SecretStr``) from every log record from now on."""
    if value is None:
        return
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    # Very short values would redact ordinary words; real keys are long.
    if len(raw) >= 6:
        _secrets.add(raw)


def configured_secrets(settings: object) -> list[str]:
    """Every API key in a ``Settings`` (top level and per section), as plain strings."""
    found: list[str] = []

    def add(value: object) -> None:
        reveal = getattr(value, "get_secret_value", None)
        if reveal is not None and reveal():
            found.append(reveal())

    for name in getattr(type(settings), "model_fields", ()):
        value = getattr(settings, name, None)
        add(value)
        for field in getattr(type(value), "model_fields", ()):
            add(getattr(value, field, None))
    return found


def add_settings_secrets(settings: object) -> None:
    """Register every API key in a ``Settings`` (top level and per stage)."""
    for secret in configured_secrets(settings):
        add_secret(secret)


def redact(text: str, *, secrets: Iterable[str] = (), mask: str = REDACTED) -> str:
    """``text`` with API keys replaced by ``mask``: every registered secret, every one of
    ``secrets`` (exact strings) and anything shaped like a key."""
    for secret in sorted({*_secrets, *(s for s in secrets if s)}, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, mask)
    return _KEY_PATTERNS.sub(lambda match: _redact_match(match, mask), text)


def _redact_match(match: re.Match[str], mask: str) -> str:
    found = match.group(0)
    # Keep the prefix or label ("gsk_", "Bearer ", "api_key=") to say what was there.
    label = _PREFIX.match(found) or _LABEL.match(found)
    return (label.group(0) if label else "") + mask


class RedactingFilter(logging.Filter):
    """Rewrites each record so that no handler can write a key, whatever its formatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not lose the record
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """A rotating file whose every generation is created readable by the user only."""

    def _open(self) -> io.TextIOWrapper:
        # Appending always: a rotating handler (maxBytes > 0) never truncates.
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(fd, "a", encoding=self.encoding, errors=self.errors)


def is_voiceloop_handler(handler: logging.Handler) -> bool:
    """Whether :func:`setup_logging` installed ``handler``."""
    return handler.get_name() == HANDLER_NAME


def setup_logging(verbose: bool, *, console: bool) -> Path | None:
    """Send all logging to the log file; returns that file (``None`` if it is unusable).

    The handlers sit on the root logger, so records of libraries and Python warnings land in
    the same file, and nothing falls through to Python's last-resort stderr output.
    ``verbose`` lowers voiceloop's level to DEBUG and, with ``console``, mirrors records to
    stderr. Calling it again replaces the handlers it installed before.
    """
    global _log_file
    root = logging.getLogger()
    for handler in list(root.handlers):
        if is_voiceloop_handler(handler):
            root.removeHandler(handler)
            handler.close()
    root.setLevel(logging.WARNING)
    logging.getLogger(LOGGER_NAME).setLevel(logging.DEBUG if verbose else logging.INFO)
    # Request lines (method, URL, status) help when a service misbehaves; headers do not.
    logging.getLogger("httpx").setLevel(logging.INFO if verbose else logging.WARNING)
    logging.captureWarnings(True)
    redacting = RedactingFilter()

    file_handler, _log_file = _open_log_file()
    file_handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)-7s %(name)s: %(message)s")
    )
    handlers = [file_handler]
    if console and verbose:
        stderr_handler = logging.StreamHandler(sys.stderr)
        stderr_handler.setFormatter(
            logging.Formatter("voiceloop: %(levelname)s %(name)s: %(message)s")
        )
        handlers.append(stderr_handler)
    for handler in handlers:
        handler.addFilter(redacting)
        handler.set_name(HANDLER_NAME)
        root.addHandler(handler)
    return _log_file


def _open_log_file() -> tuple[logging.Handler, Path | None]:
    directory = log_dir()
    try:
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True)
            directory.chmod(0o700)  # mkdir's mode is subject to the umask
        path = directory / LOG_FILE_NAME
        handler = _PrivateRotatingFileHandler(
            path,
            maxBytes=MAX_BYTES,
            backupCount=BACKUP_COUNT,
            encoding="utf-8",
            delay=True,
            errors="backslashreplace",  # a file name in another encoding is still logged
        )
    except OSError:
        # Logging must never stop the program; a NullHandler also keeps Python's
        # last-resort handler from printing records on the terminal.
        return logging.NullHandler(), None
    return handler, path
