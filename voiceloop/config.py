"""Settings: a TOML file, then environment variables, then command-line flags (later wins).

The file lives in the platform's user config dir (``voiceloop config path``), or wherever
``VOICELOOP_CONFIG`` points. ``GROQ_API_KEY`` and ``GROQ_BASE_URL`` are honoured as the
official Groq SDK reads them; everything else is ``VOICELOOP_<SECTION>__<FIELD>``, e.g.
``VOICELOOP_LLM__MODEL=llama-3.3-70b-versatile``.

Each stage section may point at its own server: ``base_url`` is the full API root with its
version path (``http://localhost:11434/v1`` for Ollama); unset, it is
``$GROQ_BASE_URL/openai/v1``. ``api_key`` overrides ``GROQ_API_KEY`` for that stage.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from voiceloop.errors import ConfigError

ENV_PREFIX = "VOICELOOP_"
CONFIG_ENV = "VOICELOOP_CONFIG"
ENV_DELIMITER = "__"
DEFAULT_GROQ_BASE_URL = "https://api.groq.com"
DEFAULT_SYSTEM_PROMPT = (
    "You are voiceloop, a helpful voice assistant. Your replies are spoken aloud, so answer "
    "in plain conversational sentences: no markdown, lists, code or emoji. Be brief: one to "
    "three short sentences unless the user asks for more."
)


def config_path() -> Path:
    """Where the config file is read from and written to."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_dir

    return Path(user_config_dir("voiceloop", appauthor=False)) / "config.toml"


class _Section(BaseModel):
    # Attribute docstrings become field descriptions: `voiceloop config init` writes them
    # into the default file as comments.
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, use_attribute_docstrings=True
    )


class StageSection(_Section):
    """Common fields of every stage section."""

    provider: str = "groq"
    """Registered provider name: `groq` (any OpenAI-compatible server), `gateway`, `local`."""
    base_url: str | None = Field(default=None, examples=["http://localhost:11434/v1"])
    """Full API root incl. version path; unset means $GROQ_BASE_URL/openai/v1."""
    api_key: SecretStr | None = Field(default=None, examples=["gsk_..."])
    """Key for this stage only; unset means GROQ_API_KEY."""
    model: str = ""
    """Model id on that server."""


class SttSettings(StageSection):
    """Speech to text."""

    model: str = "whisper-large-v3-turbo"
    """Transcription model id on that server."""
    language: str | None = Field(default=None, examples=["en"])
    """ISO-639-1 code of what you speak (faster and more accurate than detection)."""
    prompt: str | None = Field(default=None, examples=["voiceloop, Groq, PulseAudio"])
    """Spelling and vocabulary hints, in the language of the audio (≤ 224 tokens)."""
    hallucination_filter: bool = True
    """Drop Whisper's phantom text on silence (segments with no speech)."""
    fallback: bool = True
    """Transcribe locally when the cloud fails after its retries."""


class TranslateSettings(StageSection):
    """Speech in any language to English text."""

    model: str = "whisper-large-v3"
    """Translation needs whisper-large-v3 (turbo cannot translate)."""
    show_original: bool = False
    """Also transcribe in the original language and show it beside the English."""
    speak: bool = False
    """Read the English aloud."""


class LlmSettings(StageSection):
    """The chat model that answers in converse mode."""

    model: str = "openai/gpt-oss-20b"
    """Chat model id on that server."""
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    """Instructions sent first in every conversation."""
    temperature: float | None = Field(default=None, ge=0.0, le=2.0, examples=[0.7])
    """Sampling temperature 0–2; unset uses the server's default."""
    max_completion_tokens: int | None = Field(default=None, ge=1, examples=[400])
    """Cap on reply length in tokens."""
    reasoning_effort: Literal["low", "medium", "high", "none", "default"] | None = "low"
    """For reasoning models (gpt-oss: low/medium/high); unset sends nothing."""
    context_budget_chars: int = Field(default=12_000, ge=0)
    """How much past conversation to send; oldest turns are dropped first."""


class TtsSettings(StageSection):
    """Text to speech."""

    model: str = "canopylabs/orpheus-v1-english"
    """Speech model id on that server."""
    voice: str = "autumn"
    """Orpheus English voices: autumn, diana, hannah, austin, daniel, troy."""
    sample_rate: int = Field(default=48_000, ge=8_000, le=48_000)
    """Rate requested from the server; the real rate is read from the WAV header."""
    max_chars: int = Field(default=200, ge=20)
    """Longest text per speech request; longer text is split at sentence boundaries."""
    prefetch: int = Field(default=2, ge=0, le=8)
    """How many sentences to synthesize ahead of the one playing."""
    fallback: bool = True
    """Synthesize locally when the cloud fails after its retries."""


class AudioSettings(_Section):
    """Sound devices."""

    input: int | str | None = Field(default=None, examples=["USB"])
    """Microphone: device index or part of its name (`voiceloop devices`)."""
    output: int | str | None = Field(default=None, examples=[0])
    """Speaker: device index or part of its name."""
    cues: bool = True
    """Play short sounds when listening starts and a reply ends."""
    barge_in: bool = False
    """Let your voice interrupt the assistant (use headphones: speakers leak into mics)."""


