"""Stage adapters over :class:`GroqClient`, and the ``groq`` / ``openai`` stage factory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, Any, Literal

from voiceloop.capabilities import stage_capabilities
from voiceloop.errors import ConfigError
from voiceloop.frames import AudioChunk, Message, Task, Transcript, Utterance, with_hint
from voiceloop.providers.clients import client_for, shared_pool
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.groq_chat import with_system_prompt
from voiceloop.providers.groq_speech import PCM_RATE, SpeechFormat
from voiceloop.providers.longform import apply_hallucination_filter, to_segments, to_words
from voiceloop.providers.ratelimits import RateLimits
from voiceloop.providers.reporting import note_request
from voiceloop.stages import StageContext, StageKind

if TYPE_CHECKING:
    from voiceloop.config_sections import StageSection


class GroqTranscriber:
    """Speech to text for one utterance (uploads its FLAC bytes, encoding them if absent)."""

    def __init__(
        self,
        client: GroqClient,
        *,
        model: str,
        translate_client: GroqClient | None = None,
        translate_model: str = "whisper-large-v3",
        language: str | None = None,
        prompt: str | None = None,
        translate_prompt: str | None = None,
        hallucination_filter: bool = True,
        stall_timeout: float = 0.0,
    ) -> None:
        self.client = client
        self.stall_timeout = stall_timeout
        self.model = model
        self.translate_client = translate_client or client
        self.translate_model = translate_model
        self.language = language
        self.prompt = prompt
        self.translate_prompt = translate_prompt
        self.hallucination_filter = hallucination_filter

    async def warm(self) -> None:
        await self.client.pool.warm(self.client.base_url, self.translate_client.base_url)

    @property
    def rate_limits(self) -> RateLimits | None:
        """What the transcription server's latest response said is left of the limits."""
        return self.client.rate_limits

    def _deadline(self, utterance: Utterance, flac: bytes) -> float | None:
        """How long the reply may take to start: the stall timeout, plus time to upload
        the audio at a slow 2 Mbit/s and to decode it at a slow 10× real time."""
        if self.stall_timeout <= 0:
            return None
        return self.stall_timeout + len(flac) / 250_000 + utterance.duration / 10

    async def transcribe(self, utterance: Utterance, *, task: Task = "transcribe") -> Transcript:
        flac = utterance.flac
        if flac is None:
            from voiceloop.audio.formats import encode_flac

            flac = encode_flac(utterance.pcm, utterance.sample_rate)
        fmt: Literal["json", "verbose_json"] = (
            "verbose_json" if self.hallucination_filter else "json"
        )
        if task == "translate":
            client, model = self.translate_client, self.translate_model
            # The stt prompt is in the speaker's language; translation has its own, in English.
            result = await client.translate(
                flac, model=model, prompt=with_hint(self.translate_prompt, utterance),
                response_format=fmt,
                filename="audio.flac",
                deadline=self._deadline(utterance, flac),
            )  # fmt: skip
        else:
            client, model = self.client, self.model
            result = await client.transcribe(
                flac, model=model, language=self.language,
                prompt=with_hint(self.prompt, utterance),
                response_format=fmt, filename="audio.flac",
                deadline=self._deadline(utterance, flac),
            )  # fmt: skip
        if self.hallucination_filter:
            result = apply_hallucination_filter(
                result, duration=utterance.duration, speech_fraction=utterance.speech_fraction
            )
        note_request("transcriber", client.provider, result.request_id)
        return Transcript(
            text=result.text,
            language=result.language,
            duration=result.duration if result.duration is not None else utterance.duration,
            segments=to_segments(result.segments),
            words=to_words(result.words),
            provider=client.provider,
            model=model,
            request_id=result.request_id,
        )


