"""The small data types that flow between stages.

Audio is numpy: ``int16`` mono PCM for captured speech (16 kHz), ``float32`` in
[-1, 1] for audio on its way to a speaker (any rate, the rate travels with it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16_000
"""Rate of everything captured: what Whisper wants, and what the VAD runs at."""

FRAME_SAMPLES = 512
"""32 ms at 16 kHz: the unit of capture and of voice-activity detection."""

Task = Literal["transcribe", "translate"]
Role = Literal["system", "user", "assistant"]

_utterance_ids = itertools.count(1)


@dataclass(frozen=True, slots=True)
class AudioFrame:
    """32 ms of captured audio: ``FRAME_SAMPLES`` int16 samples at 16 kHz mono."""

    pcm: np.ndarray
    time: float
    """Stream time (seconds) of the first sample, from the capture clock."""
    level_db: float
    """RMS level in dBFS (-inf for digital silence clamps to -100)."""
    double_talk: bool = False
    """Set by the echo canceller on the frame where the raw microphone turns louder than
    the speaker's echo can be (a voice over the reply; see ``voiceloop.audio.double_talk``)."""


@dataclass(frozen=True, slots=True)
class Utterance:
    """One stretch of user speech, ready for speech-to-text."""

    pcm: np.ndarray
    """16 kHz mono int16, pre-roll included."""
    start: float
    """Stream time of the first sample (seconds)."""
    end: float
    """Stream time just after the last sample (seconds)."""
    speech_fraction: float
    """Share of frames the VAD judged to be speech, 0..1."""
    speech_end: float | None = None
    """Stream time the speaker stopped (before the hangover), when known."""
    closed_at: float | None = None
    """Stream time the endpointer closed the utterance."""
    flac: bytes | None = None
    """The FLAC encoding, once made: encoded once, written to disk and uploaded as is."""
    id: int = field(default_factory=lambda: next(_utterance_ids))
    sample_rate: int = SAMPLE_RATE
    hint: str | None = None
    """Words the speaker is likely to say here (the backchannels over a reply): a
    transcriber that takes a prompt puts them before its own, so that "mm-hmm" comes out
    as "Mm-hmm" rather than as words it resembles."""

    @property
    def duration(self) -> float:
        return len(self.pcm) / self.sample_rate


def with_hint(prompt: str | None, utterance: Utterance) -> str | None:
    """A transcriber's ``prompt`` with the utterance's :attr:`~Utterance.hint` before it."""
    parts = [p for p in (utterance.hint, prompt) if p]
    return " ".join(parts) if parts else None


@dataclass(frozen=True, slots=True)
class Segment:
    """A timed piece of a transcript (seconds from the start of the audio)."""

    start: float
    end: float
    text: str
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None


@dataclass(frozen=True, slots=True)
class Word:
    start: float
    end: float
    word: str


@dataclass(frozen=True, slots=True)
class Transcript:
    """What a Transcriber heard (or, for ``task="translate"``, the English of it)."""

    text: str
    language: str | None = None
    duration: float | None = None
    segments: tuple[Segment, ...] = ()
    words: tuple[Word, ...] = ()
    provider: str = ""
    model: str = ""
    request_id: str | None = None
    local: bool = False
    """True when a local engine produced it (including fallback after a cloud failure)."""


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Synthesized audio for (part of) one speakable piece of text."""

    pcm: np.ndarray
    """float32 mono in [-1, 1]."""
    sample_rate: int
    text: str = ""
    """The text this audio speaks (set on the chunk that starts a piece)."""

    @property
    def duration(self) -> float:
        return len(self.pcm) / self.sample_rate


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message."""

    role: Role
    content: str
