"""The seams between the TUI and the rest of voiceloop.

The TUI drives an engine through :class:`EngineLike` (the engine control surface) and
learns what happens only through ``voiceloop.events``. Everything else it needs to show
(devices, models, voices, history) comes through small callables or protocols handed to
:class:`TuiDeps`, so tests and the demo can supply their own.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from voiceloop.events import EngineState, Event, Mode

EventCallback = Callable[[Event], None]


@runtime_checkable
class DictationBufferLike(Protocol):
    """The engine's dictation buffer."""

    @property
    def text(self) -> str: ...

    def clear(self) -> None: ...

    def set_text(self, text: str) -> None: ...


@runtime_checkable
class EngineLike(Protocol):
    """What the TUI needs from ``voiceloop.engine.Engine``."""

    @property
    def mode(self) -> Mode: ...

    @property
    def state(self) -> EngineState: ...

    @property
    def dictation(self) -> DictationBufferLike: ...

    def set_mode(self, mode: Mode) -> None: ...

    def interrupt(self) -> object: ...

    def set_hands_free(self, on: bool) -> None: ...

    def push_to_talk(self, pressed: bool) -> None: ...

    async def run(self) -> None: ...

    def stop(self) -> None: ...


EngineFactory = Callable[[Mode, EventCallback], EngineLike]
"""Builds an engine for ``mode`` that reports every event to the callback."""


@dataclass(frozen=True, slots=True)
class DeviceChoice:
    """A sound device as a picker shows it; ``value`` is what the config stores."""

    label: str
    value: int | str | None


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """One past session, as the history screen lists it."""

    id: int | str
    started: datetime
    mode: str
    turns: int
    title: str = ""


@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One past turn: what was said and what came back."""

    id: int | str
    at: datetime
    user: str
    reply: str = ""
    status: str = ""


@runtime_checkable
class HistoryLike(Protocol):
    """Read access to the history store."""

    def sessions(self, limit: int = 100) -> Sequence[SessionSummary]: ...

    def turns(self, session_id: int | str) -> Sequence[TurnRecord]: ...


@runtime_checkable
class ConfigFileLike(Protocol):
    """Where settings changes persist (the TOML config file, mode 0600)."""

    def load(self) -> Mapping[str, Any]:
        """The current file contents as ``{section: {field: value}}`` (and top-level keys)."""
        ...

    def validate(self, updates: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` if the file with ``updates`` applied would be invalid.

        ``updates`` maps a section to ``{field: value}``, or a top-level field to its value.
        """
        ...

    def save(self, updates: Mapping[str, Any]) -> None:
        """Merge ``updates`` into the file and write it with mode 0600."""
        ...


SettingApplier = Callable[[str, str, Any], None]
"""Applies one ``(section, field, value)`` change to the running session at once."""


@dataclass(frozen=True, slots=True)
class Profile:
    """What the header/footer shows about the session's set-up."""

    stt_model: str = ""
    chat_model: str = ""
    voice: str = ""
    input_device: str = "default"
    output_device: str = "default"


def _now() -> datetime:
    return datetime.now()


@dataclass(slots=True)
class TuiDeps:
    """Everything the app gets from outside. All optional: missing pieces hide features."""

    engine_factory: EngineFactory | None = None
    list_input_devices: Callable[[], Sequence[DeviceChoice]] | None = None
    list_output_devices: Callable[[], Sequence[DeviceChoice]] | None = None
    list_models: Callable[[], Awaitable[Sequence[str]]] | None = None
    list_voices: Callable[[], Sequence[str]] | None = None
    config: ConfigFileLike | None = None
    history: HistoryLike | None = None
    apply_setting: SettingApplier | None = None
    profile: Profile = field(default_factory=Profile)
    has_key: bool = True
    local_dictation: bool = False
    """Whether dictation works without a key (a local speech-to-text engine is installed)."""
    clock: Callable[[], datetime] = _now
    """Wall clock for turn times; tests fix it so snapshots do not change."""
    dictation_file: str | None = None
    """Default path for saving dictation."""
    restart_on_change: bool = False
    """Restart the engine after a setting changes, so it is built with the new value."""
    use_key: Callable[[str], Awaitable[Profile | None]] | None = None
    """Check a pasted API key with the service (``GET /models``) and, if it is accepted,
    use it from now on (returning the set-up it gives, for the header); raises
    :class:`~voiceloop.errors.VoiceloopError` if refused."""
