"""Double talk: a voice over the speaker's echo is found on the raw microphone within three
frames, the echo alone never; and the guard pauses the reply on it, resuming when no speech
follows."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from voiceloop.audio.double_talk import DoubleTalkDetector, energy
from voiceloop.engine import interruptions
from voiceloop.engine.interruptions import InterruptionGuard

RNG = np.random.default_rng(5)


def frame(level: float) -> np.ndarray:
    return (RNG.normal(0, level, 512)).astype(np.int16)


def fed(detector: DoubleTalkDetector, far_level: float, near: np.ndarray) -> bool:
    far = energy(frame(far_level))
    return detector.push(near, far, far * 1.5, echo_only=True)


def test_the_echo_alone_is_never_double_talk_a_voice_over_it_is_at_once() -> None:
    detector = DoubleTalkDetector()
    for _ in range(60):  # the echo alone, -8 dB below what the speaker plays
        far_level = RNG.uniform(1000, 8000)
        echo = frame(far_level * 10 ** (-8 / 20))
        assert not fed(detector, far_level, echo)
    gain = detector.gain
    assert gain is not None and 10 * np.log10(gain) == pytest.approx(-8.0, abs=1.0)
    # A voice 10 dB over the echo: the third frame of it is double talk, once.
    hits = [fed(detector, 4000, frame(4000 * 10 ** (2 / 20))) for _ in range(5)]
    assert hits == [False, False, True, False, False]
    assert detector.onsets == 1


def test_quiet_frames_and_an_unmeasured_path_are_never_double_talk() -> None:
    detector = DoubleTalkDetector()
    assert not any(fed(detector, 4000, frame(8000)) for _ in range(5))  # gain unknown
    for _ in range(20):
        fed(detector, 4000, frame(4000 * 0.4))
    assert not any(fed(detector, 10, frame(20)) for _ in range(5))  # under -50 dBFS


class Sink:
    def __init__(self) -> None:
        self.paused = False
        self.log: list[str] = []

    def pause(self) -> None:
        self.paused = True
        self.log.append("pause")

    def resume(self) -> None:
        self.paused = False
        self.log.append("resume")


def guard(sink: Sink) -> InterruptionGuard:
    return InterruptionGuard(
        early=None,  # type: ignore[arg-type]  # no utterance closes in these tests
        cut=lambda: None,
        start_turn=lambda u, e: None,
        sink=lambda: sink,
        mode=lambda: "converse",
    )


async def test_double_talk_pauses_the_reply_and_no_speech_after_it_resumes_it(monkeypatch):
    monkeypatch.setattr(interruptions, "CONFIRM_S", 0.05)
    sink = Sink()
    g = guard(sink)
    g.voice_heard(10.0)
    assert sink.paused and g.pauses == 1 and g.double_talks == 1
    g.voice_heard(10.0)  # the next frames of the same sound: one pause
    await asyncio.sleep(0.1)
    assert sink.log == ["pause", "resume"] and not g.holding


async def test_speech_after_double_talk_keeps_the_reply_paused_for_its_words(monkeypatch):
    monkeypatch.setattr(interruptions, "CONFIRM_S", 0.05)
    sink = Sink()
    g = guard(sink)
    g.voice_heard(10.0)
    g.speech_started(at=None)
    await asyncio.sleep(0.1)
    assert sink.paused and g.holding and g.pauses == 1
    g.reset()  # the reply ended meanwhile
    assert not sink.paused


async def test_double_talk_over_speech_held_as_echo_pauses_at_once(monkeypatch):
    sink = Sink()
    g = InterruptionGuard(
        early=None,  # type: ignore[arg-type]
        cut=lambda: None,
        start_turn=lambda u, e: None,
        sink=lambda: sink,
        mode=lambda: "converse",
        echo_only=lambda *a, **k: True,  # the canceller calls it all echo
    )
    g.speech_started(at=10.0)
    assert g.holding and not sink.paused  # held quietly: it is the reply's echo
    g.voice_heard(10.0)  # and now a voice over it
    assert sink.paused and g.double_talks == 1
    g.close()
