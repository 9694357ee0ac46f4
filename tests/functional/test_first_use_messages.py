"""First-use messages: they name what the user must actually write, and agree with each other."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceloop.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_no_key_error_names_the_field_of_the_file(capsys, groq_env, monkeypatch) -> None:
    monkeypatch.delenv("GROQ_API_KEY")
    assert main(["ask", "hello"]) == 2
    err = capsys.readouterr().err
    assert "groq_api_key" in err and "add api_key" not in err
    assert groq_env.requests == []


@pytest.mark.parametrize("broken", ["[llm\n", "x = [\n", 'model = "a\n'])
def test_broken_toml_gets_one_message_from_show_and_set(
    capsys, tmp_path: Path, monkeypatch, broken: str
) -> None:
    file = tmp_path / "config.toml"
    file.write_text(broken, encoding="utf-8")
    monkeypatch.setenv("VOICELOOP_CONFIG", str(file))
    assert main(["config", "show"]) == 2
    shown = capsys.readouterr().err
    assert main(["config", "set", "llm.model", "x"]) == 2
    set_ = capsys.readouterr().err
    assert "not valid TOML" in shown
    assert shown == set_
    assert file.read_text(encoding="utf-8") == broken  # nothing rewritten


def test_readme_does_not_ask_for_local_provider_to_dictate_without_a_key() -> None:
    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    section = text.split("### Without a key", 1)[1].split("###", 1)[0]
    assert "no configuration" in section
    assert 'set `provider = "local"` in `[stt]` to use' not in section


def test_readme_states_the_exit_codes_the_commands_use() -> None:
    from voiceloop.cli.common import EXIT_INTERRUPTED, EXIT_NO_SPEECH, EXIT_USAGE

    text = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert (
        f"Exit codes: 0 success, 1 a service or network failure, {EXIT_USAGE} bad usage or "
        f"bad input, {EXIT_NO_SPEECH} no speech found"
    ) in text
    assert f"{EXIT_INTERRUPTED} interrupted" in text
