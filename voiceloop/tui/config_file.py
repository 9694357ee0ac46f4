"""The config file as the TUI edits it, through ``voiceloop.config_file``.

Writes keep the file's comments and layout, are validated as the file would load, and
leave it readable by its owner only (0600).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from voiceloop.config_file import check_config_update, update_config_file
from voiceloop.errors import ConfigError


class TomlConfigFile:
    """A ``ConfigFileLike`` over one TOML file. ``None`` values remove the key."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()

    def load(self) -> dict[str, Any]:
        """The file as ``{section: {field: value}}`` plus top-level fields."""
        try:
            return tomllib.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(
                f"{self.path}: cannot read ({error})", hint="fix or remove the file"
            ) from None

    def validate(self, updates: Mapping[str, Any]) -> None:
        """Raise ``ConfigError`` if the file with ``updates`` applied would not load."""
        check_config_update(self.path, updates)

    def save(self, updates: Mapping[str, Any]) -> None:
        """Merge ``updates`` into the file (validated, atomic, mode 0600)."""
        update_config_file(self.path, updates)
