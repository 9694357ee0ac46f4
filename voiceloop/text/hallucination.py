"""Drop what Whisper "hears" in silence.

Whisper-family models invent text for silent or noisy audio. Two guards:

- :func:`filter_segments` uses the model's own per-segment scores (``verbose_json``):
  a segment is silence when ``no_speech_prob`` is high *and* ``avg_logprob`` is low (either
  alone misfires on real speech), and a suspect decode (repetition loop) when its
  ``compression_ratio`` is high. These are Whisper's own decoding thresholds. Segments
  without scores are kept.
- :func:`is_known_hallucination` recognises the classic phantom phrases ("Thank you.",
  "Thanks for watching!", "Subtitles by the Amara.org community", a lone "you", ...).
  A user may really say "Thank you", so the phrase alone proves nothing: use
  :func:`is_phantom` which only condemns such text when the audio held little speech
  (the VAD judged under ``max_speech_fraction`` of it speech) or the model itself said
  it was probably silence (mean ``no_speech_prob`` ≥ 0.5).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from voiceloop.frames import Segment, Transcript

__all__ = [
    "PHANTOM_PHRASES",
    "filter_segments",
    "is_known_hallucination",
    "is_phantom",
]

_PHRASES = frozenset(
    {
        "you",
        "thank you",
        "thank you very much",
        "thank you so much",
        "thanks",
        "thanks for watching",
        "thank you for watching",
        "thanks for watching and see you next time",
        "thank you for watching and see you next time",
        "please subscribe",
        "like and subscribe",
        "please like and subscribe",
        "subscribe to my channel",
        "bye",
        "bye bye",
        "so",
        "okay",
        "music",
        "applause",
        "silence",
        "blank audio",
        "sous titrage societe radio canada",
        "ご視聴ありがとうございました",
        "谢谢观看",
        "字幕由amaraorg社区提供",
    }
)

_PREFIXES = (
    "subtitles by",
    "subtitled by",
    "captions by",
    "captioning by",
    "transcribed by",
    "translated by",
    "transcription by",
    "untertitel der amara",
    "untertitel im auftrag",
    "sottotitoli creati dalla comunita amara",
    "amaraorg",
)
_NOT_WORD = re.compile(r"(?:[^\w\s]|_)+")


def _normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    no_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", no_marks.replace(".", "")).lower().split())


PHANTOM_PHRASES = frozenset(_normalise(p) for p in _PHRASES)
"""Whole transcripts that Whisper typically produces from silence (normalised form)."""
_PHANTOM_PREFIXES = tuple(_normalise(p) for p in _PREFIXES)


def is_known_hallucination(text: str) -> bool:
    """True when the whole text is one of Whisper's classic phantom phrases (any case or
    punctuation, a few repeats allowed: "Thank you. Thank you.") or a credits line
    ("Subtitles by ..."). Empty or punctuation/music-only text (``...``, ``♪``) counts too.
    """
    norm = _normalise(text)
    if not norm:
        return True
    if norm in PHANTOM_PHRASES or norm.startswith(_PHANTOM_PREFIXES):
        return True
    # the same phrase repeated: "thank you thank you", "you you you"
    for phrase in PHANTOM_PHRASES:
        if norm.startswith(phrase) and not norm.replace(phrase, " ").strip():
            return True
    return False


def is_phantom(
    transcript: Transcript,
    *,
    speech_fraction: float | None = None,
    max_speech_fraction: float = 0.3,
) -> bool:
    """Whether a transcript should be thrown away as invented: its text is a known phantom
    phrase *and* the audio was mostly silence (by the VAD's ``speech_fraction``, or by the
    model's mean ``no_speech_prob`` when segments carry it)."""
    if not is_known_hallucination(transcript.text):
        return False
    if not _normalise(transcript.text):
        return True  # nothing speakable at all
    if speech_fraction is not None and speech_fraction < max_speech_fraction:
        return True
    probs = [s.no_speech_prob for s in transcript.segments if s.no_speech_prob is not None]
    return bool(probs) and sum(probs) / len(probs) >= 0.5


def _drop(seg: Segment, no_speech_prob: float, avg_logprob: float, compression: float) -> bool:
    silent = (
        seg.no_speech_prob is not None
        and seg.avg_logprob is not None
        and seg.no_speech_prob > no_speech_prob
        and seg.avg_logprob < avg_logprob
    )
    looping = seg.compression_ratio is not None and seg.compression_ratio > compression
    return silent or looping


def filter_segments(
    segments: Iterable[Segment],
    *,
    no_speech_prob: float = 0.6,
    avg_logprob: float = -1.0,
    compression_ratio: float = 2.4,
) -> list[Segment]:
    """Segments minus silence (``no_speech_prob`` above *and* ``avg_logprob`` below their
    thresholds) and suspect decodes (``compression_ratio`` above its threshold)."""
    return [s for s in segments if not _drop(s, no_speech_prob, avg_logprob, compression_ratio)]
