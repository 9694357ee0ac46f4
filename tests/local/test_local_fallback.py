"""A cloud failure mid-session: the real local engines take the same utterance and text."""

from __future__ import annotations

import pytest

from tests.local.test_fallback import FakeSynthesizer, FakeTranscriber
from tests.local.wer import corpus_wer
from voiceloop.errors import ConnectError, RateLimitError
from voiceloop.frames import Utterance
from voiceloop.providers.fallback import FallbackSynthesizer, FallbackTranscriber
from voiceloop.providers.local import LocalSynthesizer, LocalTranscriber

pytestmark = pytest.mark.slow


async def test_cloud_down_utterance_is_transcribed_locally(
    transcriber: LocalTranscriber, espeak_utterances: list[tuple[str, Utterance]]
) -> None:
    text, utterance = espeak_utterances[2]
    seen: list[tuple[str, str, str]] = []
    stage = FallbackTranscriber(
        FakeTranscriber(error=ConnectError("could not reach api.groq.com")),
        transcriber,
        on_fallback=lambda *a: seen.append(a),
    )
    transcript = await stage.transcribe(utterance)
    assert transcript.local is True and transcript.provider == "local"
    assert corpus_wer([(text, transcript.text)]) <= 0.2, transcript.text
    assert seen and seen[0][0] == "transcriber"


async def test_rate_limited_speech_is_synthesized_locally(synthesizer: LocalSynthesizer) -> None:
    stage = FallbackSynthesizer(
        FakeSynthesizer(fail_after=0, error=RateLimitError("slow down", retry_after=600.0)),
        synthesizer,
    )
    chunks = [c async for c in stage.synthesize("The cloud is busy. Speaking locally.")]
    assert len(chunks) == 2 and chunks[0].sample_rate == 22050


async def test_translate_fallback_with_tiny_en_keeps_the_cloud_error_first(
    transcriber: LocalTranscriber, espeak_utterances: list[tuple[str, Utterance]]
) -> None:
    stage = FallbackTranscriber(FakeTranscriber(error=ConnectError("offline")), transcriber)
    with pytest.raises(ConnectError) as caught:
        await stage.transcribe(espeak_utterances[0][1], task="translate")
    assert "cannot translate" in (caught.value.hint or "")
