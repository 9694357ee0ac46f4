"""The commented default file, private atomic writes and comment-keeping updates."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from pydantic import SecretStr

from voiceloop.config import SECTIONS, Settings, load_settings
from voiceloop.config_file import default_config_text, update_config_file, write_config_file
from voiceloop.errors import ConfigError


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_default_file_loads_back_to_the_defaults(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    write_config_file(file, default_config_text())
    loaded = load_settings(path=file)
    assert loaded.model_dump() == Settings().model_dump()


def test_default_file_lists_every_field_under_its_description() -> None:
    text = default_config_text()
    lines = text.splitlines()
    for section, model in SECTIONS.items():
        start = lines.index(f"[{section}]")
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines)
        )
        body = lines[start:end]
        for field, info in model.model_fields.items():
            at = [i for i, line in enumerate(body) if line.lstrip("# ").startswith(f"{field} =")]
            assert at, f"{section}.{field} missing"
            first_words = " ".join((info.description or "").split()[:3])
            assert first_words in body[at[0] - 1] or first_words in body[at[0] - 2], field


def test_default_file_comments_out_keys_and_unset_values() -> None:
    text = default_config_text()
    data = tomllib.loads(text)
    assert "groq_api_key" not in data
    for section in ("stt", "translate", "llm", "tts"):
        assert "api_key" not in data[section]
        assert "base_url" not in data[section]
    assert '# api_key = "gsk_..."' in text
    assert '# base_url = "http://localhost:11434/v1"' in text
    assert 'One of: "silero", "energy".' in text


def test_written_file_is_private_in_a_private_new_directory(tmp_path: Path) -> None:
    file = tmp_path / "new" / "dir" / "config.toml"
    write_config_file(file, "[llm]\n")
    assert mode(file) == 0o600
    assert mode(file.parent) == 0o700
    assert [p.name for p in file.parent.iterdir()] == ["config.toml"]  # no temp file left


def test_rewrite_replaces_a_wider_mode_with_0600(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text("old")
    file.chmod(0o644)
    write_config_file(file, "new = 1\n")
    assert file.read_text() == "new = 1\n"
    assert mode(file) == 0o600


def test_update_keeps_comments_and_puts_a_new_value_under_its_comment(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    write_config_file(file, default_config_text())
    update_config_file(file, {"llm": {"temperature": 0.3, "model": "llama-3.3-70b-versatile"}})
    text = file.read_text()
    lines = text.splitlines()
    at = lines.index("temperature = 0.3")
    assert lines[at - 1].startswith("# Sampling temperature")
    assert 'model = "llama-3.3-70b-versatile"' in lines
    # every other comment survived
    before = [line for line in default_config_text().splitlines() if line.startswith("#")]
    after = [line for line in lines if line.startswith("#")]
    assert set(before) - set(after) == {"# temperature = 0.7"}
    settings = load_settings(path=file)
    assert settings.llm.temperature == 0.3
    assert mode(file) == 0o600


def test_update_writes_secrets_in_the_clear_only_in_the_file(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    update_config_file(file, {"tts": {"api_key": SecretStr("tts-secret-123")}})
    assert tomllib.loads(file.read_text())["tts"]["api_key"] == "tts-secret-123"
    assert mode(file) == 0o600
    assert load_settings(path=file).tts.api_key.get_secret_value() == "tts-secret-123"


def test_update_of_a_missing_file_starts_from_the_commented_default(tmp_path: Path) -> None:
    file = tmp_path / "sub" / "config.toml"
    update_config_file(file, {"audio": {"input": "USB"}})
    text = file.read_text()
    assert "# Sound devices." in text
    assert 'input = "USB"' in text.splitlines()
    assert load_settings(path=file).audio.input == "USB"


def test_update_with_none_removes_the_key(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('# mine\n[stt]\nlanguage = "de"  # I speak German\nmodel = "m"\n')
    update_config_file(file, {"stt": {"language": None}})
    assert file.read_text() == '# mine\n[stt]\nmodel = "m"\n'


def test_update_top_level_key_replaces_its_upper_case_spelling(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text('GROQ_API_KEY = "old-key-123"\n\n[llm]\nmodel = "m"\n')
    update_config_file(file, {"groq_api_key": "new-key-456"})
    data = tomllib.loads(file.read_text())
    assert data["groq_api_key"] == "new-key-456" and "GROQ_API_KEY" not in data
    assert data["llm"] == {"model": "m"}


def test_invalid_update_is_refused_and_the_file_left_alone(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    original = '[vad]\nengine = "energy"\n'
    file.write_text(original)
    with pytest.raises(ConfigError) as err:
        update_config_file(file, {"vad": {"engine": "webrtc"}})
    assert str(file) in str(err.value) and "vad.engine" in str(err.value)
    assert "silero" in str(err.value)
    with pytest.raises(ConfigError, match="unknown key"):
        update_config_file(file, {"vad": {"engin": "energy"}})
    assert file.read_text() == original


def test_update_of_a_broken_file_names_it(tmp_path: Path) -> None:
    file = tmp_path / "config.toml"
    file.write_text("[llm\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        update_config_file(file, {"llm": {"model": "x"}})
