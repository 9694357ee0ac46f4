"""The command-line frame: help, version, global flags and the one error handler."""

from __future__ import annotations

import argparse
import io
import stat
import sys
import tomllib
import types
from pathlib import Path

import pytest

import voiceloop.cli as cli
from voiceloop.cli.common import read_text_arg
from voiceloop.config import Settings, load_settings
from voiceloop.errors import ProviderError, UsageError

SENTINEL = "gsk_" + "SENTINEL0123456789abcdef"


@pytest.fixture
def fake_command(monkeypatch: pytest.MonkeyPatch):
    """Register a throwaway subcommand whose behaviour each test chooses."""
    behaviour: dict[str, object] = {}

    def register(subparsers) -> None:
        parser = subparsers.add_parser("fake", help="a test command")
        parser.set_defaults(handler=run, console_log=behaviour.get("console_log", True))

    def run(args: argparse.Namespace) -> int:
        action = behaviour.get("action")
        behaviour["ran_with"] = args
        if callable(action):
            return action(args)
        return 0

    module = types.ModuleType("voiceloop.cli.fake_cmd")
    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "voiceloop.cli.fake_cmd", module)
    monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "fake_cmd"])
    return behaviour


def raiser(exc: BaseException):
    def action(args: argparse.Namespace) -> int:
        raise exc

    return action


def test_help_describes_and_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "voice assistant" in out
    assert "examples:" in out
    assert "voiceloop transcribe talk.flac" in out
    assert "--config PATH" in out and "--verbose" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    from voiceloop import __version__

    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"voiceloop {__version__}"