class VadSettings(_Section):
    """Finding where you start and stop speaking."""

    engine: Literal["silero", "energy"] = "silero"
    """Voice activity detector: `silero` (neural, robust) or `energy` (loudness only)."""
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    """Speech probability above which a frame counts as speech."""
    min_speech_ms: int = Field(default=200, ge=0)
    """Speech needed before an utterance starts."""
    hangover_ms: int = Field(default=600, ge=100)
    """Silence that ends an utterance."""
    pre_roll_ms: int = Field(default=400, ge=0)
    """Audio kept from before speech started, so the first word is whole."""
    max_length_s: float = Field(default=120.0, gt=1.0)
    """Longest utterance; a longer one is closed and a new one starts."""
    ignore_start_ms: int = Field(default=150, ge=0)
    """Ignored after listening opens (key clicks)."""


class LocalSettings(_Section):
    """Local engines, used with provider = "local" and as fallback."""

    stt_model: str | None = Field(default=None, examples=["base.en"])
    """faster-whisper model name or path; unset uses the bundled tiny.en (English only)."""
    compute_type: str = "int8"
    """faster-whisper compute type (int8, int8_float32, float32, ...)."""
    tts_voice: str | None = Field(default=None, examples=["/path/to/voice.onnx"])
    """Piper voice .onnx path; unset uses the bundled en_US joe voice."""
    threads: int = Field(default=0, ge=0)
    """CPU threads for local models; 0 picks automatically."""


class DictateSettings(_Section):
    """Dictation mode."""

    output_file: Path | None = Field(default=None, examples=["~/dictation.txt"])
    """Append every dictated piece to this file."""
    clipboard: bool = False
    """Copy the dictation buffer to the clipboard after each piece."""
    cleanup: bool = False
    """Pass each piece through the chat model to fix punctuation and drop filler words."""


class StoreSettings(_Section):
    """History of sessions, turns and their recordings."""

    enabled: bool = True
    """Keep a history of sessions and turns (and their audio)."""
    keep_audio: Literal["forever", "days", "none"] = "forever"
    """How long utterance recordings are kept: forever, a number of days, or not at all."""
    keep_days: int = Field(default=30, ge=1)
    """With keep_audio = "days": how long recordings are kept."""


class HttpSettings(_Section):
    """Talking to servers."""

    connect_timeout: float = Field(default=5.0, gt=0)
    """Seconds to wait for a connection."""
    read_timeout: float = Field(default=60.0, gt=0)
    """Seconds to wait for data once connected."""
    max_retries: int = Field(default=2, ge=0, le=10)
    """Retries after a connection error, a timeout, 429 or a 5xx."""
    upload_limit_mb: float = Field(default=24.0, gt=0)
    """Larger audio files are split into overlapping chunks."""


# The file `load_settings` is reading, seen by `settings_customise_sources` (a context
# variable, so concurrent loads in threads or tasks do not see each other's file).
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
    """Groq API key for every stage without its own (env GROQ_API_KEY)."""
    groq_base_url: str = Field(
        default=DEFAULT_GROQ_BASE_URL,
        validation_alias=AliasChoices("GROQ_BASE_URL", "groq_base_url"),
    )
    """Groq server without /openai/v1, as the Groq SDK reads it (env GROQ_BASE_URL)."""
    stt: SttSettings = SttSettings()
    translate: TranslateSettings = TranslateSettings()
    llm: LlmSettings = LlmSettings()
    tts: TtsSettings = TtsSettings()
    audio: AudioSettings = AudioSettings()
    vad: VadSettings = VadSettings()
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

    def stage_url(self, section: StageSection) -> str:
        """The API root a stage talks to (no trailing slash)."""
        if section.base_url:
            return section.base_url.rstrip("/")
        return self.groq_base_url.rstrip("/") + "/openai/v1"

    def stage_key(self, section: StageSection) -> SecretStr | None:
        """The key a stage sends, if any."""
        key = section.api_key or self.groq_api_key
        return key if key is not None and key.get_secret_value() else None

    def has_chat_backend(self) -> bool:
        """Whether converse can work: a key, or a chat server of its own (e.g. Ollama)."""
        if self.llm.provider == "local":
            return False
        return self.stage_key(self.llm) is not None or self.llm.base_url is not None


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
    name: field.annotation  # type: ignore[misc]
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
    return TypeAdapter(Settings.model_fields[name].annotation)


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
    known = set(Settings.model_fields) | {"GROQ_API_KEY", "GROQ_BASE_URL"}
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


def _describe(err: Any, section: type[_Section] | None = None) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "literal_error" and "expected" in ctx:
        return f"must be one of {ctx['expected']} (got {err.get('input')!r})"
    msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
    return f"{msg} (got {err.get('input')!r})" if "input" in err else msg


def _hint(err: Any, section: type[_Section] | None) -> str:
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
