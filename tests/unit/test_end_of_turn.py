"""Semantic end of turn: the endpointer with a scripted model, and the bundled Smart Turn
model on speech made with espeak-ng."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.unit.test_endpointer import LoudIsSpeech, frames_from, run, utterances
from voiceloop.audio.base import SpeechPaused, UtteranceReady
from voiceloop.audio.vad import FRAME_S, Endpointer, EnergyDetector
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame


class Scripted:
    """A turn model answering from a list, recording what it was asked."""

    def __init__(self, *answers: float) -> None:
        self.answers = list(answers)
        self.calls = 0

    def probability(self, pcm: np.ndarray) -> float:
        self.calls += 1
        return self.answers.pop(0) if self.answers else 0.0


def make(model: Scripted, **kw) -> Endpointer:
    kw.setdefault("ignore_start_ms", 0)
    kw.setdefault("turn_min_silence_ms", 256)  # 8 frames
    kw.setdefault("turn_max_silence_ms", 2016)  # 63 frames
    return Endpointer(LoudIsSpeech(), turn_model=model, early_ms=300, **kw)


def closed_after(events: list, frames: int) -> int:
    """Frames of silence before the utterance closed (speech ends at frame ``frames``)."""
    (u,) = utterances(events)
    return round((u.utterance.end - u.utterance.speech_end) / FRAME_S)


def test_a_complete_turn_ends_after_the_short_silence() -> None:
    ep = make(Scripted(0.9))
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 80), flush=False)
    (u,) = utterances(events)
    assert u.reason == "turn_complete"
    assert closed_after(events, 35) == 8
    assert ep.turn_model.calls == 1  # type: ignore[union-attr]


def test_an_incomplete_turn_waits_for_the_cap_and_reports_its_pause() -> None:
    ep = make(Scripted(0.1, 0.2))
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 80), flush=False)
    (u,) = utterances(events)
    assert u.reason == "silence"
    assert closed_after(events, 35) == 63
    assert any(isinstance(e, SpeechPaused) for e in events)
    assert ep.turn_decisions == [0.1, 0.2]  # rated at the short silence and at the hangover


def test_speech_after_an_incomplete_pause_stays_one_utterance() -> None:
    ep = make(Scripted(0.1, 0.1, 0.9))
    # a 700 ms pause (22 frames) in the middle of the sentence
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 22 + "S" * 20 + "." * 40))
    (u,) = utterances(events)
    assert u.reason == "turn_complete"
    assert u.utterance.pcm.size == (30 + 22 + 20 + 8) * FRAME_SAMPLES + 5 * FRAME_SAMPLES


def test_hold_makes_a_complete_sounding_pause_wait() -> None:
    ep = make(Scripted(0.9, 0.9))
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 3), flush=False)
    ep.hold()  # the transcript so far ends in "for"
    events += run(ep, frames_from("." * 80, start_index=38), flush=False)
    (u,) = utterances(events)
    assert u.reason == "silence"
    assert closed_after(events, 35) == 63


def test_without_a_model_the_hangover_decides() -> None:
    ep = Endpointer(LoudIsSpeech(), ignore_start_ms=0, hangover_ms=600)
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 40), flush=False)
    (u,) = utterances(events)
    assert u.reason == "silence"
    assert closed_after(events, 35) == round(0.6 / FRAME_S)


# -- the real model on synthetic speech ------------------------------------------------

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")


def speak(text: str, tmp: Path) -> np.ndarray:
    import soundfile as sf
    import soxr

    wav = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), text], check=True)
    audio, rate = sf.read(wav, dtype="float32")
    return soxr.resample(audio, rate, SAMPLE_RATE)


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def to_frames(audio: np.ndarray) -> list[AudioFrame]:
    pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
    pcm = np.pad(pcm, (0, -pcm.size % FRAME_SAMPLES))
    return [
        AudioFrame(pcm=c, time=i * FRAME_S, level_db=-20.0)
        for i, c in enumerate(pcm.reshape(-1, FRAME_SAMPLES))
    ]


@pytest.fixture(scope="module")
def smart_turn():
    from voiceloop.audio.smartturn import SmartTurn

    return SmartTurn()


def endpoint(audio: np.ndarray, model) -> list[UtteranceReady]:
    ep = Endpointer(
        EnergyDetector(),
        ignore_start_ms=0,
        hangover_ms=600,
        turn_model=model,
        turn_min_silence_ms=250,
        turn_max_silence_ms=2000,
    )
    return utterances(run(ep, to_frames(audio)))


@needs_espeak
@pytest.mark.parametrize("text", ["What is the weather like in Paris today?", "Tell me a joke."])
def test_model_rates_a_finished_question_complete(text: str, tmp_path: Path, smart_turn) -> None:
    speech = speak(text, tmp_path)
    assert smart_turn.probability(np.concatenate([speech, silence(0.2)])) >= 0.5
    (u,) = endpoint(np.concatenate([silence(0.5), speech, silence(1.5)]), smart_turn)
    assert u.reason == "turn_complete"
    assert u.utterance.end - u.utterance.speech_end < 0.45  # far under the 600 ms hangover


@needs_espeak
@pytest.mark.parametrize(
    "text", ["So I was thinking that maybe we could, um,", "The capital of France is"]
)
def test_model_rates_a_trailing_off_one_incomplete(text: str, tmp_path: Path, smart_turn) -> None:
    speech = speak(text, tmp_path)
    assert smart_turn.probability(np.concatenate([speech, silence(0.2)])) < 0.5


@needs_espeak
@pytest.mark.parametrize("pause_s", [0.5, 0.8])
def test_a_mid_sentence_pause_does_not_end_the_turn(
    pause_s: float, tmp_path: Path, smart_turn
) -> None:
    first = speak("So I was thinking that maybe we could, um,", tmp_path)
    rest = speak("go to the cinema tonight?", tmp_path)
    audio = np.concatenate([silence(0.5), first, silence(pause_s), rest, silence(1.0)])
    (u,) = endpoint(audio, smart_turn)
    assert u.utterance.end - u.utterance.start > (first.size + rest.size) / SAMPLE_RATE


class Slow(Scripted):
    """A scripted model that takes ``seconds`` per rating."""

    def __init__(self, seconds: float, *answers: float) -> None:
        super().__init__(*answers)
        self.seconds = seconds

    def probability(self, pcm: np.ndarray) -> float:
        import time

        time.sleep(self.seconds)
        return super().probability(pcm)


def test_in_the_background_the_rating_starts_early_and_is_used_when_due() -> None:
    import time

    from voiceloop.audio.smartturn import TurnJudge

    judge = TurnJudge(Slow(0.05, 0.9), threshold=0.5, points=(8,), background=True)
    pcm = lambda: np.zeros(FRAME_SAMPLES, np.int16)  # noqa: E731
    assert judge.step(6, pcm) is None  # started two frames ahead, off this thread
    time.sleep(1.0)
    assert judge.step(7, pcm) is None  # ready, but not due yet
    assert judge.step(8, pcm) is True
    assert judge.decisions == [0.9]


def test_a_model_too_slow_for_the_hangover_leaves_the_decision_to_it() -> None:
    ep = make(Slow(1.5, 0.9), turn_background=True, hangover_ms=608)  # 19 frames
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 30), flush=False)
    (u,) = utterances(events)
    assert u.reason == "silence"
    assert closed_after(events, 35) == 19


def pause_of(ep: Endpointer, silence: int) -> list:
    """Speech, then ``silence`` frames; the pause's transcript is asked for at its report."""
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 6), flush=False)
    assert isinstance(events[-1], SpeechPaused)  # after 6 frames, 2 before the rating
    ep.expect_words()
    return events + run(ep, frames_from("." * silence, start_index=41), flush=False)


