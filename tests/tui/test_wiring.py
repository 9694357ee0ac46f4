"""The seams filled from real Settings and the config file helpers."""

from __future__ import annotations

import stat
import tomllib
import typing
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from voiceloop.config import SECTIONS, load_settings
from voiceloop.errors import ConfigError
from voiceloop.tui.config_file import TomlConfigFile
from voiceloop.tui.screens.settings import FIELDS
from voiceloop.tui.wiring import apply_to_settings, deps_from_settings, voices_for


@pytest.fixture
def no_env_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GROQ_API_KEY", "GROQ_BASE_URL", "VOICELOOP_CONFIG"):
        monkeypatch.delenv(name, raising=False)


def test_settings_fields_exist_in_the_model() -> None:
    for spec in FIELDS:
        field = SECTIONS[spec.section].model_fields[spec.name]
        is_secret = SecretStr in typing.get_args(field.annotation)
        assert is_secret == (spec.kind == "secret"), spec
        if spec.kind == "choice":
            allowed = {
                arg for part in typing.get_args(field.annotation) for arg in typing.get_args(part)
            } or set(typing.get_args(field.annotation))
            assert set(spec.choices) <= allowed, spec


def test_deps_from_settings(tmp_path: Path, no_env_key: None) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[llm]\nmodel = "qwen/qwen3-32b"\n[audio]\ninput = "USB"\n')
    settings = load_settings(path=config)
    deps = deps_from_settings(settings, config_file=config)
    assert deps.has_key is False  # no key anywhere: first run
    assert deps.profile.chat_model == "none (no key)"  # what is in use, not what is set
    assert deps.profile.input_device == "USB"
    assert deps.profile.output_device == "default"
    assert deps.restart_on_change and deps.apply_setting is not None
    deps.apply_setting("llm", "model", "openai/gpt-oss-120b")
    assert settings.llm.model == "openai/gpt-oss-120b"
    with pytest.raises(ValidationError):
        apply_to_settings(settings, "vad", "engine", "psychic")
    keyed = load_settings({"groq_api_key": "gsk_x"}, path=config)
    assert deps_from_settings(keyed, config_file=config).has_key
    assert deps_from_settings(keyed, config_file=config).profile.chat_model == "qwen/qwen3-32b"


def test_voices_offer_the_configured_one(tmp_path: Path, no_env_key: None) -> None:
    settings = load_settings(path=tmp_path / "none.toml")
    assert voices_for(settings)[:2] == ["autumn", "diana"]
    settings.tts.voice = "custom"
    assert voices_for(settings)[0] == "custom"


def test_config_file_keeps_comments_validates_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('# mine\n[llm]\nmodel = "a"\n')
    path.chmod(0o644)
    config = TomlConfigFile(path)
    with pytest.raises(ConfigError):
        config.validate({"vad": {"engine": "psychic"}})
    config.save({"llm": {"model": "b"}, "groq_api_key": SecretStr("gsk_y")})
    text = path.read_text()
    assert "# mine" in text
    data = tomllib.loads(text)
    assert data["llm"]["model"] == "b" and data["groq_api_key"] == "gsk_y"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config.load()["llm"]["model"] == "b"
