"""Settings: file, environment and flags in that order; clear errors; per-stage servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from voiceloop import config as config_module
from voiceloop.cli import common
from voiceloop.config import (
    SECTIONS,
    Settings,
    config_path,
    load_settings,
    validate_file_data,
)
from voiceloop.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_file_or_environment(tmp_path: Path) -> None:
    settings = load_settings(path=tmp_path / "missing.toml")
    assert settings.stt.model == "whisper-large-v3-turbo"
    assert settings.translate.model == "whisper-large-v3"
    assert settings.llm.model == "openai/gpt-oss-20b"
    assert settings.llm.reasoning_effort == "low"
    assert settings.tts.model == "canopylabs/orpheus-v1-english"
    assert settings.tts.voice == "autumn"
    assert settings.tts.max_chars == 200
    assert settings.stage_url(settings.stt) == "https://api.groq.com/openai/v1"
    assert settings.stage_key(settings.stt) is None
    assert not settings.has_chat_backend()


def test_file_values_are_read(tmp_path: Path) -> None:
    file = write(tmp_path / "c.toml", '[llm]\nmodel = "from-file"\ntemperature = 0.4\n')
    settings = load_settings(path=file)
    assert settings.llm.model == "from-file"
    assert settings.llm.temperature == 0.4
    assert settings.stt.model == "whisper-large-v3-turbo"  # untouched sections keep defaults


def test_environment_overrides_file_and_flags_override_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = write(
        tmp_path / "c.toml",
        '[llm]\nmodel = "file-model"\nsystem_prompt = "file prompt"\n[stt]\nlanguage = "de"\n',
    )
    monkeypatch.setenv("VOICELOOP_LLM__MODEL", "env-model")
    monkeypatch.setenv("VOICELOOP_STT__LANGUAGE", "fr")
    settings = load_settings({"stt": {"language": "es"}}, path=file)
    assert settings.llm.model == "env-model"  # env beats file
    assert settings.llm.system_prompt == "file prompt"  # the rest of the file section stays
    assert settings.stt.language == "es"  # flag beats env


def test_settings_from_args_merges_flags_dotted_or_nested_and_drops_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = write(tmp_path / "c.toml", '[llm]\nmodel = "file-model"\n[tts]\nvoice = "troy"\n')
    monkeypatch.setenv("VOICELOOP_TTS__VOICE", "diana")
    import argparse

    args = argparse.Namespace(config=str(file))
    settings = common.settings_from_args(
        args, {"llm.model": "flag-model", "tts": {"voice": None}, "stt.language": None}
    )
    assert settings.llm.model == "flag-model"
    assert settings.tts.voice == "diana"  # a flag not given (None) does not override
    assert settings.stt.language is None


def test_nest_overrides() -> None:
    assert common.nest_overrides(
        {"stt.model": "m", "stt": {"language": "en", "prompt": None}, "llm": {"model": None}}
    ) == {"stt": {"model": "m", "language": "en"}}


def test_groq_environment_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk_envkey_000000")
    monkeypatch.setenv("GROQ_BASE_URL", "http://127.0.0.1:8765/")
    settings = load_settings(path=Path("/nonexistent/voiceloop.toml"))
    for section in (settings.stt, settings.translate, settings.llm, settings.tts):
        assert settings.stage_url(section) == "http://127.0.0.1:8765/openai/v1"
        key = settings.stage_key(section)
        assert key is not None and key.get_secret_value() == "gsk_envkey_000000"
    assert settings.has_chat_backend()


def test_each_stage_may_use_its_own_server_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "gsk_groqkey_00000")
    file = write(
        tmp_path / "c.toml",
        '[llm]\nbase_url = "http://localhost:11434/v1/"\napi_key = "ollama-key"\n'
        'model = "llama3.2"\n',
    )
    monkeypatch.setenv("VOICELOOP_TTS__BASE_URL", "http://127.0.0.1:9000/v1")
    monkeypatch.setenv("VOICELOOP_TTS__API_KEY", "tts-only-key")
    settings = load_settings(path=file)
    assert settings.stage_url(settings.llm) == "http://localhost:11434/v1"
    assert settings.stage_key(settings.llm).get_secret_value() == "ollama-key"
    assert settings.stage_url(settings.tts) == "http://127.0.0.1:9000/v1"
    assert settings.stage_key(settings.tts).get_secret_value() == "tts-only-key"
    assert settings.stage_url(settings.stt) == "https://api.groq.com/openai/v1"
    assert settings.stage_key(settings.stt).get_secret_value() == "gsk_groqkey_00000"


def test_chat_backend_without_key_when_llm_has_its_own_server() -> None:
    settings = load_settings(
        {"llm": {"base_url": "http://localhost:11434/v1"}}, path=Path("/nonexistent.toml")
    )
    assert settings.has_chat_backend()
    assert settings.stage_key(settings.llm) is None


def test_bad_value_in_file_names_file_key_and_allowed_values(tmp_path: Path) -> None:
    file = write(tmp_path / "c.toml", '[vad]\nengine = "webrtc"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path=file)
    text = err.value.one_line()
    assert str(file) in text
    assert "vad.engine" in text
    assert "silero" in text and "energy" in text
    assert "webrtc" in text
    assert err.value.exit_code == 2


def test_out_of_range_value_says_the_limit(tmp_path: Path) -> None:
    file = write(tmp_path / "c.toml", "[llm]\ntemperature = 3.5\n")
    with pytest.raises(ConfigError) as err:
        load_settings(path=file)
    assert "llm.temperature" in str(err.value)
    assert "less than or equal to 2" in str(err.value)


def test_bad_value_in_environment_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICELOOP_STORE__KEEP_AUDIO", "sometimes")
    with pytest.raises(ConfigError) as err:
        load_settings(path=Path("/nonexistent.toml"))
    assert "VOICELOOP_STORE__KEEP_AUDIO" in str(err.value)
    assert "forever" in str(err.value)


@pytest.mark.parametrize(
    ("variable", "dotted"),
    [
        ("VOICELOOP_LLM__MODEL", "llm.model"),
        ("VOICELOOP_STT__MODEL", "stt.model"),
        ("VOICELOOP_TRANSLATE__PROVIDER", "translate.provider"),
        ("VOICELOOP_TTS__VOICE", "tts.voice"),
    ],
)
def test_an_empty_required_string_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, dotted: str
) -> None:
    monkeypatch.setenv(variable, "")
    with pytest.raises(ConfigError) as err:
        load_settings(path=tmp_path / "missing.toml")
    assert f"environment variable {variable}: {dotted}: must not be empty" in str(err.value)
    assert err.value.exit_code == 2


def test_an_empty_model_in_the_file_names_the_file(tmp_path: Path) -> None:
    file = write(tmp_path / "c.toml", '[llm]\nmodel = "  "\n')
    with pytest.raises(ConfigError, match=r"c\.toml: llm\.model: must not be empty"):
        load_settings(path=file)


def test_bad_value_from_flags_names_the_command_line() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"tts": {"max_chars": 3}}, path=Path("/nonexistent.toml"))
    assert "command line" in str(err.value)
    assert "tts.max_chars" in str(err.value)


def test_unknown_key_in_a_section_lists_the_allowed_keys(tmp_path: Path) -> None:
    file = write(tmp_path / "c.toml", '[stt]\nlanguag = "en"\n')
    with pytest.raises(ConfigError) as err:
        load_settings(path=file)
    assert "stt.languag" in str(err.value) and "unknown key" in str(err.value)
    assert "language" in (err.value.hint or "")


def test_unknown_section_and_broken_toml_name_the_file(tmp_path: Path) -> None:
    file = write(tmp_path / "c.toml", '[sst]\nmodel = "x"\n')
    with pytest.raises(ConfigError, match="unknown key 'sst'") as err:
        load_settings(path=file)
    assert str(file) in str(err.value)
    broken = write(tmp_path / "b.toml", "[llm\nmodel = \n")
    with pytest.raises(ConfigError, match="not valid TOML") as err:
        load_settings(path=broken)
    assert str(broken) in str(err.value)


def test_validate_file_data_ignores_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOICELOOP_VAD__ENGINE", "nonsense")
    validate_file_data({"vad": {"engine": "energy"}}, Path("f.toml"))  # env is not consulted
    with pytest.raises(ConfigError, match=r"f\.toml: vad\.threshold"):
        validate_file_data({"vad": {"threshold": 2}}, Path("f.toml"))
    with pytest.raises(ConfigError, match="groq_base_url"):
        validate_file_data({"groq_base_url": 5}, Path("f.toml"))


def test_config_path_follows_environment_then_platform_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VOICELOOP_CONFIG", str(tmp_path / "x.toml"))
    assert config_path() == tmp_path / "x.toml"
    monkeypatch.delenv("VOICELOOP_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_path() == tmp_path / "xdg" / "voiceloop" / "config.toml"


def test_config_env_name_is_the_same_in_cli_and_config() -> None:
    assert config_module.CONFIG_ENV == common.CONFIG_ENV


def test_every_field_has_a_description_for_the_config_file() -> None:
    missing = [
        f"{section}.{field}"
        for section, model in SECTIONS.items()
        for field, info in model.model_fields.items()
        if not info.description
    ]
    top_level = Settings.model_fields.items()
    missing += [n for n, f in top_level if n not in SECTIONS and not f.description]
    assert missing == []


def test_chat_backend_follows_the_capability_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    nowhere = Path("/nonexistent.toml")
    assert not load_settings({"llm": {"provider": "local"}}, path=nowhere).has_chat_backend()
    # A plugin declares nothing: trusted to chat, with whatever key it needs of its own.
    assert load_settings({"llm": {"provider": "acme-chat"}}, path=nowhere).has_chat_backend()
    monkeypatch.setenv("GROQ_API_KEY", "gsk_envkey_000000")
    assert not load_settings({"llm": {"provider": "local"}}, path=nowhere).has_chat_backend()
