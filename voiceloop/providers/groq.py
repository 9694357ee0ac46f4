"""Groq's API, and any OpenAI-compatible server: speech to text, chat, speech, models.

:class:`GroqClient` is one server (base URL + key) on a shared :class:`ClientPool`. Its
operations return plain results; the stage adapters (:mod:`voiceloop.providers.groq_stages`)
turn them into voiceloop's frames. The long-input helpers (splitting long text for
speech, chunking long audio for transcription) live in :mod:`voiceloop.providers.longform`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import SecretStr

from voiceloop.errors import BadRequestError, ProviderError, UsageError
from voiceloop.frames import Message
from voiceloop.providers.groq_chat import (
    ChatResult,
    ChatStream,
    chat_body,
    parse_chat_completion,
    without_reasoning,
)
from voiceloop.providers.groq_speech import (
    PCM_RATE,
    SpeechAudio,
    SpeechFormat,
    speech_body,
    stream_speech,
)
from voiceloop.providers.http import ClientPool
from voiceloop.providers.http_errors import request_id_of
from voiceloop.providers.ratelimits import RateLimits

ResponseFormat = Literal["json", "text", "verbose_json"]
AudioInput = bytes | str | PathLike[str]

_MIME = {
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".mp3": "audio/mpeg",
    ".mpga": "audio/mpeg",
    ".mpeg": "audio/mpeg",
    ".mp4": "audio/mp4",
    ".m4a": "audio/mp4",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".webm": "audio/webm",
}


@dataclass(slots=True)
class TranscriptionResult:
    """What ``audio/transcriptions`` or ``audio/translations`` answered."""

    text: str
    language: str | None = None
    duration: float | None = None
    segments: list[dict[str, Any]] = field(default_factory=list)
    words: list[dict[str, Any]] = field(default_factory=list)
    request_id: str | None = None
    raw: Any = None
    """The decoded JSON body (or the text for ``response_format="text"``)."""


@dataclass(slots=True)
class ModelInfo:
    """One entry of ``GET /models``; unknown fields are kept in ``extra``."""

    id: str
    owned_by: str | None = None
    context_window: int | None = None
    active: bool | None = None
    created: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _sniff_mime(data: bytes) -> tuple[str, str]:
    if data[:4] == b"fLaC":
        return "audio.flac", "audio/flac"
    if data[:4] == b"RIFF":
        return "audio.wav", "audio/wav"
    if data[:4] == b"OggS":
        return "audio.ogg", "audio/ogg"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3"):
        return "audio.mp3", "audio/mpeg"
    return "audio.bin", "application/octet-stream"


def read_upload(file: AudioInput, filename: str | None = None) -> tuple[str, bytes, str]:
    """``(filename, bytes, content type)`` for a multipart ``file`` part."""
    if isinstance(file, bytes | bytearray | memoryview):
        data = bytes(file)
        name, mime = _sniff_mime(data)
        return filename or name, data, mime
    path = Path(file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file", hint="check the path") from None
    except IsADirectoryError:
        raise UsageError(f"{path}: is a directory, not an audio file") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    mime = _MIME.get(path.suffix.lower()) or _sniff_mime(data)[1]
    return filename or path.name, data, mime


def _to_float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class GroqClient:
    """One OpenAI-compatible server: ``base_url`` is the API root (``.../openai/v1``)."""

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | None,
        *,
        pool: ClientPool,
        provider: str = "groq",
        extra_body: Mapping[str, Any] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.pool = pool
        self.provider = provider
        self.extra_body = dict(extra_body or {})
        """Fields added to every request body (JSON) or form (multipart)."""
        self.extra_headers = dict(extra_headers or {})
        """Headers added to every request."""

    @property
    def rate_limits(self) -> RateLimits | None:
        """Rate limits from this server's most recent response."""
        return self.pool.rate_limits.get(self.base_url)

    def _json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ProviderError(
                f"{self.provider}: the server sent something that is not JSON",
                hint="is the base URL an OpenAI-compatible API root (…/v1)?",
                status=response.status_code,
                request_id=request_id_of(response.headers),
                provider=self.provider,
            ) from None

    # -- speech to text ------------------------------------------------------------

    async def transcribe(
        self,
        file: AudioInput,
        *,
        model: str,
        language: str | None = None,
        prompt: str | None = None,
        response_format: ResponseFormat = "json",
        temperature: float | None = None,
        timestamp_granularities: Sequence[str] = (),
        filename: str | None = None,
        deadline: float | None = None,
    ) -> TranscriptionResult:
        """``POST /audio/transcriptions`` with one file (no splitting; see longform).

        ``deadline``: seconds to wait for the reply to start before the attempt counts as
        timed out (retried, then :class:`ProviderTimeoutError`); ``None``: the read timeout.
        """
        return await self._speech_to_text(
            "audio/transcriptions", file, model=model, language=language, prompt=prompt,
            response_format=response_format, temperature=temperature,
            timestamp_granularities=timestamp_granularities, filename=filename,
            deadline=deadline,
        )  # fmt: skip

    async def translate(
        self,
        file: AudioInput,
        *,
        model: str,
        prompt: str | None = None,
        response_format: ResponseFormat = "json",
        temperature: float | None = None,
        filename: str | None = None,
        deadline: float | None = None,
    ) -> TranscriptionResult:
        """``POST /audio/translations``: English text of speech in any language."""
        return await self._speech_to_text(
            "audio/translations", file, model=model, language=None, prompt=prompt,
            response_format=response_format, temperature=temperature,
            timestamp_granularities=(), filename=filename, deadline=deadline,
        )  # fmt: skip

    async def _speech_to_text(
        self,
        path: str,
        file: AudioInput,
        *,
        model: str,
        language: str | None,
        prompt: str | None,
        response_format: ResponseFormat,
        temperature: float | None,
        timestamp_granularities: Sequence[str],
        filename: str | None,
        deadline: float | None = None,
    ) -> TranscriptionResult:
        name, data, mime = read_upload(file, filename)
        form: list[tuple[str, str]] = [("model", model), ("response_format", response_format)]
        if language:
            form.append(("language", language))
        if prompt:
            form.append(("prompt", prompt))
        if temperature is not None:
            form.append(("temperature", str(temperature)))
        for granularity in timestamp_granularities:
            form.append(("timestamp_granularities[]", granularity))
        form += [
            (k, v if isinstance(v, str) else json.dumps(v)) for k, v in self.extra_body.items()
        ]
        # Form fields go as multipart parts next to the file (repeated keys allowed).
        files: list[tuple[str, Any]] = [(k, (None, v)) for k, v in form]
        files.append(("file", (name, data, mime)))
        accept = "text/plain" if response_format == "text" else "application/json"
        response = await self.pool.request(
            "POST", self.base_url, path, key=self.api_key, provider=self.provider,
            model=model, files=files, deadline=deadline,
            headers={"accept": accept, **self.extra_headers},
        )  # fmt: skip
        rid = request_id_of(response.headers)
        if response_format == "text":
            text = response.text
            return TranscriptionResult(text=text.strip(), request_id=rid, raw=text)
        body = self._json(response)
        if not isinstance(body, dict):
            body = {"text": str(body)}
        return TranscriptionResult(
            text=str(body.get("text", "")).strip(),
            language=body.get("language"),
            duration=_to_float(body.get("duration")),
            segments=list(body.get("segments") or []),
            words=list(body.get("words") or []),
            request_id=rid or request_id_of({}, body),
            raw=body,
        )

    # -- chat ----------------------------------------------------------------------

    async def chat(
        self, messages: Sequence[Message | dict[str, Any]], *, model: str, **options: Any
    ) -> ChatResult:
        """A whole (not streamed) chat completion. ``options``: see :func:`chat_body`."""
        body = {**chat_body(messages, model=model, stream=False, **options), **self.extra_body}
        try:
            response = await self.pool.request(
                "POST", self.base_url, "chat/completions", key=self.api_key,
                provider=self.provider, model=model, json=body, headers=self.extra_headers,
            )  # fmt: skip
        except BadRequestError as exc:
            stripped = without_reasoning(body, exc)
            if stripped is None:
                raise
            response = await self.pool.request(
                "POST", self.base_url, "chat/completions", key=self.api_key,
                provider=self.provider, model=model, json=stripped, headers=self.extra_headers,
            )  # fmt: skip
        return parse_chat_completion(self._json(response), response.headers, self.provider)

    def chat_stream(
        self, messages: Sequence[Message | dict[str, Any]], *, model: str, **options: Any
    ) -> ChatStream:
        """A streamed chat completion: ``async for delta in stream`` then ``stream.usage``."""
        body = {**chat_body(messages, model=model, stream=True, **options), **self.extra_body}
        return ChatStream(
            self.pool, self.base_url, "chat/completions", key=self.api_key,
            provider=self.provider, model=model, body=body, headers=self.extra_headers,
        )  # fmt: skip

    # -- speech --------------------------------------------------------------------

    def speech_stream(
        self,
        text: str,
        *,
        model: str,
        voice: str,
        sample_rate: int | None = None,
        speed: float | None = None,
        response_format: SpeechFormat = "wav",
        pcm_rate: int = PCM_RATE,
    ) -> AsyncGenerator[SpeechAudio, None]:
        """``POST /audio/speech``, decoded while the body arrives: float32 pieces.

        ``pcm_rate`` is the rate of raw ``pcm`` replies (they carry no header)."""
        body = speech_body(
            text, model=model, voice=voice, sample_rate=sample_rate, speed=speed,
            response_format=response_format,
        )  # fmt: skip
        return stream_speech(
            self.pool, self.base_url, key=self.api_key, provider=self.provider, model=model,
            body={**body, **self.extra_body}, headers=self.extra_headers, pcm_rate=pcm_rate,
        )  # fmt: skip

    async def speech(
        self,
        text: str,
        *,
        model: str,
        voice: str,
        sample_rate: int | None = None,
        speed: float | None = None,
        max_chars: int | None = None,
    ) -> SpeechAudio:
        """The whole audio for ``text`` at its real (header) sample rate.

        With ``max_chars``, longer text is split at sentence, clause or word boundaries,
        one request per piece, and the audio joined (at the first piece's rate).
        """
        import numpy as np

        from voiceloop.audio.formats import resample

        if max_chars is not None:
            from voiceloop.text.sentences import split_text

            texts = split_text(text, max_chars)
        else:
            texts = [text]
        pieces: list[SpeechAudio] = []
        for piece_text in texts:
            async with aclosing(
                self.speech_stream(
                    piece_text, model=model, voice=voice, sample_rate=sample_rate, speed=speed
                )
            ) as stream:
                pieces += [piece async for piece in stream]
        rate = pieces[0].sample_rate if pieces else (sample_rate or 48_000)
        parts = [
            p.pcm if p.sample_rate == rate else resample(p.pcm, p.sample_rate, rate) for p in pieces
        ]
        pcm = np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0)
        return SpeechAudio(pcm=pcm.astype(np.float32, copy=False), sample_rate=rate)

    # -- models --------------------------------------------------------------------

    async def models(self) -> list[ModelInfo]:
        """``GET /models``: what this server offers."""
        response = await self.pool.request(
            "GET", self.base_url, "models", key=self.api_key, provider=self.provider,
            headers=self.extra_headers,
        )  # fmt: skip
        body = self._json(response)
        entries = body.get("data", []) if isinstance(body, dict) else body
        out = []
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or "id" not in entry:
                continue
            extra = {
                k: v
                for k, v in entry.items()
                if k not in {"id", "owned_by", "context_window", "active", "created"}
            }
            out.append(
                ModelInfo(
                    id=str(entry["id"]),
                    owned_by=entry.get("owned_by"),
                    context_window=entry.get("context_window"),
                    active=entry.get("active"),
                    created=entry.get("created"),
                    extra=extra,
                )
            )
        return out
