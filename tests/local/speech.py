"""Speech generated for the tests: espeak-ng sentences, Piper output, as utterances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

from tests.fakegroq.sounds import espeak
from voiceloop.frames import SAMPLE_RATE, Utterance
from voiceloop.providers.local import LocalSynthesizer

SENTENCES = [
    "The weather is nice today and the sun is shining.",
    "Please send me the report before the meeting tomorrow.",
    "I would like a cup of coffee with milk.",
    "The train leaves the station early in the morning.",
    "Can you open the window in the kitchen?",
    "She bought a new book about the history of music.",
]


def utterance_from(audio: np.ndarray, rate: int) -> Utterance:
    """A 16 kHz int16 utterance from float audio at any rate, with half a second of silence
    around it, as the endpointer's pre-roll and hangover leave."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if rate != SAMPLE_RATE:
        audio = soxr.resample(audio, rate, SAMPLE_RATE)
    pad = np.zeros(SAMPLE_RATE // 2, dtype=np.float32)
    audio = np.concatenate([pad, audio, pad])
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    return Utterance(pcm=pcm, start=0.0, end=len(pcm) / SAMPLE_RATE, speech_fraction=1.0)


def espeak_audio(text: str, path: Path) -> tuple[np.ndarray, int]:
    """Speak ``text`` with espeak-ng into ``path``; return (float audio, rate)."""
    audio, rate = soundfile.read(espeak(path, text), dtype="float32")
    return audio, rate


async def synthesize_all(synthesizer: LocalSynthesizer, text: str) -> tuple[np.ndarray, int]:
    chunks = [chunk async for chunk in synthesizer.synthesize(text)]
    assert chunks, "no audio"
    rate = chunks[0].sample_rate
    return np.concatenate([c.pcm for c in chunks]), rate
