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

import logging
import os
import re
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

LOGGER_NAME = "voiceloop"
LOG_FILE_NAME = "voiceloop.log"
LOG_DIR_ENV = "VOICELOOP_LOG_DIR"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 3
REDACTED = "**********"

_KEY_PATTERNS = re.compile(
    r"gsk_[A-Za-z0-9]{8,}"
    r"|\bsk-[A-Za-z0-9_\-]{8,}"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]+"
    r"|(?i:(?:api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{8,}"
)
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


def add_secret(value: Any) -> None:
    """Redact this exact value (a ``str`` or ``SecretStr``) from every log record from now on."""
    if value is None:
        return
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    # Very short values would redact ordinary words; real keys are long.
    if len(raw) >= 6:
        _secrets.add(raw)


def add_settings_secrets(settings: Any) -> None:
    """Register every API key in a ``Settings`` (top level and per stage)."""
    add_secret(getattr(settings, "groq_api_key", None))
    for name in ("stt", "translate", "llm", "tts"):
        add_secret(getattr(getattr(settings, name, None), "api_key", None))


def redact(text: str) -> str:
    """``text`` with API keys and registered secrets replaced by ``**********``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return _KEY_PATTERNS.sub(_redact_match, text)


def _redact_match(match: re.Match[str]) -> str:
    found = match.group(0)
    for prefix in ("gsk_", "sk-"):
        if found.startswith(prefix):
            return prefix + REDACTED
    # Keep the label ("Bearer ", "api_key=") so the line still says what was there.
    label = re.match(r"(?i:bearer\s+|(?:api[_-]?key|authorization)[\"']?\s*[:=]\s*[\"']?)", found)
    return (label.group(0) if label else "") + REDACTED


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

    def _open(self):  # type: ignore[no-untyped-def]
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return os.fdopen(
            fd, self.mode.replace("w", "a"), encoding=self.encoding, errors=self.errors
        )


def setup_logging(verbose: bool, *, console: bool) -> Path | None:
    """Configure the ``voiceloop`` logger; returns the log file (``None`` if unusable).

    ``verbose`` lowers the level to DEBUG and, with ``console``, mirrors records to stderr.
    Calling it again replaces the handlers it installed before.
    """
    global _log_file
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Records stop here: the root logger's handlers (or logging.lastResort) never see them,
    # so nothing reaches the terminal unless a console handler is added below.
    logger.propagate = False
    redacting = RedactingFilter()

    _log_file = None
    directory = log_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = directory / LOG_FILE_NAME
        file_handler: logging.Handler = _PrivateRotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
        )
        _log_file = path
    except OSError:
        file_handler = logging.NullHandler()
    file_handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)-7s %(name)s: %(message)s")
    )
    file_handler.addFilter(redacting)
    logger.addHandler(file_handler)

    if console and verbose:
        stderr_handler = logging.StreamHandler(sys.stderr)
        stderr_handler.setFormatter(
            logging.Formatter("voiceloop: %(levelname)s %(name)s: %(message)s")
        )
        stderr_handler.addFilter(redacting)
        logger.addHandler(stderr_handler)

    # Libraries log to their own loggers; route the useful ones through the same handlers.
    for name in ("httpx", "httpcore", "faster_whisper", "piper"):
        lib = logging.getLogger(name)
        for handler in list(lib.handlers):
            if getattr(handler, "_voiceloop", False):
                lib.removeHandler(handler)
        lib.setLevel(logging.INFO if name != "httpcore" else logging.WARNING)
        lib.propagate = False
        for handler in logger.handlers:
            handler._voiceloop = True  # type: ignore[attr-defined]
            lib.addHandler(handler)
    return _log_file
