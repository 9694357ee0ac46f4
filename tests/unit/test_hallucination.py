"""Guards against text invented from silence."""

from __future__ import annotations

import pytest

from voiceloop.frames import Segment, Transcript
from voiceloop.text.hallucination import (
    filter_segments,
    is_known_hallucination,
    is_phantom,
)


def seg(text, start=0.0, end=1.0, nsp=None, lp=None, cr=None) -> Segment:
    return Segment(start, end, text, avg_logprob=lp, no_speech_prob=nsp, compression_ratio=cr)


def test_filter_segments_rules() -> None:
    speech = seg(" Hello.", nsp=0.1, lp=-0.3, cr=1.2)
    silent = seg(" Thank you.", nsp=0.9, lp=-1.5, cr=0.8)
    confident_despite_nsp = seg(" Yes.", nsp=0.9, lp=-0.2, cr=1.0)
    unsure_but_speech = seg(" Maybe.", nsp=0.2, lp=-1.8, cr=1.0)
    looping = seg(" la la la la la la la la", nsp=0.1, lp=-0.2, cr=3.1)
    unscored = seg(" No scores")
    kept = filter_segments(
        [speech, silent, confident_despite_nsp, unsure_but_speech, looping, unscored]
    )
    assert kept == [speech, confident_despite_nsp, unsure_but_speech, unscored]


def test_filter_segments_thresholds_are_parameters() -> None:
    s = seg(" x", nsp=0.5, lp=-0.8, cr=2.0)
    assert filter_segments([s]) == [s]
    assert filter_segments([s], no_speech_prob=0.4, avg_logprob=-0.5) == []
    assert filter_segments([s], compression_ratio=1.9) == []


@pytest.mark.parametrize(
    "text",
    [
        "Thank you.",
        " thank you",
        "Thanks for watching!",
        "Thank you for watching.",
        "Subtitles by the Amara.org community",
        "you",
        "You.",
        "Thank you. Thank you.",
        "...",
        "♪",
        "[BLANK_AUDIO]",
        "(Music)",
        "Sous-titrage Société Radio-Canada",
        "ご視聴ありがとうございました",
    ],
)
def test_known_hallucinations(text: str) -> None:
    assert is_known_hallucination(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for the help with my code.",
        "What do you think?",
        "you should go",
        "Subtitle files are useful.",
        "Younger",
    ],
)
def test_real_speech_is_not_a_known_hallucination(text: str) -> None:
    assert not is_known_hallucination(text)


def test_is_phantom_needs_silence_as_well() -> None:
    thanks = Transcript(text="Thank you.")
    assert is_phantom(thanks, speech_fraction=0.1)
    assert not is_phantom(thanks, speech_fraction=0.9)  # the user said it
    assert not is_phantom(thanks)  # no evidence of silence
    scored = Transcript(text="Thank you.", segments=(seg(" Thank you.", nsp=0.8, lp=-0.5),))
    assert is_phantom(scored)
    assert not is_phantom(Transcript(text="Turn left here."), speech_fraction=0.05)
    assert is_phantom(Transcript(text=" ... "), speech_fraction=1.0)
