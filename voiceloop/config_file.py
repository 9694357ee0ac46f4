"""The config file on disk: the commented default, private atomic writes, in-place updates.

- :func:`default_config_text` renders every section and field of
  :class:`~voiceloop.config.Settings` at its default, each with its description as a comment.
  Keys and fields without a default are written commented out, with an example.
- :func:`write_config_file` writes readable by the user only (0600, in a directory created
  0700) and atomically, so a crash never leaves half a file.
- :func:`update_config_file` changes a few values and keeps everything else in the file —
  comments, order, layout — and refuses a change that would not load.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import textwrap
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit
from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from tomlkit.items import Table

from voiceloop.config import SECTIONS, Settings, validate_file_data
from voiceloop.errors import ConfigError

COMMENT_WIDTH = 88
HEADER = """\
# voiceloop configuration (TOML).
#
# Values are read from this file, then from environment variables, then from
# command-line flags; later wins. Environment variables: GROQ_API_KEY, GROQ_BASE_URL,
# and VOICELOOP_<SECTION>__<FIELD> for everything else (VOICELOOP_LLM__MODEL=...).
# A line starting with '#' is a comment: remove the '#' to set that value.
# `voiceloop config show` prints what is in effect.
"""


def default_config_text() -> str:
    """The commented default config file, generated from the settings model."""
    parts = [HEADER]
    for name, field in Settings.model_fields.items():
        if name in SECTIONS:
            continue
        parts.append(_field_lines(name, field))
    for name, model in SECTIONS.items():
        lines: list[str] = []
        if model.__doc__:
            lines.extend(_comment(_first_paragraph(model.__doc__)))
        lines.append(f"[{name}]")
        text = "\n".join(lines) + "\n"
        parts.append(text + "".join(_field_lines(n, f) for n, f in model.model_fields.items()))
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def _field_lines(name: str, field: FieldInfo) -> str:
    lines = _comment(field.description or "")
    allowed = _allowed_values(field.annotation)
    if allowed:
        lines.extend(_comment("One of: " + ", ".join(allowed) + "."))
    default = field.get_default(call_default_factory=True)
    if _is_secret(field.annotation) or default is None:
        example = (field.examples or [None])[0]
        shown = toml_value(example) if example is not None else '""'
        lines.append(f"# {name} = {shown}")
    else:
        lines.append(f"{name} = {toml_value(default)}")
    return "\n".join(lines) + "\n"


def _comment(text: str) -> list[str]:
    if not text:
        return []
    return [
        "# " + line
        for line in textwrap.wrap(" ".join(text.split()), COMMENT_WIDTH - 2, break_on_hyphens=False)
    ]


def _first_paragraph(doc: str) -> str:
    return doc.strip().split("\n\n")[0]


def _allowed_values(annotation: Any) -> list[str]:
    values: list[str] = []
    for arg in _flatten(annotation):
        if typing.get_origin(arg) is typing.Literal:
            values.extend(toml_value(v) for v in typing.get_args(arg))
    return values


def _is_secret(annotation: Any) -> bool:
    return any(arg is SecretStr for arg in _flatten(annotation))


def _flatten(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [a for arg in typing.get_args(annotation) for a in _flatten(arg)]
    return [annotation]


def toml_value(value: Any) -> str:
    """``value`` as it is written after ``name = `` in the file."""
    plain = _plain(value)
    if isinstance(plain, dict):  # a field's value, written on its line
        table = tomlkit.inline_table()
        table.update(plain)
        return table.as_string()
    text: str = tomlkit.item(plain).as_string()
    return text


def _plain(value: Any) -> Any:
    """A value as the file stores it: secrets in the clear (the file is 0600), paths as text."""
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return value


def write_config_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, mode 0600; a missing directory is made 0700."""
    path = Path(path).expanduser()
    directory = path.parent
    try:
        if not directory.exists():
            directory.mkdir(mode=0o700, parents=True)
            directory.chmod(0o700)  # mkdir's mode is subject to the umask
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise ConfigError(
            f"{directory}: cannot create the config file there ({exc.strerror})",
            hint="choose another place with --config or VOICELOOP_CONFIG",
        ) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ConfigError(f"{path}: cannot write ({exc.strerror})") from None


def update_config_file(path: Path, updates: Mapping[str, Any]) -> None:
    """Set values in the config file, keeping its comments and layout.

    ``updates`` maps a section to ``{field: value}`` (``{"llm": {"model": "x"}}``), or a
    top-level field to its value (``{"groq_api_key": SecretStr("...")}``). ``None`` removes
    the key, so the default applies again. A missing file starts from the commented
    default. The result is validated as the file would load; on error nothing is written
    and :class:`ConfigError` names the file, the key and what is allowed.
    """
    path = Path(path).expanduser()
    write_config_file(path, tomlkit.dumps(_updated_document(path, updates)))


def check_config_update(path: Path, updates: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` if the file with ``updates`` applied would not load."""
    _updated_document(Path(path).expanduser(), updates)


def _updated_document(path: Path, updates: Mapping[str, Any]) -> tomlkit.TOMLDocument:
    """The file's document with ``updates`` merged in, validated as the file would load."""
    doc = _read_document(path)
    for key, value in updates.items():
        if isinstance(value, Mapping):
            for field, field_value in value.items():
                if field_value is not None and field not in doc.get(key, {}):
                    doc = _fill_placeholder(doc, key, field, field_value)
        elif value is not None and key not in doc:
            doc = _fill_placeholder(doc, None, key, value)
    for key, value in updates.items():
        if isinstance(value, Mapping):
            table = doc.get(key)
            if table is None:
                table = tomlkit.table()
                doc.add(key, table)
            elif not isinstance(table, Table):
                raise ConfigError(f"{path}: {key} must be a [section]", hint="fix the file")
            for field, field_value in value.items():
                _set(table, field, field_value)
        else:
            for other in list(doc.keys()):
                if other != key and other.lower() == key.lower():
                    doc.remove(other)
            _set(doc, key, value)
    validate_file_data(tomllib.loads(tomlkit.dumps(doc)), path)
    return doc


def _fill_placeholder(
    doc: tomlkit.TOMLDocument, section: str | None, field: str, value: Any
) -> tomlkit.TOMLDocument:
    """Turn the commented example ``# field = ...`` into ``field = value`` where it stands.

    A new value then sits under the comment that explains it, not at the end of the section.
    Without such a line the document is returned unchanged (the caller appends the key).
    """
    lines = tomlkit.dumps(doc).splitlines(keepends=True)
    header = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]")
    placeholder = re.compile(rf"^#\s*{re.escape(field)}\s*=")
    current: str | None = None
    for index, text in enumerate(lines):
        match = header.match(text)
        if match:
            current = match.group(1)
            continue
        if current == section and placeholder.match(text):
            lines[index] = f"{field} = {toml_value(value)}\n"
            return tomlkit.parse("".join(lines))
    return doc


def _set(container: Any, key: str, value: Any) -> None:
    if value is None:
        if key in container:
            container.remove(key)
        return
    container[key] = _plain(value)


def _read_document(path: Path) -> tomlkit.TOMLDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = default_config_text()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        tomllib.loads(text)  # the reader's words, so `config show` and `config set` agree
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid TOML ({exc})", hint="fix or remove the file"
        ) from None
    try:
        return tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        raise ConfigError(
            f"{path}: not valid TOML ({exc})", hint="fix or remove the file"
        ) from None
