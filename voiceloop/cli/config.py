"""``voiceloop config path|show|init|set``: where the settings live and what is in effect."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceloop.cli.common import add_command, settings_from_args

if TYPE_CHECKING:
    from voiceloop.config import Settings

REDACTED = "**********"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = add_command(
        subparsers,
        "config",
        help="show, create or change the config file",
        description=(
            "Settings come from a TOML file, then environment variables (GROQ_API_KEY,\n"
            "GROQ_BASE_URL, VOICELOOP_<SECTION>__<FIELD>), then command-line flags; later wins."
        ),
        examples=[
            ("voiceloop config path", "where the config file is"),
            ("voiceloop config init", "write a commented default file"),
            ("voiceloop config show", "the settings in effect (keys hidden)"),
            ("voiceloop config set llm.model llama-3.3-70b-versatile", "change one value"),
            ("VOICELOOP_LLM__BASE_URL=http://localhost:11434/v1 voiceloop config show", ""),
        ],
    )
    actions = parser.add_subparsers(dest="config_action", metavar="ACTION", required=True)

    path = add_command(actions, "path", help="print the config file's path")
    path.set_defaults(handler=run_path)

    show = add_command(
        actions,
        "show",
        help="print the settings in effect as TOML, API keys hidden",
        examples=[("voiceloop config show", ""), ("voiceloop --config other.toml config show", "")],
    )
    show.set_defaults(handler=run_show)

    init = add_command(
        actions,
        "init",
        help="write a commented config file with every default",
        description=(
            "Write a config file listing every setting at its default, each with a comment\n"
            "saying what it does. The file is readable by you only (mode 0600)."
        ),
        examples=[
            ("voiceloop config init", ""),
            ("voiceloop --config ./voiceloop.toml config init --force", ""),
        ],
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=run_init)

    set_ = add_command(
        actions,
        "set",
        help="change one value in the config file, keeping its comments",
        description=(
            "Set SECTION.FIELD (or a top-level key) to VALUE in the config file. VALUE is read\n"
            'as TOML (true, 3, 0.5, "text"); anything else is taken as text. An empty VALUE\n'
            "removes the key so that the default applies."
        ),
        examples=[
            ("voiceloop config set llm.model llama-3.3-70b-versatile", ""),
            ("voiceloop config set llm.base_url http://localhost:11434/v1", "chat on Ollama"),
            ("voiceloop config set stt.language ''", "back to the default"),
        ],
    )
    set_.add_argument("key", metavar="SECTION.FIELD")
    set_.add_argument("value", metavar="VALUE")
    set_.set_defaults(handler=run_set)


def _config_file(args: argparse.Namespace) -> Path:
    from voiceloop.config import config_path

    return Path(args.config).expanduser() if getattr(args, "config", None) else config_path()


def run_path(args: argparse.Namespace) -> int:
    print(_config_file(args))
    return 0


def run_init(args: argparse.Namespace) -> int:
    from voiceloop.config_file import default_config_text, write_config_file
    from voiceloop.errors import UsageError

    path = _config_file(args)
    if path.exists() and not args.force:
        raise UsageError(f"{path} already exists", hint="use --force to overwrite it")
    write_config_file(path, default_config_text())
    print(f"voiceloop: wrote {path}", file=sys.stderr)
    return 0


def run_set(args: argparse.Namespace) -> int:
    import tomllib

    from voiceloop.config_file import update_config_file

    *section, field = args.key.split(".")
    if len(section) > 1 or not field:
        from voiceloop.errors import UsageError

        raise UsageError(f"bad key {args.key!r}", hint="use SECTION.FIELD, e.g. llm.model")
    value: Any
    if args.value == "":
        value = None
    else:
        try:
            value = tomllib.loads(f"v = {args.value}")["v"]
        except tomllib.TOMLDecodeError:
            value = args.value
    path = _config_file(args)
    update_config_file(path, {section[0]: {field: value}} if section else {field: value})
    print(f"voiceloop: updated {args.key} in {path}", file=sys.stderr)
    return 0


def run_show(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    sys.stdout.write(render_settings(settings, _config_file(args)))
    return 0


def render_settings(settings: Settings, file: Path) -> str:
    """The settings as TOML, every API key replaced by ``**********``, with where each came from."""
    import tomllib

    from pydantic import SecretStr

    from voiceloop.config import SECTIONS, StageSection
    from voiceloop.config_file import toml_value

    file_data: dict[str, Any] = {}
    if file.exists():
        file_data = tomllib.loads(file.read_text(encoding="utf-8"))
    state = "" if file.exists() else " (not found: defaults and environment only)"
    lines = [f"# Settings in effect. File: {file}{state}", ""]

    def line(name: str, value: Any, source: str | None) -> str:
        where = f"  # from {source}" if source else ""
        if value is None:
            return f"# {name} = (not set){where}"
        if isinstance(value, SecretStr):
            return f'{name} = "{REDACTED}"  # set, from {source or "?"}'
        return f"{name} = {toml_value(value)}{where}"

    top = {k: v for k, v in file_data.items() if not isinstance(v, dict)}
    for name in type(settings).model_fields:
        if name in SECTIONS:
            continue
        source = _source([name.upper()], [top.get(name), top.get(name.upper())], file)
        lines.append(line(name, getattr(settings, name), source))
    for name in SECTIONS:
        section = getattr(settings, name)
        from_file = file_data.get(name, {})
        lines += ["", f"[{name}]"]
        if isinstance(section, StageSection) and section.provider != "local":
            auth = settings.stage_auth(section)
            if auth.key is not None:
                key = f"sends {auth.source}"
            else:
                key = "needs a key, none set" if auth.missing else "sends no key"
            lines.append(f"# server: {auth.url} ({key})")
        for field in type(section).model_fields:
            env = f"VOICELOOP_{name.upper()}__{field.upper()}"
            source = _source([env, f"VOICELOOP_{name.upper()}"], [from_file.get(field)], file)
            lines.append(line(field, getattr(section, field), source))
    return "\n".join(lines) + "\n"


def _source(env_names: list[str], file_values: list[Any], file: Path) -> str | None:
    environ = {k.upper() for k in os.environ}
    for env in env_names:
        if env in environ:
            return f"environment {env}"
    if any(v is not None for v in file_values):
        return str(file)
    return None
