"""Text to speech: ``POST /audio/speech``, decoded as the body arrives.

``wav`` and raw ``pcm`` (16-bit mono at a known rate) are decoded piece by piece; ``mp3``
and ``flac`` once the whole body is in.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import SecretStr

from voiceloop.errors import AudioDecodeError, ProviderError, StreamError
from voiceloop.providers.http import ClientPool
from voiceloop.providers.http_errors import request_id_of

if TYPE_CHECKING:
    import numpy as np

    from voiceloop.audio.formats import WavStreamDecoder


SpeechFormat = Literal["wav", "pcm", "mp3", "flac"]
PCM_RATE = 24_000
"""Rate of raw ``pcm`` replies unless the settings say otherwise (OpenAI's)."""
ACCEPT = {"wav": "audio/wav", "pcm": "audio/pcm", "mp3": "audio/mpeg", "flac": "audio/flac"}


class _PcmDecoder:
    """Raw little-endian 16-bit mono at a rate known in advance."""

    def __init__(self, rate: int) -> None:
        self.sample_rate = rate
        self._odd = b""
        self._fed = 0

    def feed(self, data: bytes) -> np.ndarray:
        import numpy as np

        self._fed += len(data)
        data = self._odd + data
        cut = len(data) - len(data) % 2
        self._odd = data[cut:]
        return np.frombuffer(data[:cut], dtype="<i2").astype(np.float32) / 32768.0

    def close(self) -> None:
        if self._fed == 0:
            raise AudioDecodeError("PCM stream: empty body")
        if self._odd:
            raise AudioDecodeError("PCM stream: ended in the middle of a sample")


class _WholeFileDecoder:
    """A compressed file (mp3, flac): decoded once complete; ``close()`` yields nothing
    more, so the samples come from ``finish()``."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.sample_rate = 0

    def feed(self, data: bytes) -> np.ndarray:
        import numpy as np

        self._buf += data
        return np.zeros(0, dtype=np.float32)

    def finish(self) -> np.ndarray:
        import io

        import soundfile

        try:
            pcm, rate = soundfile.read(io.BytesIO(bytes(self._buf)), dtype="float32")
        except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
            raise AudioDecodeError(str(exc)) from None
        self.sample_rate = int(rate)
        result: np.ndarray = pcm.mean(axis=1) if pcm.ndim == 2 else pcm
        return result

    def close(self) -> None:
        pass


def _decoder(fmt: str, pcm_rate: int) -> _PcmDecoder | _WholeFileDecoder | WavStreamDecoder:
    if fmt == "pcm":
        return _PcmDecoder(pcm_rate)
    if fmt in ("mp3", "flac"):
        return _WholeFileDecoder()
    from voiceloop.audio.formats import WavStreamDecoder

    return WavStreamDecoder()


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
    response_format: SpeechFormat = "wav",
) -> dict[str, Any]:
    """The JSON body of ``POST /audio/speech``."""
    body: dict[str, Any] = {
        "model": model, "input": text, "voice": voice, "response_format": response_format,
    }  # fmt: skip
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
    pcm_rate: int = PCM_RATE,
) -> AsyncGenerator[SpeechAudio, None]:
    """Yield decoded audio pieces while the (possibly chunked) WAV body arrives.

    A body that breaks before any audio was yielded is requested again (within the
    pool's retry budget); after that, a break raises :class:`StreamError`.
    """
    fmt: SpeechFormat = body.get("response_format", "wav")
    accept = {**(headers or {}), "accept": ACCEPT[fmt]}
    budget = pool.budget()
    while True:
        delivered = False
        try:
            async with pool.stream(
                "POST", base_url, "audio/speech", key=key, provider=provider, model=model,
                json=body, budget=budget, headers=accept, deadline=pool.stall_timeout or None,
            ) as response:  # fmt: skip
                rid = request_id_of(response.headers)
                decoder = _decoder(fmt, pcm_rate)
                try:
                    async for data in response.aiter_bytes():
                        pcm = decoder.feed(data)
                        if len(pcm):
                            delivered = True
                            yield SpeechAudio(pcm=pcm, sample_rate=decoder.sample_rate)
                    if isinstance(decoder, _WholeFileDecoder):
                        pcm = decoder.finish()
                        if len(pcm):
                            delivered = True
                            yield SpeechAudio(pcm=pcm, sample_rate=decoder.sample_rate)
                    decoder.close()
                except AudioDecodeError as exc:
                    raise ProviderError(
                        f"{provider}: the speech reply is not usable {fmt} audio ({exc})",
                        hint="set [tts] response_format to one the server sends (wav, pcm, mp3)",
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
