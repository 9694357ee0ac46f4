"""Settings: a TOML file, then environment variables, then command-line flags (later wins).

The file lives in the platform's user config dir (``voiceloop config path``), or wherever
``VOICELOOP_CONFIG`` points. ``GROQ_API_KEY`` and ``GROQ_BASE_URL`` are honoured as the
official Groq SDK reads them; everything else is ``VOICELOOP_<SECTION>__<FIELD>``, e.g.
``VOICELOOP_LLM__MODEL=llama-3.3-70b-versatile``.

Each stage section may point at its own server: ``base_url`` is the full API root with its
version path (``http://localhost:11434/v1`` for Ollama); unset, it is
``$GROQ_BASE_URL/openai/v1`` (``$OPENAI_BASE_URL`` for ``provider = "openai"``). Keys go
only where they belong (see :mod:`voiceloop.credentials`): ``api_key`` to that stage's
server, ``GROQ_API_KEY`` to Groq, ``OPENAI_API_KEY`` to OpenAI, nothing to anyone else.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from voiceloop.capabilities import stage_capabilities
from voiceloop.config_sections import (
    DEFAULT_SYSTEM_PROMPT,
    AudioSettings,
    DictateSettings,
    HttpSettings,
    LlmSettings,
    LocalSettings,
    StageSection,
    StoreSettings,
    SttSettings,
    TranslateSettings,
    TtsSettings,
    TurnSettings,
    VadSettings,
    _Section,
)
from voiceloop.credentials import (
    DEFAULT_GROQ_BASE_URL,
    DEFAULT_OPENAI_BASE_URL,
    StageAuth,
    stage_auth,
)
from voiceloop.errors import ConfigError

__all__ = [
    "CONFIG_ENV",
    "DEFAULT_GROQ_BASE_URL",
    "DEFAULT_SYSTEM_PROMPT",
    "ENV_DELIMITER",
    "ENV_PREFIX",
    "SECTIONS",
    "AudioSettings",
    "DictateSettings",
    "HttpSettings",
    "LlmSettings",
    "LocalSettings",
    "Settings",
    "StageSection",
    "StoreSettings",
    "SttSettings",
    "TranslateSettings",
    "TtsSettings",
    "TurnSettings",
    "VadSettings",
    "config_path",
    "load_settings",
    "validate_file_data",
]

ENV_PREFIX = "VOICELOOP_"
CONFIG_ENV = "VOICELOOP_CONFIG"
ENV_DELIMITER = "__"


def config_path() -> Path:
    """Where the config file is read from and written to."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("voiceloop", appauthor=False)) / "config.toml"


_config_file: ContextVar[Path | None] = ContextVar("voiceloop_config_file", default=None)


class Settings(BaseSettings):
    """All of voiceloop's settings."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_DELIMITER,
        extra="ignore",
        populate_by_name=True,
        validate_assignment=True,
        use_attribute_docstrings=True,
    )

    groq_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("GROQ_API_KEY", "groq_api_key"),
        examples=["gsk_..."],
    )
    """Groq API key, sent only to Groq's API origin (env GROQ_API_KEY)."""
    groq_base_url: str = Field(
        default=DEFAULT_GROQ_BASE_URL,
        validation_alias=AliasChoices("GROQ_BASE_URL", "groq_base_url"),
    )
    """Groq server without /openai/v1, as the Groq SDK reads it (env GROQ_BASE_URL)."""
    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "openai_api_key"),
        examples=["sk-..."],
    )
    """OpenAI API key, sent only to OpenAI's API origin (env OPENAI_API_KEY)."""
    openai_base_url: str = Field(
        default=DEFAULT_OPENAI_BASE_URL,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "openai_base_url"),
    )
    """API root for provider "openai", as the OpenAI SDK reads it (env OPENAI_BASE_URL)."""
    stt: SttSettings = SttSettings()
    translate: TranslateSettings = TranslateSettings()
    llm: LlmSettings = LlmSettings()
    tts: TtsSettings = TtsSettings()
    audio: AudioSettings = AudioSettings()
    vad: VadSettings = VadSettings()
    turn: TurnSettings = TurnSettings()
    local: LocalSettings = LocalSettings()
    dictate: DictateSettings = DictateSettings()
    store: StoreSettings = StoreSettings()
    http: HttpSettings = HttpSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        file = _config_file.get()
        if file is not None and file.exists():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=file))
        return tuple(sources)

    def stage_auth(self, section: StageSection) -> StageAuth:
        """A stage's server and the key that may go there (:func:`stage_auth`)."""
        return stage_auth(section, self)

    def stage_url(self, section: StageSection) -> str:
        """The API root a stage talks to (no trailing slash)."""
        return stage_auth(section, self).url

    def stage_key(self, section: StageSection) -> SecretStr | None:
        """The key a stage sends, if any: only one that belongs to the stage's server."""
        return stage_auth(section, self).key

    def has_chat_backend(self) -> bool:
        """Whether converse can work: ``[llm]``'s provider has a chat model (its capability
        record says so) and, on a server, the key that server needs. A provider that
        declares nothing (a plugin) is trusted: building it says what it lacks."""
        capabilities = stage_capabilities(self.llm, self)
        if not capabilities.chat:
            return False
        return not capabilities.remote or not stage_auth(self.llm, self).missing


