"""Text to speech: ``POST /audio/speech`` answered with a WAV body, decoded as it arrives."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import SecretStr

from voiceloop.errors import AudioDecodeError, ProviderError, StreamError
from voiceloop.providers.http import ClientPool
from voiceloop.providers.http_errors import request_id_of

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class SpeechAudio:
    """float32 mono samples in [-1, 1] at the rate the server's WAV header states."""

    pcm: np.ndarray
    sample_rate: int

    @property
    def duration(self) -> float:
        return len(self.pcm) / self.sample_rate


def speech_body(
    text: str,
    *,
    model: str,
    voice: str,
    sample_rate: int | None = None,
    speed: float | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST /audio/speech`` (always ``response_format: wav``)."""
    body: dict[str, Any] = {"model": model, "input": text, "voice": voice, "response_format": "wav"}
    if sample_rate is not None:
        body["sample_rate"] = sample_rate
    if speed is not None:
        body["speed"] = speed
    return body


async def stream_speech(
    pool: ClientPool,
    base_url: str,
    *,
    key: SecretStr | None,
    provider: str,
    model: str,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> AsyncIterator[SpeechAudio]:
    """Yield decoded audio pieces while the (possibly chunked) WAV body arrives.

    A body that breaks before any audio was yielded is requested again (within the
    pool's retry budget); after that, a break raises :class:`StreamError`.
    """
    from voiceloop.audio.formats import WavStreamDecoder

    budget = pool.budget()
    while True:
        delivered = False
        try:
            async with pool.stream(
                "POST", base_url, "audio/speech", key=key, provider=provider, model=model,
                json=body, budget=budget, headers={**(headers or {}), "accept": "audio/wav"},
            ) as response:  # fmt: skip
                rid = request_id_of(response.headers)
                decoder = WavStreamDecoder()
                try:
                    async for data in response.aiter_bytes():
                        pcm = decoder.feed(data)
                        if len(pcm):
                            delivered = True
                            yield SpeechAudio(pcm=pcm, sample_rate=decoder.sample_rate)
                    decoder.close()
                except AudioDecodeError as exc:
                    raise ProviderError(
                        f"{provider}: the speech reply is not usable WAV audio ({exc})",
                        hint="the server must answer audio/speech with response_format=wav",
                        request_id=rid,
                        provider=provider,
                    ) from None
                return
        except httpx.HTTPError as exc:
            if delivered or not budget.left:
                raise StreamError(
                    f"{provider}: the speech audio broke off ({type(exc).__name__})",
                    hint="try again",
                    provider=provider,
                ) from None
            await pool.wait_before_retry(budget, None)
