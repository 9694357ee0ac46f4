"""While the TUI owns the terminal, logging never writes to it (only to the log file);
headless runs may log to stderr. Through the real parser and commands, with the TUI
itself replaced by a stand-in that logs the way a running app would."""

from __future__ import annotations

import logging
import sys
import warnings

import pytest

from voiceloop import cli
from voiceloop.cli import run as run_cmd
from voiceloop.logs import log_file


def _writes_to_terminal(handler: logging.Handler) -> bool:
    stream = getattr(handler, "stream", None)
    return stream in (sys.stderr, sys.stdout, sys.__stderr__, sys.__stdout__)


@pytest.fixture
def tui_stand_in(monkeypatch: pytest.MonkeyPatch):
    """Replaces the TUI: logs at every level, warns, and notes the handlers it found."""
    seen: dict[str, object] = {}

    def open_tui(mode: str, settings: object) -> int:
        seen["mode"] = mode
        seen["terminal_handlers"] = [
            h for h in logging.getLogger().handlers if _writes_to_terminal(h)
        ]
        log = logging.getLogger("voiceloop.tui.stand_in")
        log.debug("tui debug line")
        log.warning("tui warning line")
        log.error("tui error line")
        logging.getLogger("httpx").warning("library warning line")
        warnings.warn("tui python warning", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(run_cmd, "open_tui", open_tui)
    return seen


@pytest.mark.parametrize(
    ("argv", "mode"),
    [
        ([], "dictate"),
        (["-v"], "dictate"),
        (["converse"], "converse"),
        (["-v", "converse"], "converse"),
        (["--verbose", "dictate"], "dictate"),
        (["translate"], "translate"),
        (["-v", "translate", "--original"], "translate"),
    ],
)
def test_tui_runs_never_log_to_the_terminal(tui_stand_in, capfd, argv, mode) -> None:
    assert cli.main(argv) == 0
    out, err = capfd.readouterr()
    assert tui_stand_in["mode"] == mode
    assert tui_stand_in["terminal_handlers"] == []
    assert out == "" and err == ""
    path = log_file()
    assert path is not None
    written = path.read_text()
    assert "tui warning line" in written and "library warning line" in written
    assert "tui error line" in written
    assert "tui python warning" in written
    assert ("tui debug line" in written) == ("-v" in argv or "--verbose" in argv)


def test_headless_runs_may_log_to_stderr(monkeypatch, capfd) -> None:
    """The counterpart: the same logging from a headless run reaches stderr with -v."""

    def run_headless(args: object, settings: object) -> int:
        logging.getLogger("voiceloop.engine.stand_in").debug("headless debug line")
        return 0

    monkeypatch.setattr(run_cmd, "run_headless", run_headless)
    assert cli.main(["-v", "dictate", "--headless"]) == 0
    assert "headless debug line" in capfd.readouterr().err