def test_every_subcommand_help_has_examples(capsys: pytest.CaptureFixture[str]) -> None:
    parser = cli.build_parser()
    commands = next(
        set(action.choices)
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    assert "config" in commands
    for command in sorted(commands):
        assert cli.main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "examples:" in out, command
        assert f"voiceloop {command}" in out, command


def test_usage_error_is_exit_2_with_usage_and_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["no-such-command"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: voiceloop")
    lines = [line for line in err.splitlines() if line.startswith("voiceloop:")]
    assert len(lines) == 1 and "Bad usage" in lines[0] and "no-such-command" in lines[0]
    assert "Traceback" not in err


@pytest.mark.parametrize(("key", "mode"), [(None, "dictate"), ("k-test", "converse")])
def test_bare_voiceloop_opens_the_tui_in_the_mode_that_can_work(
    monkeypatch: pytest.MonkeyPatch, key: str | None, mode: str
) -> None:
    from voiceloop.cli import run as run_cmd

    opened: list[str] = []
    monkeypatch.setattr(run_cmd, "open_tui", lambda m, settings: opened.append(m) or 0)
    if key:
        monkeypatch.setenv("GROQ_API_KEY", key)
    assert cli.main([]) == 0
    assert opened == [mode]  # converse needs a chat backend; dictation works locally


@pytest.mark.parametrize(
    ("exc", "code", "expected"),
    [
        (
            UsageError("empty text", hint="give some text"),
            2,
            "voiceloop: Bad input: empty text — give some text",
        ),
        (
            ProviderError("server said no", hint="try later", status=500),
            1,
            "voiceloop: Service error: server said no — try later",
        ),
    ],
)
def test_voiceloop_errors_are_one_line_with_their_exit_code(
    fake_command, capsys: pytest.CaptureFixture[str], exc, code, expected
) -> None:
    fake_command["action"] = raiser(exc)
    assert cli.main(["fake"]) == code
    captured = capsys.readouterr()
    assert captured.err == expected + "\n"
    assert captured.out == ""


def test_verbose_adds_the_service_details(
    fake_command, capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    fake_command["action"] = raiser(
        ProviderError("key refused", status=401, code="invalid_api_key", request_id="req_42")
    )
    assert cli.main(["fake"]) == 1
    assert capsys.readouterr().err == "voiceloop: Service error: key refused\n"
    log = (isolated_settings / "logs" / "voiceloop.log").read_text()
    assert "status=401 code=invalid_api_key request_id=req_42" in log
    assert cli.main(["-v", "fake"]) == 1
    err = capsys.readouterr().err
    assert "request_id=req_42" in err
    assert err.endswith("voiceloop: Service error: key refused\n")


def test_keyboard_interrupt_exits_130(fake_command, capsys: pytest.CaptureFixture[str]) -> None:
    fake_command["action"] = raiser(KeyboardInterrupt())
    assert cli.main(["fake"]) == 130
    assert capsys.readouterr().err == "voiceloop: interrupted\n"


def test_internal_error_is_one_line_and_traceback_goes_to_the_log(
    fake_command, capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    fake_command["action"] = raiser(RuntimeError(f"boom with {SENTINEL}"))
    assert cli.main(["fake"]) == 1
    err = capsys.readouterr().err
    log = isolated_settings / "logs" / "voiceloop.log"
    expected = "voiceloop: internal error: RuntimeError: boom with gsk_**********"
    assert err == f"{expected} (details in {log})\n"
    text = log.read_text()
    assert "Traceback" in text and "RuntimeError" in text
    assert SENTINEL not in text


def test_a_broken_command_module_is_one_line_with_the_traceback_in_the_log(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    def register(subparsers) -> None:
        subparsers.add_parser("config")  # clashes with the real `config`

    module = types.ModuleType("voiceloop.cli.clash_cmd")
    module.register = register  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "voiceloop.cli.clash_cmd", module)
    monkeypatch.setattr(cli, "COMMAND_MODULES", [*cli.COMMAND_MODULES, "clash_cmd"])
    assert cli.main(["--help"]) == 1
    captured = capfd.readouterr()
    log = isolated_settings / "logs" / "voiceloop.log"
    assert captured.err == (
        "voiceloop: internal error: ArgumentError: argument COMMAND: conflicting subparser:"
        f" config (details in {log})\n"
    )
    assert "Traceback" in log.read_text()


def test_verbose_internal_error_shows_the_traceback_on_stderr(
    fake_command, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_command["action"] = raiser(ValueError("bad"))
    assert cli.main(["--verbose", "fake"]) == 1
    err = capsys.readouterr().err
    assert "voiceloop: internal error: ValueError: bad" in err
    assert "Traceback (most recent call last)" in err


def test_exit_with_a_message_is_one_line(fake_command, capsys) -> None:
    fake_command["action"] = raiser(SystemExit("cannot go on"))
    assert cli.main(["fake"]) == 1
    assert capsys.readouterr().err == "voiceloop: cannot go on\n"
    fake_command["action"] = raiser(SystemExit(3))
    assert cli.main(["fake"]) == 3


def test_broken_pipe_is_quiet(fake_command, capsys: pytest.CaptureFixture[str]) -> None:
    fake_command["action"] = raiser(BrokenPipeError())
    assert cli.main(["fake"]) == 1
    assert capsys.readouterr().err == ""


def test_tui_commands_never_log_to_the_terminal(
    fake_command, capfd: pytest.CaptureFixture[str]
) -> None:
    import logging

    fake_command["console_log"] = False
    fake_command["action"] = lambda args: logging.getLogger("voiceloop.x").warning("hello") or 0
    assert cli.main(["-v", "fake"]) == 0
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_headless_verbose_logs_to_stderr(fake_command, capfd: pytest.CaptureFixture[str]) -> None:
    import logging

    fake_command["action"] = lambda args: logging.getLogger("voiceloop.x").debug("detail") or 0
    assert cli.main(["-v", "fake"]) == 0
    assert "detail" in capfd.readouterr().err
    assert cli.main(["fake"]) == 0
    assert capfd.readouterr().err == ""


def test_config_flag_selects_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "elsewhere.toml"
    assert cli.main(["--config", str(file), "config", "path"]) == 0
    assert capsys.readouterr().out == f"{file}\n"


def test_config_path_defaults_to_the_config_location(
    capsys: pytest.CaptureFixture[str], isolated_settings: Path
) -> None:
    assert cli.main(["config", "path"]) == 0
    assert capsys.readouterr().out == f"{isolated_settings / 'config' / 'config.toml'}\n"


def test_config_init_writes_a_private_file_that_loads_to_defaults(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "cfg" / "config.toml"
    assert cli.main(["--config", str(file), "config", "init"]) == 0
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    assert load_settings(path=file).model_dump() == Settings().model_dump()
    assert capsys.readouterr().out == ""  # the message is a diagnostic, on stderr


def test_config_init_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "config.toml"
    file.write_text('[llm]\nmodel = "mine"\n')
    assert cli.main(["--config", str(file), "config", "init"]) == 2
    assert "already exists" in capsys.readouterr().err
    assert file.read_text() == '[llm]\nmodel = "mine"\n'
    assert cli.main(["--config", str(file), "config", "init", "--force"]) == 0
    assert "# Speech to text." in file.read_text()


def test_config_show_never_prints_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "config.toml"
    file.write_text(
        f'groq_api_key = "{SENTINEL}-file"\n[llm]\napi_key = "{SENTINEL}-llm"\n'
        'base_url = "http://localhost:11434/v1"\n'
    )
    monkeypatch.setenv("GROQ_API_KEY", SENTINEL + "-env")
    monkeypatch.setenv("VOICELOOP_TTS__API_KEY", SENTINEL + "-tts")
    monkeypatch.setenv("VOICELOOP_STT__MODEL", "env-model")
    assert cli.main(["--config", str(file), "config", "show"]) == 0
    out = capsys.readouterr().out
    assert "SENTINEL" not in out
    data = tomllib.loads(out)
    assert data["groq_api_key"] == "**********"
    assert data["llm"]["api_key"] == "**********"
    assert data["tts"]["api_key"] == "**********"
    assert "api_key" not in data["stt"]  # not set: shown as a comment
    assert data["stt"]["model"] == "env-model"
    assert data["llm"]["base_url"] == "http://localhost:11434/v1"
    assert data["vad"] == Settings().vad.model_dump()
    assert 'groq_api_key = "**********"  # set, from environment GROQ_API_KEY' in out
    assert "# from environment VOICELOOP_STT__MODEL" in out
    assert f"# from {file}" in out


def test_config_set_changes_one_value_and_reports_bad_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "config.toml"
    assert cli.main(["--config", str(file), "config", "set", "llm.temperature", "0.5"]) == 0
    assert cli.main(["--config", str(file), "config", "set", "audio.input", "USB mic"]) == 0
    settings = load_settings(path=file)
    assert settings.llm.temperature == 0.5 and settings.audio.input == "USB mic"
    capsys.readouterr()
    assert cli.main(["--config", str(file), "config", "set", "vad.engine", "webrtc"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert str(file) in err and "vad.engine" in err and "'silero'" in err


def test_bad_config_file_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "config.toml"
    file.write_text("[tts]\nmax_chars = 1\n")
    assert cli.main(["--config", str(file), "config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("voiceloop: Configuration error: ")
    assert str(file) in err and "tts.max_chars" in err and err.count("\n") == 1


def test_read_text_arg() -> None:
    assert read_text_arg("hello") == "hello"
    assert read_text_arg("-", stdin=io.StringIO("from stdin\n")) == "from stdin\n"
    assert read_text_arg(None, stdin=io.StringIO("piped")) == "piped"
    with pytest.raises(UsageError, match="empty text from stdin"):
        read_text_arg("-", stdin=io.StringIO("  \n"))
    with pytest.raises(UsageError, match="empty text"):
        read_text_arg("   ")


def test_read_text_arg_refuses_to_wait_on_a_terminal() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    with pytest.raises(UsageError, match="no text given"):
        read_text_arg(None, stdin=Tty("x"))
    assert read_text_arg("-", stdin=Tty("typed")) == "typed"  # `-` asks for it explicitly


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (["say", "-", "-o", "out.wav"], b"caf\xe9 au lait\n"),
        (["ask", "-"], b"caf\xe9?\n"),
        (["say", b"caf\xe9".decode("utf-8", "surrogateescape"), "-o", "out.wav"], b""),
        (["ask", b"caf\xe9?".decode("utf-8", "surrogateescape")], b""),
        (["config", "set", "llm.model", b"\xff".decode("utf-8", "surrogateescape")], b""),
        (["history", "--search", b"caf\xe9".decode("utf-8", "surrogateescape")], b""),
        (["transcribe", "--prompt", b"\xff".decode("utf-8", "surrogateescape"), "a.wav"], b""),
        (["transcribe", b"caf\xe9.wav".decode("utf-8", "surrogateescape")], b""),
    ],
)
def test_undecodable_text_is_bad_input_not_an_internal_error(
    tmp_path: Path, argv: list[str], stdin: bytes
) -> None:
    import os
    import subprocess

    env = {**os.environ, "LC_ALL": "C", "PYTHONUTF8": "0", "HOME": str(tmp_path)}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["GROQ_API_KEY"] = SENTINEL
    proc = subprocess.run(
        [sys.executable, "-m", "voiceloop", *argv],
        input=stdin,
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 2, err
    assert "not valid UTF-8" in err and err.count("\n") == 1
    assert "internal error" not in err and "surrogates" not in err
    assert proc.stdout == b""
    assert not (tmp_path / "out.wav").exists()


def test_barge_in_flags_override_the_file_both_ways() -> None:
    from voiceloop.cli.run import overrides_from_args

    parser = cli.build_parser()
    default = overrides_from_args(parser.parse_args(["converse"]))
    assert "audio.barge_in" not in default  # the settings decide (on by default)
    off = overrides_from_args(parser.parse_args(["converse", "--no-barge-in"]))
    on = overrides_from_args(parser.parse_args(["converse", "--barge-in"]))
    assert off["audio.barge_in"] is False and on["audio.barge_in"] is True
