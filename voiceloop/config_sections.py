"""The sections of the settings: one per stage, plus audio, VAD, local engines and more.

Every field carries a docstring: it becomes the field's description, which ``voiceloop
config init`` writes into the default file as a comment and ``--help`` texts reuse.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

DEFAULT_SYSTEM_PROMPT = (
    "You are voiceloop, a helpful voice assistant. Your replies are spoken aloud, so answer "
    "in plain conversational sentences: no markdown, lists, code or emoji. Be brief: one to "
    "three short sentences unless the user asks for more."
)


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
    """Key for this stage's server only; unset sends GROQ_API_KEY / OPENAI_API_KEY to
    Groq's / OpenAI's own API and no key to any other server."""
    auth: Literal["auto", "none"] = "auto"
    """`none`: this server takes no key, send no Authorization header at all."""
    extra_body: dict[str, Any] = Field(default_factory=dict, examples=[{"keep_alive": "5m"}])
    """Fields added to every request body (JSON) or form (uploads) to this server."""
    extra_headers: dict[str, str] = Field(default_factory=dict, examples=[{"X-Title": "me"}])
    """Headers added to every request to this server (keys go in api_key, not here)."""

    @field_validator("extra_headers")
    @classmethod
    def _no_key_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name.lower() in {"authorization", "x-api-key", "api-key"}:
                raise ValueError(f"{name} would carry a key in clear config: use api_key")
        return value

    model: str = ""
    """Model id on that server."""

    @field_validator("provider", "model")
    @classmethod
    def _required(cls, value: str) -> str:
        return _not_empty(value)


def _not_empty(value: str) -> str:
    # An empty variable (VOICELOOP_LLM__MODEL=) is a mistake, not a request for no model.
    if not value.strip():
        raise ValueError("must not be empty")
    return value


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
    prompt: str | None = Field(default=None, examples=["voiceloop, Groq, PulseAudio"])
    """Spelling and vocabulary hints for the English text (≤ 224 tokens)."""
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

    @field_validator("voice")
    @classmethod
    def _voice_required(cls, value: str) -> str:
        return _not_empty(value)

    sample_rate: int = Field(default=48_000, ge=8_000, le=48_000)
    """Rate requested from servers that accept one (Groq); the real rate is read from the
    reply."""
    response_format: Literal["wav", "pcm", "mp3", "flac"] = "wav"
    """Speech audio format; wav and pcm play as they arrive (Groq sends wav only)."""
    pcm_rate: int = Field(default=24_000, ge=8_000, le=192_000)
    """Sample rate of raw pcm replies, which carry no header (OpenAI's is 24000)."""
    max_chars: int = Field(default=200, ge=20)
    """Longest text per speech request; longer text is split at sentence boundaries."""
    first_chunk_min_words: int = Field(default=2, ge=1)
    """Speak the first sentence early, cut at a clause boundary ("," ":" "because" ...) once
    it has this many words (sooner first audio; never inside a name or a number)."""
    first_chunk_max_words: int = Field(default=12, ge=1)
    """No clause boundary within this many words: the first chunk is the whole sentence."""
    first_chunk_interjections: bool = False
    """A first chunk may be one word when it is an interjection before a comma ("Sure,"
    "Well," "Yes,"): sooner first audio, but the next chunk may come a little late."""
    first_chunk_min_chars: int = Field(default=1, ge=1)
    """The early first chunk also needs this many characters; max_chars or more: the first
    chunk is always a whole sentence."""
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
    echo_cancellation: bool = True
    """Remove the assistant's own voice from the microphone (WebRTC AEC3), so you can
    talk over it on open speakers."""
    noise_suppression: bool = False
    """WebRTC noise suppression on the microphone. Off: the voice detector already copes
    with steady noise, and suppression dulls quiet speech onsets."""
    barge_in: bool = True
    """Talk over a reply to interrupt it: it pauses at once and your words are answered.
    Off: it does not listen while it speaks (half-duplex)."""
    false_interruption_s: float = Field(default=1.0, ge=0.0, le=5.0)
    """When you start speaking over a reply, it is paused this long (at most) while your
    words are checked; a cough or a backchannel ("mm-hmm") resumes it. 0: cut at once."""
    false_interruption: Literal["resume", "cut"] = "resume"
    """After a pause that carried no words: `resume` the reply, or `cut` it anyway."""


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
    early_transcribe_ms: int = Field(default=300, ge=0)
    """After this much silence, start transcribing while the hangover runs (sooner reply);
    speaking on discards that request. 0, or not under hangover_ms: off."""
    pre_roll_ms: int = Field(default=400, ge=0)
    """Audio kept from before speech started, so the first word is whole."""
    max_length_s: float = Field(default=120.0, gt=1.0)
    """Longest utterance; a longer one is closed and a new one starts."""
    ignore_start_ms: int = Field(default=150, ge=0)
    """Ignored after listening opens (key clicks)."""


class TurnSettings(_Section):
    """Knowing when you have finished: an end-of-turn model listens to how a pause sounds."""

    enabled: bool = True
    """Use the end-of-turn model: a finished sentence ends the turn after min_silence_ms,
    one that trails off waits up to max_silence_ms. Off: [vad] hangover_ms ends every turn."""
    threshold: float = Field(default=0.5, gt=0.0, lt=1.0)
    """Probability of a finished turn above which the short silence is enough."""
    min_silence_ms: int = Field(default=250, ge=64)
    """Silence after a finished sentence before the turn ends."""
    max_silence_ms: int = Field(default=2000, ge=100)
    """Longest silence waited after speech that sounds unfinished."""
    speculate: bool = True
    """Ask for the reply during the pause, when the words so far look finished; speaking
    on drops it (a wasted request against your rate limit)."""
    speculate_after_ms: int = Field(default=64, ge=0)
    """With speculate, transcribe after this much silence already (less than [vad]
    early_transcribe_ms), so the reply starts sooner; speaking on drops that request."""
    speculate_min_requests: int = Field(default=5, ge=0)
    """No speculative request while the server reports fewer requests than this left."""


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
    stall_timeout: float = Field(default=8.0, ge=0)
    """Live turns: seconds a speech-to-text reply may take to start (plus a little per
    second of speech) before it is retried or falls back; 0 waits up to read_timeout."""
    max_retries: int = Field(default=2, ge=0, le=10)
    """Retries after a connection error, a timeout, 429 or a 5xx."""
    upload_limit_mb: float = Field(default=24.0, gt=0)
    """Larger audio files are split into overlapping chunks."""


# The file `load_settings` is reading, seen by `settings_customise_sources` (a context
# variable, so concurrent loads in threads or tasks do not see each other's file).