class GroqResponder:
    """Chat: streams the reply's text deltas; records usage into the turn's report."""

    def __init__(
        self,
        client: GroqClient,
        *,
        model: str,
        system_prompt: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.model = model
        self.system_prompt = system_prompt
        self.options = {k: v for k, v in (options or {}).items() if v is not None}

    async def warm(self) -> None:
        await self.client.pool.warm(self.client.base_url)

    @property
    def rate_limits(self) -> RateLimits | None:
        """What the chat server's latest response said is left of the rate limits."""
        return self.client.rate_limits

    async def respond(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        msgs = with_system_prompt(messages, self.system_prompt)
        stream = self.client.chat_stream(msgs, model=self.model, **self.options)
        try:
            async for delta in stream:
                if delta.content:
                    yield delta.content
        finally:
            await stream.aclose()
            note_request("responder", self.client.provider, stream.request_id, stream.usage)


class GroqSynthesizer:
    """Text to speech: text longer than ``max_chars`` is spoken piece by piece, in order."""

    def __init__(
        self,
        client: GroqClient,
        *,
        model: str,
        voice: str,
        sample_rate: int | None = 48_000,
        max_chars: int = 200,
        response_format: SpeechFormat = "wav",
        pcm_rate: int = PCM_RATE,
        language: str | None = None,
    ) -> None:
        self.client = client
        self.language = language
        """The language long text is split by (sentence ends, abbreviations)."""
        self.response_format: SpeechFormat = response_format
        self.pcm_rate = pcm_rate
        self.model = model
        self.voice = voice
        self.sample_rate = sample_rate
        self.max_chars = max_chars

    async def warm(self) -> None:
        await self.client.pool.warm(self.client.base_url)

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        from voiceloop.text.sentences import split_text

        for piece in split_text(text, self.max_chars, self.language):
            first = True
            pieces = self.client.speech_stream(
                piece, model=self.model, voice=self.voice, sample_rate=self.sample_rate,
                response_format=self.response_format, pcm_rate=self.pcm_rate,
            )  # fmt: skip
            # aclosing: a consumer that stops early releases the connection at once.
            async with aclosing(pieces):
                async for audio in pieces:
                    yield AudioChunk(audio.pcm, audio.sample_rate, text=piece if first else "")
                    first = False
        note_request("synthesizer", self.client.provider, None)


def make_stage(kind: StageKind, section: StageSection, context: StageContext) -> object:
    """Factory registered as ``groq`` and ``openai`` in the ``voiceloop.stages`` group."""
    settings = context.settings if context is not None else None
    provider = getattr(section, "provider", None) or "groq"
    pool = shared_pool(context)
    client = client_for(settings, section, pool, provider=provider)
    caps = stage_capabilities(section, settings)
    if kind == "transcriber":
        translate_section = getattr(settings, "translate", None)
        is_stt = translate_section is None or section is not translate_section
        translate_client = (
            client_for(settings, translate_section, pool, provider=provider)
            if is_stt and translate_section is not None
            else client
        )
        return GroqTranscriber(
            client,
            model=section.model,
            translate_client=translate_client,
            translate_model=(
                translate_section.model if is_stt and translate_section else section.model
            ),
            language=getattr(section, "language", None),
            prompt=getattr(section, "prompt", None),
            translate_prompt=getattr(translate_section if is_stt else section, "prompt", None),
            hallucination_filter=getattr(section, "hallucination_filter", True),
            stall_timeout=settings.http.stall_timeout if settings is not None else 0.0,
        )
    if kind == "responder":
        return GroqResponder(
            client,
            model=section.model,
            system_prompt=getattr(section, "system_prompt", None),
            options={
                "temperature": getattr(section, "temperature", None),
                "max_completion_tokens": getattr(section, "max_completion_tokens", None),
                "reasoning_effort": (
                    getattr(section, "reasoning_effort", None) if caps.reasoning_effort else None
                ),
            },
        )
    if kind == "synthesizer":
        fmt: SpeechFormat = getattr(section, "response_format", "wav")
        if fmt not in caps.speech_formats:
            raise ConfigError(
                f"this speech server does not send response_format {fmt!r}",
                hint="set [tts] response_format to one of: " + ", ".join(caps.speech_formats),
            )
        return GroqSynthesizer(
            client,
            model=section.model,
            voice=getattr(section, "voice", "autumn"),
            sample_rate=getattr(section, "sample_rate", 48_000) if caps.sample_rate else None,
            max_chars=getattr(section, "max_chars", 200),
            response_format=fmt,
            pcm_rate=getattr(section, "pcm_rate", PCM_RATE),
            language=getattr(getattr(settings, "stt", None), "language", None),
        )
    raise ConfigError(f"provider {provider!r} has no {kind} stage")