def test_a_complete_rating_waits_for_the_pause_s_words() -> None:
    ep = make(Scripted(0.9))
    events = pause_of(ep, 6)  # rated complete at 8 frames: still open, the words are due
    assert utterances(events) == [] and ep.turn_decisions == [0.9]
    ep.release()  # the transcript looks finished
    events += run(ep, frames_from("." * 5, start_index=47), flush=False)
    (u,) = utterances(events)
    assert u.reason == "turn_complete"
    assert closed_after(events, 35) == 13  # on the first frame after the words came


def test_words_that_never_come_leave_the_turn_to_the_hangover() -> None:
    ep = make(Scripted(0.9, 0.9), hangover_ms=600)
    events = pause_of(ep, 80)
    (u,) = utterances(events)
    assert u.reason == "turn_complete"
    assert closed_after(events, 35) == round(0.6 / FRAME_S)


def test_unfinished_words_overrule_a_complete_rating() -> None:
    ep = make(Scripted(0.9, 0.9))
    events = pause_of(ep, 6)
    ep.hold()  # the transcript ends in "for"
    events += run(ep, frames_from("." * 80, start_index=47), flush=False)
    (u,) = utterances(events)
    assert u.reason == "silence"
    assert closed_after(events, 35) == 63


def test_words_of_an_earlier_pause_release_nothing() -> None:
    ep = make(Scripted(0.1, 0.9))
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 6), flush=False)
    ep.expect_words()
    first_pause_end = ep._speech_end
    events += run(ep, frames_from("." * 4 + "S" * 10 + "." * 6, start_index=41), flush=False)
    ep.expect_words()
    ep.release(first_pause_end)  # late words of the first pause
    events += run(ep, frames_from("." * 10, start_index=61), flush=False)
    assert utterances(events) == []  # rated complete, but this pause's words are due
    assert ep.turn_decisions[-1] == 0.9
    ep.release()
    events += run(ep, frames_from(".", start_index=71), flush=False)
    assert [u.reason for u in utterances(events)] == ["turn_complete"]


