"""The TOML config file as the TUI edits it: merge updates, validate, write with mode 0600."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import SecretStr

from voiceloop.errors import ConfigError


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    return value


class TomlConfigFile:
    """A ``ConfigFileLike`` over one TOML file. ``None`` values remove the key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _document(self) -> tomlkit.TOMLDocument:
        try:
            return tomlkit.parse(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return tomlkit.document()
        except (OSError, tomlkit.exceptions.ParseError) as error:
            raise ConfigError(
                f"Cannot read {self.path}: {error}", hint="Fix or remove the file."
            ) from None

    def load(self) -> dict[str, dict[str, Any]]:
        return {
            name: dict(table)
            for name, table in self._document().unwrap().items()
            if isinstance(table, dict)
        }

    def merged(self, updates: Mapping[str, Mapping[str, Any]]) -> tomlkit.TOMLDocument:
        document = self._document()
        for section, fields in updates.items():
            table = document.get(section)
            if table is None:
                table = tomlkit.table()
                document[section] = table
            for name, value in fields.items():
                value = _plain(value)
                if value is None:
                    table.pop(name, None)
                else:
                    table[name] = value
        return document

    def validate(self, updates: Mapping[str, Mapping[str, Any]]) -> None:
        """Check the merged file against the Settings model, when it is available."""
        try:
            from voiceloop.config import Settings  # type: ignore[attr-defined]
        except ImportError:
            return
        from pydantic import ValidationError

        data = self.merged(updates).unwrap()
        try:
            Settings.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            hint = "Correct the value and save again."
            raise ConfigError(f"{where}: {first['msg']}", hint=hint) from None

    def save(self, updates: Mapping[str, Mapping[str, Any]]) -> None:
        """Merge, validate and write atomically; the file is only ever readable by its owner."""
        self.validate(updates)
        text = tomlkit.dumps(self.merged(updates))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".config-", dir=self.path.parent)
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as file:
                    file.write(text)
                os.replace(tmp, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as error:
            raise ConfigError(
                f"Cannot write {self.path}: {error.strerror}",
                hint="Check the folder's permissions.",
            ) from None
