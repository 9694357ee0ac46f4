"""Errors a user can act on.

Every layer maps foreign exceptions (httpx, sounddevice, sqlite3, pydantic, ...) into
this tree at its boundary, so callers above only ever see these. Each error carries a
short ``title`` (for a toast or the first words of a CLI line), a one-line message and
an optional ``hint`` saying what to do next. ``exit_code`` is what the CLI exits with.

    VoiceloopError
    ├── UsageError                 bad flags, bad input file, empty text (exit 2)
    ├── ConfigError                a bad value in the config file or env (exit 2)
    ├── InsecureTransportError     a key would be sent over plain HTTP to a remote host (exit 2)
    ├── AudioError                 anything about sound devices or audio data
    │   ├── PortAudioMissingError  the PortAudio library is not installed
    │   ├── DeviceError            no such device / no input device
    │   └── AudioDecodeError       a file that cannot be decoded as audio (exit 2)
    ├── StoreError                 the history database or data dir is unusable
    ├── LocalModelError            a local engine is missing or failed to load
    └── ProviderError              a speech/chat service failed (exit 1)
        ├── ConnectError           could not reach the server
        ├── ProviderTimeoutError   connect or read timed out
        ├── AuthenticationError    401/403: the key is wrong or lacks access
        ├── RateLimitError         429 / 498: slow down; ``retry_after`` when known
        ├── RequestTooLargeError   413: upload or text too large
        ├── BadRequestError        400/404/422: the request was refused
        │   └── ModelNotFoundError unknown or decommissioned model
        ├── ServerError            5xx
        └── StreamError            a stream ended early or reported an error mid-way

:func:`describe` turns any exception (one of these, a :class:`StageFailed` carrying one,
or a bug) into what the user is told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class VoiceloopError(Exception):
    """Base of every error voiceloop raises on purpose."""

    title: str = "Error"
    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None, title: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The message and hint as one line, for the CLI and logs."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class UsageError(VoiceloopError):
    title = "Bad input"
    exit_code = 2


class ConfigError(VoiceloopError):
    title = "Configuration error"
    exit_code = 2


class InsecureTransportError(VoiceloopError):
    title = "Refusing to send the key"
    exit_code = 2


class AudioError(VoiceloopError):
    title = "Audio error"


class PortAudioMissingError(AudioError):
    title = "PortAudio missing"


class DeviceError(AudioError):
    title = "Audio device"
    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        title: str | None = None,
        kind: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, title=title)
        self.kind = kind
        """``input`` or ``output`` when the problem is on that side, else ``None``."""


class AudioDecodeError(AudioError):
    title = "Cannot read audio"
    exit_code = 2


class StoreError(VoiceloopError):
    title = "History store"


class LocalModelError(VoiceloopError):
    title = "Local model"


class ProviderError(VoiceloopError):
    """A service failed. Carries what the server told us, minus anything secret."""

    title = "Service error"

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        title: str | None = None,
        status: int | None = None,
        error_type: str | None = None,
        code: str | None = None,
        request_id: str | None = None,
        provider: str | None = None,
    ):
        super().__init__(message, hint=hint, title=title)
        self.status = status
        self.error_type = error_type
        self.code = code
        self.request_id = request_id
        self.provider = provider


class ConnectError(ProviderError):
    title = "Connection failed"


class ProviderTimeoutError(ProviderError):
    title = "Timed out"


class AuthenticationError(ProviderError):
    title = "Key refused"


class RateLimitError(ProviderError):
    title = "Rate limited"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RequestTooLargeError(ProviderError):
    title = "Too large"


class BadRequestError(ProviderError):
    title = "Request refused"


class ModelNotFoundError(BadRequestError):
    title = "Model unavailable"


class ServerError(ProviderError):
    title = "Server error"


class StreamError(ProviderError):
    title = "Stream broken"


# -- what the user is told about any exception -------------------------------------


class StageFailed(Exception):
    """Carries the exception of one stage up to the turn, with the stage's name."""

    def __init__(self, stage: str, error: BaseException) -> None:
        super().__init__(f"{stage}: {error}")
        self.stage = stage
        self.error = error


@dataclass(frozen=True, slots=True)
class FailureInfo:
    stage: str
    title: str
    message: str
    hint: str | None
    expected: bool
    """True for a VoiceloopError; False for a bug (log its traceback)."""

    def one_line(self) -> str:
        return f"{self.message} — {self.hint}" if self.hint else self.message

    def titled(self) -> str:
        """The title, then the one line: a reason in a sentence (e.g. a fallback's)."""
        return f"{self.title}: {self.one_line()}"


def describe(exc: BaseException, stage: str = "engine") -> FailureInfo:
    """Title, message and hint for ``exc``; unknown exceptions get a generic line."""
    if isinstance(exc, StageFailed):
        return describe(exc.error, exc.stage)
    if isinstance(exc, VoiceloopError):
        return FailureInfo(stage, exc.title, exc.message, exc.hint, True)
    name = type(exc).__name__
    return FailureInfo(
        stage,
        "Unexpected error",
        f"the {stage} failed unexpectedly ({name})",
        "details are in the log file; the utterance is kept",
        False,
    )