def load_settings(overrides: dict[str, Any] | None = None, *, path: Path | None = None) -> Settings:
    """Read the config file and the environment, then apply ``overrides`` (CLI flags).

    Raises :class:`ConfigError` naming the file or variable, the key and what is allowed.
    The API keys found are registered with the log redaction filter, whoever loads them.
    """
    file = path or config_path()
    _check_toml(file)
    token = _config_file.set(file)
    try:
        settings = Settings(**(overrides or {}))
    except ValidationError as exc:
        raise _config_error(exc, file, overrides or {}) from None
    finally:
        _config_file.reset(token)
    from voiceloop.logs import add_settings_secrets

    add_settings_secrets(settings)
    return settings


SECTIONS: dict[str, type[_Section]] = {
    name: field.annotation
    for name, field in Settings.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, _Section)
}
"""Every ``[section]`` of the file and its model, in file order."""


def validate_file_data(data: dict[str, Any], file: Path) -> None:
    """Check parsed config-file contents alone (no environment), as the file would load.

    Raises :class:`ConfigError` naming ``file``, the key and what is allowed.
    """
    _check_keys(data, file)
    for name, value in data.items():
        model = SECTIONS.get(name)
        try:
            if model is not None:
                model.model_validate(value)
            else:
                _top_level_adapter(name.lower()).validate_python(value)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = [name, *(str(part) for part in err["loc"])]
            raise ConfigError(
                f"{file}: {'.'.join(loc)}: {_describe(err, model)}",
                hint=_hint(err, model),
            ) from None


def _top_level_adapter(name: str) -> TypeAdapter[Any]:
    annotation = Settings.model_fields[name].annotation
    assert annotation is not None, name
    return TypeAdapter(annotation)


def _check_toml(file: Path) -> None:
    if not file.exists():
        return
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{file}: not valid TOML ({exc})", hint="fix or remove the file"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read ({exc.strerror})") from None
    _check_keys(data, file)


def _check_keys(data: dict[str, Any], file: Path) -> None:
    known = set(Settings.model_fields) | {
        "GROQ_API_KEY",
        "GROQ_BASE_URL",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    }
    for key in data:
        if key not in known:
            allowed = ", ".join(Settings.model_fields)
            raise ConfigError(f"{file}: unknown key {key!r}", hint=f"allowed: {allowed}")


def _config_error(exc: ValidationError, file: Path, overrides: dict[str, Any]) -> ConfigError:
    err = exc.errors()[0]
    loc = [str(part) for part in err["loc"]]
    dotted = ".".join(loc)
    env_name = ENV_PREFIX + ENV_DELIMITER.join(part.upper() for part in loc)
    if _nested_get(overrides, loc) is not None:
        where = "command line"
    elif env_name in os.environ or (loc and loc[0].upper() in os.environ):
        where = f"environment variable {env_name if env_name in os.environ else loc[0].upper()}"
    else:
        where = str(file)
    section = SECTIONS.get(loc[0]) if loc else None
    return ConfigError(f"{where}: {dotted}: {_describe(err, section)}", hint=_hint(err, section))


def _describe(err: ErrorDetails, section: type[_Section] | None = None) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "literal_error" and "expected" in ctx:
        return f"must be one of {ctx['expected']} (got {err.get('input')!r})"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{msg} (got {err.get('input')!r})" if "input" in err else msg


def _hint(err: ErrorDetails, section: type[_Section] | None) -> str:
    if err.get("type") == "extra_forbidden" and section is not None:
        return "allowed keys: " + ", ".join(section.model_fields)
    return "see `voiceloop config show` and `voiceloop config init`"


def _nested_get(data: dict[str, Any], loc: list[str]) -> Any:
    cur: Any = data
    for part in loc:
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur
