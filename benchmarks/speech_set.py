"""Spoken questions for the latency benchmark (see ``latency.py``): espeak-ng speech, some
with a pause in the middle of the sentence, played in real time as a microphone would.

Each question is a list of parts spoken with ``pause_ms`` of silence between them. The
loopback server "transcribes" an upload by counting its stretches of sound separated by
more than 0.3 s (the parts it holds) and answering with their words, so a transcript
asked during a pause is the words said so far.
"""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from benchmarks.sim_audio import Pacer
from tests.fakegroq.audio import sound_regions
from voiceloop.audio.formats import resample
from voiceloop.audio.framing import level_db
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE

WHOLE = [
    "What is the capital of Australia?",
    "How far away is the moon?",
    "Why is the sky blue?",
    "Can you recommend a good book about history?",
    "What should I cook for dinner tonight?",
    "How do I get rid of the hiccups?",
    "Who painted the ceiling of the Sistine Chapel?",
    "What is the tallest mountain in Europe?",
    "How long should I boil an egg?",
    "Tell me a fun fact about octopuses.",
]
PAUSED = [  # (before the pause, after it): most pauses fall where no sentence ends
    ("I would like to book a table for", "four people at eight tonight."),
    ("Can you tell me the weather", "in Paris tomorrow morning?"),
    ("What is the best way to", "learn a new language quickly?"),
    ("Remind me to call my mother", "when I get home from work."),
    ("How many calories are there in", "a large banana?"),
    ("Could you explain how a", "rainbow forms after the rain?"),
    ("Which train should I take", "to get to the airport?"),
    ("What time does the museum", "open on Sundays?"),
    ("I need a recipe with", "chicken rice and spinach."),
    ("Tell me the story of", "the first flight across the Atlantic."),
]
PAUSES_MS = (400, 600, 800)

REPLIES = [
    "Sure, here is the short answer. {q} is a good question, and people ask it often. "
    "The details depend on a few things. Let me know if you want more.",
    "Of course: the answer is simple. Most sources agree on it, with small differences. "
    "I can give you the numbers too. Just ask.",
    "Good question, since it comes up a lot. The usual answer has three parts. "
    "First comes the background, then the facts. Finally there is a practical tip.",
    "Well, it depends on what you mean exactly. In most cases the answer is yes. "
    "Some experts would add a caveat. I can explain it in more detail.",
]


@dataclass
class Question:
    parts: list[str]
    pause_ms: int  # 0: spoken in one go
    audio: np.ndarray  # int16 at 16 kHz: the parts with the pauses between them

    @property
    def text(self) -> str:
        return " ".join(self.parts)


