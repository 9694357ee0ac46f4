"""Local transcription of generated speech: accuracy, honest limits, and manners.

Every test here loads a real model, once per session (see conftest).
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from tests.local.speech import SENTENCES, synthesize_all, utterance_from
from tests.local.wer import corpus_wer
from voiceloop.errors import LocalModelError
from voiceloop.frames import SAMPLE_RATE, Utterance
from voiceloop.providers.local import LocalSynthesizer, LocalTranscriber
from voiceloop.stages import StageReport, reset_current_report, set_current_report

pytestmark = pytest.mark.slow

MAX_WER = 0.20


async def test_espeak_sentences_are_transcribed_within_wer(
    transcriber: LocalTranscriber, espeak_utterances: list[tuple[str, Utterance]]
) -> None:
    pairs = []
    for text, utterance in espeak_utterances:
        transcript = await transcriber.transcribe(utterance)
        pairs.append((text, transcript.text))
    wer = corpus_wer(pairs)
    assert wer <= MAX_WER, f"WER {wer:.0%} over espeak-ng sentences: {pairs}"


async def test_piper_sentences_round_trip_within_wer(
    transcriber: LocalTranscriber, synthesizer: LocalSynthesizer
) -> None:
    pairs = []
    for text in SENTENCES:
        audio, rate = await synthesize_all(synthesizer, text)
        transcript = await transcriber.transcribe(utterance_from(audio, rate))
        pairs.append((text, transcript.text))
    wer = corpus_wer(pairs)
    assert wer <= MAX_WER, f"WER {wer:.0%} over Piper round trips: {pairs}"


async def test_transcript_is_marked_local_with_segments_and_model(
    transcriber: LocalTranscriber, espeak_utterances: list[tuple[str, Utterance]]
) -> None:
    _text, utterance = espeak_utterances[0]
    report = StageReport()
    token = set_current_report(report)
    try:
        transcript = await transcriber.transcribe(utterance)
    finally:
        reset_current_report(token)
    assert transcript.local is True
    assert transcript.provider == "local"
    assert transcript.model == "tiny.en"
    assert transcript.language == "en"
    assert transcript.segments, "no segments"
    assert transcript.segments[-1].end <= utterance.duration + 0.5
    assert " ".join(s.text for s in transcript.segments) == transcript.text
    assert transcript.duration == pytest.approx(utterance.duration, abs=0.05)
    assert report.providers["transcriber"] == "local"


async def test_empty_utterance_gives_empty_text(transcriber: LocalTranscriber) -> None:
    empty = Utterance(pcm=np.zeros(0, dtype=np.int16), start=0.0, end=0.0, speech_fraction=0.0)
    transcript = await transcriber.transcribe(empty)
    assert transcript.text == ""
    assert transcript.local is True


async def test_translate_with_tiny_en_says_what_would_work() -> None:
    stage = LocalTranscriber(threads=3)  # a host of its own, never loaded by other tests
    utterance = Utterance(
        pcm=np.zeros(SAMPLE_RATE, dtype=np.int16), start=0.0, end=1.0, speech_fraction=1.0
    )
    with pytest.raises(LocalModelError) as caught:
        await stage.transcribe(utterance, task="translate")
    error = caught.value
    assert "tiny.en" in error.message and "cannot translate" in error.message
    assert error.hint is not None
    assert "GROQ_API_KEY" in error.hint and "[local] stt_model" in error.hint
    assert stage.host.loads == 0, "refusing to translate must not load the model"


async def test_model_loads_once_and_loading_does_not_block_the_loop(
    espeak_utterances: list[tuple[str, Utterance]],
) -> None:
    # threads=1 gives this test a host of its own, so the load really happens here.
    first, second = LocalTranscriber(threads=1), LocalTranscriber(threads=1)
    assert first.host is second.host
    assert first.host.loads == 0
    _text, utterance = espeak_utterances[1]
    gaps = await _tick_during(
        asyncio.gather(first.warm(), second.warm(), first.transcribe(utterance))
    )
    await second.transcribe(utterance)
    assert first.host.loads == 1
    _assert_loop_was_free(gaps)


async def test_transcription_does_not_block_the_loop(
    transcriber: LocalTranscriber, espeak_utterances: list[tuple[str, Utterance]]
) -> None:
    # About 15 s of speech: long enough that a blocked loop would show.
    pcm = np.concatenate([u.pcm for _t, u in espeak_utterances])
    long = Utterance(pcm=pcm, start=0.0, end=len(pcm) / SAMPLE_RATE, speech_fraction=1.0)
    gaps = await _tick_during(transcriber.transcribe(long))
    _assert_loop_was_free(gaps)


async def _tick_during(work: object) -> tuple[list[float], float]:
    """Run ``work`` while a 10 ms ticker runs; return the ticker's gaps and the work time."""
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    tick_task = asyncio.create_task(ticker())
    started = time.perf_counter()
    try:
        await work  # type: ignore[misc]
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        await tick_task
    return gaps, elapsed


def _assert_loop_was_free(result: tuple[list[float], float]) -> None:
    gaps, elapsed = result
    # A blocked loop shows one gap as long as the work; a free one ticks throughout.
    # Margins are wide: the machine is shared.
    assert elapsed > 0.2, f"work too short to judge ({elapsed:.2f}s)"
    assert len(gaps) >= 5, f"ticker starved: {len(gaps)} ticks in {elapsed:.2f}s"
    assert max(gaps) < max(0.25, elapsed / 2), (
        f"loop blocked for {max(gaps):.2f}s during {elapsed:.2f}s of work"
    )


async def test_silence_gives_no_invented_text(transcriber: LocalTranscriber) -> None:
    # tiny.en makes "You" of two seconds of digital silence; the filter the cloud stages
    # apply drops it here too.
    utterance = Utterance(
        pcm=np.zeros(2 * SAMPLE_RATE, np.int16), start=0.0, end=2.0, speech_fraction=0.0
    )
    raw = LocalTranscriber(transcriber.source.location, hallucination_filter=False)
    assert (await raw.transcribe(utterance)).text, "the model no longer invents text here"
    assert (await transcriber.transcribe(utterance)).text == ""