def test_a_pause_whose_words_ask_ends_at_the_hangover() -> None:
    ep = make(Scripted(0.1, 0.1), hangover_ms=608)  # 19 frames; rated incomplete twice
    events = pause_of(ep, 0)
    ep.release(ep._speech_end, question=True)  # the transcript: "Why is the sky blue?"
    events += run(ep, frames_from("." * 80, start_index=41), flush=False)
    (u,) = utterances(events)
    assert u.reason == "question"
    assert closed_after(events, 35) == 19  # not at the cap (63)
    assert ep.turn_decisions == [0.1, 0.1]


def test_the_next_pause_s_words_decide_anew() -> None:
    ep = make(Scripted(0.1, 0.1, 0.1, 0.1), hangover_ms=608)
    events = pause_of(ep, 0)
    ep.release(question=True)  # the first pause asked ...
    events += run(ep, frames_from("." * 4 + "S" * 10 + "." * 6, start_index=41), flush=False)
    assert utterances(events) == []  # ... but the speaker went on
    ep.expect_words()
    ep.release()  # this pause's words look finished, and do not ask
    events += run(ep, frames_from("." * 80, start_index=61), flush=False)
    (u,) = utterances(events)
    assert u.reason == "silence"
    assert round((u.utterance.end - u.utterance.speech_end) / FRAME_S) == 63


# -- a reply prepared during the pause: the close waits until it can play --------------


def deferred_pause(ep: Endpointer, silence: int) -> list:
    """Speech, a pause whose words came back finished at 6 frames and got a reply under
    way (``defer``), then ``silence`` more quiet frames."""
    events = pause_of(ep, 0)
    ep.release()
    ep.defer()
    return events + run(ep, frames_from("." * silence, start_index=41), flush=False)


def test_a_complete_turn_waits_for_its_reply_then_closes_at_once() -> None:
    ep = make(Scripted(0.9, 0.9))
    events = deferred_pause(ep, 20)  # rated complete, past the hangover: still open
    assert utterances(events) == [] and ep.turn_decisions[0] == 0.9
    (u,) = utterances(ep.ready())  # the reply can play: closed now, not on the next frame
    assert u.reason == "turn_complete"
    assert round((u.utterance.end - u.utterance.speech_end) / FRAME_S) == 26


def test_a_reply_ready_before_the_rating_leaves_the_close_to_it() -> None:
    ep = make(Scripted(0.9))
    events = deferred_pause(ep, 1)  # 7 frames of silence: not rated yet
    assert ep.ready() == []
    events += run(ep, frames_from("." * 5, start_index=42), flush=False)
    (u,) = utterances(events)
    assert u.reason == "turn_complete"
    assert closed_after(events, 35) == 8  # at the rating, as without a reply


def test_speech_while_the_reply_is_prepared_keeps_one_utterance() -> None:
    ep = make(Scripted(0.9, 0.9, 0.9))
    events = deferred_pause(ep, 20)  # 26 quiet frames: 830 ms, a turn had ended by now
    stale = ep._speech_end
    events += run(ep, frames_from("S" * 10 + "." * 4, start_index=61), flush=False)
    assert ep.ready(stale) == []  # the dropped reply's late news closes nothing
    events += run(ep, frames_from("." * 10, start_index=75), flush=False)
    (u,) = utterances(events)
    assert u.utterance.pcm.size == (5 + 30 + 26 + 10 + 8) * FRAME_SAMPLES


def test_a_reply_that_never_gets_ready_leaves_the_turn_to_the_cap() -> None:
    ep = make(Scripted(0.9, 0.9))
    events = deferred_pause(ep, 80)
    (u,) = utterances(events)
    assert u.reason == "silence"
    assert closed_after(events, 35) == 63


def test_without_the_model_a_reply_does_not_hold_the_hangover() -> None:
    ep = Endpointer(LoudIsSpeech(), ignore_start_ms=0, hangover_ms=600, early_ms=300)
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 10), flush=False)
    ep.defer()
    events += run(ep, frames_from("." * 30, start_index=45), flush=False)
    assert closed_after(events, 35) == round(0.6 / FRAME_S)


def pauses(events: list) -> list[tuple[int, bool]]:
    """(frames of silence, quick) of each reported pause; speech ends at frame 35."""
    return [
        (round((e.utterance.end - e.utterance.speech_end) / FRAME_S), e.quick)
        for e in events
        if isinstance(e, SpeechPaused)
    ]


@pytest.mark.parametrize("model", [True, False])
def test_a_quick_pause_report_comes_before_the_usual_one(model: bool) -> None:
    kw = {"turn_model": Scripted(0.1, 0.1)} if model else {}
    ep = Endpointer(
        LoudIsSpeech(), ignore_start_ms=0, hangover_ms=600, early_ms=300, quick_ms=64, **kw
    )
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 12), flush=False)
    assert pauses(events) == [(2, True), (6 if model else 9, False)]


def test_no_quick_report_unless_it_is_sooner() -> None:
    ep = Endpointer(LoudIsSpeech(), ignore_start_ms=0, hangover_ms=600, early_ms=64, quick_ms=64)
    events = run(ep, frames_from("." * 5 + "S" * 30 + "." * 12), flush=False)
    assert pauses(events) == [(2, False)]
