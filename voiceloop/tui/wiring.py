"""Fill the TUI's seams from a ``Settings`` object and the real engine.

Kept apart from the app so that the app and its tests see only :class:`TuiDeps`.
Anything not available (no engine yet, no store) leaves its seam empty, and the app
hides or explains the feature instead of failing.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

from voiceloop.tui.config_file import TomlConfigFile
from voiceloop.tui.protocols import Profile, TuiDeps


def load_settings() -> Any:
    """The user's Settings, or ``None`` when the config module is not available."""
    try:
        from voiceloop.config import Settings  # type: ignore[attr-defined]
    except ImportError:
        return None
    return Settings()


def default_config_path() -> Path:
    """Where the config file lives (``$VOICELOOP_CONFIG`` overrides)."""
    override = os.environ.get("VOICELOOP_CONFIG")
    if override:
        return Path(override)
    from platformdirs import user_config_path

    return user_config_path("voiceloop") / "config.toml"


def _section(settings: Any, name: str) -> Any:
    return getattr(settings, name, None)


def _field(settings: Any, section: str, name: str, default: Any = "") -> Any:
    value = getattr(_section(settings, section), name, None)
    return default if value is None else value


def has_key(settings: Any) -> bool:
    """Whether a key is configured for the chat stage (or the service needs none)."""
    stage_key = getattr(settings, "stage_key", None)
    llm = _section(settings, "llm")
    if stage_key is not None and llm is not None:
        if stage_key(llm) is not None:
            return True
    elif os.environ.get("GROQ_API_KEY"):
        return True
    # A custom server (e.g. a local one) may need no key at all.
    return bool(getattr(llm, "base_url", None))


def deps_from_settings(settings: Any, base: TuiDeps | None = None) -> TuiDeps:
    """``base`` with every unset seam filled from ``settings``."""
    base = base or TuiDeps()
    changes: dict[str, Any] = {}
    if base.profile == Profile():
        changes["profile"] = Profile(
            stt_model=str(_field(settings, "stt", "model")),
            chat_model=str(_field(settings, "llm", "model")),
            voice=str(_field(settings, "tts", "voice")),
            input_device=str(_field(settings, "audio", "input", "default")),
            output_device=str(_field(settings, "audio", "output", "default")),
        )
    if base.config is None:
        changes["config"] = TomlConfigFile(default_config_path())
    if base.engine_factory is None:
        changes["engine_factory"] = _engine_factory(settings)
    if base.dictation_file is None:
        output = _field(settings, "dictate", "output_file", None)
        changes["dictation_file"] = str(output) if output else None
    changes["has_key"] = base.has_key and has_key(settings)
    return dataclasses.replace(base, **changes)


def _engine_factory(settings: Any) -> Any:
    try:
        from voiceloop.engine import Engine  # type: ignore[attr-defined]
    except ImportError:
        return None
    build = getattr(Engine, "from_settings", None)
    if build is None:
        return None
    return lambda mode, on_event: build(settings, mode=mode, on_event=on_event)