def espeak_pcm(text: str, ssml: bool = False) -> np.ndarray:
    """``text`` spoken by espeak-ng: int16 at 16 kHz, silence trimmed at both ends."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is not installed (system package espeak-ng)")
    flags = ["-m"] if ssml else []
    wav = subprocess.run([exe, *flags, "--stdout", text], check=True, capture_output=True).stdout
    pcm, rate = sf.read(io.BytesIO(wav), dtype="float32")
    return _trimmed(resample(pcm, int(rate), SAMPLE_RATE))


def piper_voice() -> Callable[[str], np.ndarray]:
    """The local Piper voice (voiceloop's embedded one) as a ``text -> pcm`` function."""
    from voiceloop.providers.local import LocalSynthesizer

    synthesizer = LocalSynthesizer()

    async def speak(text: str) -> np.ndarray:
        chunks = [chunk async for chunk in synthesizer.synthesize(text)]
        pcm = np.concatenate([np.asarray(c.pcm, np.float32).reshape(-1) for c in chunks])
        return _trimmed(resample(pcm, chunks[0].sample_rate, SAMPLE_RATE))

    return lambda text: asyncio.run(speak(text))


def _trimmed(pcm: np.ndarray) -> np.ndarray:
    loud = np.flatnonzero(np.abs(pcm) > 0.02)
    pcm = pcm[loud[0] : loud[-1] + 1] if len(loud) else pcm
    return (np.clip(pcm, -1, 1) * 32767 * 0.8).astype(np.int16)


def questions(whole: int, paused: int, voice: str = "espeak") -> list[Question]:
    """``whole`` questions said in one go, then ``paused`` with a mid-sentence pause, in
    espeak-ng's voice (the pause an SSML break inside the sentence) or the local Piper one
    (the two halves synthesized apart, so the first ends with a sentence's falling tone:
    harder for an end-of-turn model than a person's pause)."""
    speak = piper_voice() if voice == "piper" else espeak_pcm
    out = []
    for i in range(whole):
        text = WHOLE[i % len(WHOLE)]
        out.append(Question([text], 0, speak(text)))
    for i in range(paused):
        head, tail = PAUSED[i % len(PAUSED)]
        pause_ms = PAUSES_MS[i % len(PAUSES_MS)]
        if voice == "piper":  # two syntheses: the first half ends as a sentence would
            gap = np.zeros(round(pause_ms / 1000 * SAMPLE_RATE), np.int16)
            audio = np.concatenate([speak(head), gap, speak(tail)])
        else:  # one sentence with a break inside: its melody goes on over the pause
            audio = espeak_pcm(f'{head} <break time="{pause_ms}ms"/> {tail}', ssml=True)
        out.append(Question([head, tail], pause_ms, audio))
    return out


def reply_for(question: str) -> str:
    """A reply of four sentences, the same for the same question."""
    template = REPLIES[sum(map(ord, question)) % len(REPLIES)]
    return template.format(q="That")


class Transcripts:
    """What the server hears: the words of the parts an upload holds, of the question
    being spoken; a pause's transcript ends in a full stop, as Whisper writes one."""

    def __init__(self) -> None:
        self.current: Question | None = None

    def __call__(self, pcm: np.ndarray, rate: int) -> str:
        question = self.current
        if question is None:
            return ""
        heard = min(len(sound_regions(pcm, rate)), len(question.parts))
        if heard == len(question.parts):
            return question.text
        return " ".join(question.parts[:heard]).rstrip(".?") + "."


class SpokenSource:
    """Frames of each question in real time, then silence until ``settled(i)`` says the
    turns it started are over (or a time-out), then the next question."""

    realtime = True
    dropped = 0

    def __init__(
        self,
        items: list[Question],
        transcripts: Transcripts,
        settled: Callable[[int, float], bool],
        *,
        lead_s: float = 0.4,
        timeout_s: float = 12.0,
    ) -> None:
        self.items = items
        self.transcripts = transcripts
        self.settled = settled
        self.lead_s = lead_s
        self.timeout_s = timeout_s
        self.spans: list[tuple[float, float]] = []  # loop time: speech start, speech end
        self.timeouts = 0
        self._closed = False

    async def frames(self) -> AsyncIterator[AudioFrame]:
        pacer = Pacer()
        loop = pacer.loop
        quiet = np.zeros(FRAME_SAMPLES, np.int16)

        async def frame(pcm: np.ndarray) -> AudioFrame:
            return await pacer.frame(pcm, level_db(pcm))

        for i, item in enumerate(self.items):
            self.transcripts.current = item
            for _ in range(round(self.lead_s / FRAME_S)):
                yield await frame(quiet)
            start = pacer.now
            audio = np.concatenate([item.audio, np.zeros(-len(item.audio) % FRAME_SAMPLES)])
            for k in range(0, len(audio), FRAME_SAMPLES):
                yield await frame(audio[k : k + FRAME_SAMPLES].astype(np.int16))
            end = start + len(item.audio) / SAMPLE_RATE
            self.spans.append((start, end))
            while not self._closed and not self.settled(i, end):
                if loop.time() - end > self.timeout_s:
                    self.timeouts += 1
                    break
                yield await frame(quiet)
            if self._closed:
                return
        for _ in range(10):
            yield await frame(quiet)

    async def aclose(self) -> None:
        self._closed = True
