"""Logging: a private rotating file, stderr only when asked, and no key ever written."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from voiceloop import logs

SENTINEL = "sentinel-key-value-7f3a9c"


@pytest.fixture(autouse=True)
def forget_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "_secrets", set())


def read_log(path: Path | None) -> str:
    assert path is not None
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text()


def test_log_file_is_private_in_a_private_dir(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("VOICELOOP_LOG_DIR", str(tmp_path / "logs"))
    path = logs.setup_logging(False, console=True)
    assert path == tmp_path / "logs" / "voiceloop.log" == logs.log_file()
    logging.getLogger("voiceloop.test").info("hello file")
    assert "hello file" in read_log(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_default_log_dir_is_the_platform_user_log_dir(monkeypatch, tmp_path: Path) -> None:
    from platformdirs import user_log_dir

    monkeypatch.delenv("VOICELOOP_LOG_DIR")
    assert logs.log_dir() == Path(user_log_dir("voiceloop", appauthor=False))


def test_verbose_sets_debug_and_default_is_info(capfd) -> None:
    path = logs.setup_logging(False, console=True)
    log = logging.getLogger("voiceloop.test")
    log.debug("not-kept")
    log.info("kept-info")
    assert capfd.readouterr().err == ""  # not verbose: nothing on the terminal
    text = read_log(path)
    assert "kept-info" in text and "not-kept" not in text
    logs.setup_logging(True, console=True)
    log.debug("kept-debug")
    assert "kept-debug" in read_log(path)
    assert "kept-debug" in capfd.readouterr().err


def test_console_false_never_writes_to_the_terminal(capfd) -> None:
    path = logs.setup_logging(True, console=False)
    log = logging.getLogger("voiceloop.tui")
    log.error("bad thing")
    logging.getLogger("httpx").info("HTTP Request: POST http://x")
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    text = read_log(path)
    assert "bad thing" in text and "HTTP Request" in text


def test_library_records_and_warnings_go_to_the_file_not_the_terminal(capfd) -> None:
    import warnings

    path = logs.setup_logging(False, console=False)
    logging.getLogger("some.library").warning("library trouble")
    logging.getLogger("some.library").info("library chatter")
    warnings.warn("old api", DeprecationWarning, stacklevel=1)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""
    text = read_log(path)
    assert "library trouble" in text and "old api" in text
    assert "library chatter" not in text  # libraries: warnings and up only


def test_configured_key_values_are_redacted_everywhere() -> None:
    logs.add_secret(SecretStr(SENTINEL))
    path = logs.setup_logging(True, console=False)
    log = logging.getLogger("voiceloop.test")
    log.info("key is %s", SENTINEL)
    log.info(f"inline {SENTINEL}")
    try:
        raise RuntimeError(f"failed with {SENTINEL}")
    except RuntimeError:
        log.exception("request failed")
    text = read_log(path)
    assert SENTINEL not in text
    assert text.count(logs.REDACTED) >= 3
    assert "RuntimeError: failed with **********" in text


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        ("Authorization: Bearer abc.def-123_XYZ", "abc.def-123_XYZ"),
        ("using " + "gsk_" + "AbCdEf0123456789AbCdEf0123456789", "AbCdEf0123456789"),
        ("openai key sk-proj-abcdefghijklmnop", "abcdefghijklmnop"),
        ('{"api_key": "plain-secret-value"}', "plain-secret-value"),
    ],
)
def test_things_that_look_like_keys_are_redacted(line: str, hidden: str) -> None:
    redacted = logs.redact(line)
    assert hidden not in redacted
    assert logs.REDACTED in redacted


def test_ordinary_text_is_left_alone() -> None:
    text = "task=transcribe model=whisper-large-v3 skipping 3 segments; asked 12 tokens"
    assert logs.redact(text) == text


def test_settings_keys_are_registered(monkeypatch) -> None:
    from voiceloop.config import load_settings

    monkeypatch.setenv("GROQ_API_KEY", "groq-" + SENTINEL)
    monkeypatch.setenv("VOICELOOP_LLM__API_KEY", "llm-" + SENTINEL)
    logs.add_settings_secrets(load_settings(path=Path("/nonexistent.toml")))
    assert logs.redact(f"a groq-{SENTINEL} b llm-{SENTINEL}") == "a ********** b **********"


def test_keys_are_registered_by_whoever_loads_the_settings(monkeypatch) -> None:
    from voiceloop.config import load_settings

    monkeypatch.setenv("VOICELOOP_STT__API_KEY", "stt-" + SENTINEL)
    load_settings(path=Path("/nonexistent.toml"))
    assert logs.redact(f"x stt-{SENTINEL}") == "x **********"


def test_rotated_files_stay_private(monkeypatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 500)
    path = logs.setup_logging(False, console=False)
    log = logging.getLogger("voiceloop.test")
    for i in range(40):
        log.info("line %d %s", i, "x" * 60)
    rotated = sorted(path.parent.glob("voiceloop.log*"))
    assert len(rotated) == 1 + logs.BACKUP_COUNT
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in rotated)


def test_unusable_log_dir_does_not_stop_the_program(tmp_path: Path, monkeypatch, capfd) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a dir")
    monkeypatch.setenv("VOICELOOP_LOG_DIR", str(blocker / "logs"))
    assert logs.setup_logging(True, console=False) is None
    logging.getLogger("voiceloop.test").error("goes nowhere")
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("key gsk_notarealkey1 refused", "notarealkey1"),
        ("key xai-notarealkey1 refused", "notarealkey1"),
        ("Authorization: Bearer abc.def.ghi-jkl", "abc.def.ghi-jkl"),
        ('{"x-api-key": "zzzzzzzzzzzzzz"}', "zzzzzzzzzzzzzz"),
        ("api_key=plainsecretvalue", "plainsecretvalue"),
    ],
)
def test_logs_and_history_mask_the_same_key_shapes(text: str, secret: str) -> None:
    from voiceloop.logs import redact
    from voiceloop.store.redact import one_line_error

    assert secret in text
    assert secret not in redact(text)
    stored = one_line_error(text)
    assert stored is not None and secret not in stored
