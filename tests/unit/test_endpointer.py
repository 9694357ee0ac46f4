"""Endpointer on synthetic frame sequences: a scripted detector, no device."""

from __future__ import annotations

import numpy as np
import pytest

from voiceloop.audio.base import SpeechPaused, SpeechStart, UtteranceReady
from voiceloop.audio.vad import FRAME_S, Endpointer
from voiceloop.frames import FRAME_SAMPLES, AudioFrame


class LoudIsSpeech:
    """Speech when the frame's peak is above 1000 (the test marks speech frames loud)."""

    name = "scripted"

    def __init__(self) -> None:
        self.resets = 0

    def probability(self, pcm: np.ndarray) -> float:
        return 1.0 if int(np.abs(pcm).max()) > 1000 else 0.0

    def reset(self) -> None:
        self.resets += 1


def frames_from(pattern: str, *, start: float = 0.0, start_index: int = 0) -> list[AudioFrame]:
    """One frame per character: ``S`` speech, ``.`` silence. Each frame's samples hold
    their global sample index (mod 1000) so tests can check exactly which audio was kept."""
    out = []
    for i, ch in enumerate(pattern):
        n = start_index + i
        base = (np.arange(FRAME_SAMPLES) + n * FRAME_SAMPLES) % 997
        pcm = (base + (5000 if ch == "S" else 0)).astype(np.int16)
        out.append(AudioFrame(pcm=pcm, time=start + n * FRAME_S, level_db=-20.0))
    return out


def run(ep: Endpointer, frames: list[AudioFrame], *, flush: bool = True) -> list:
    events = []
    for f in frames:
        events += ep.feed(f)
    if flush:
        events += ep.flush()
    return events


def utterances(events) -> list[UtteranceReady]:
    return [e for e in events if isinstance(e, UtteranceReady)]


def make(**kw) -> Endpointer:
    kw.setdefault("ignore_start_ms", 0)
    return Endpointer(LoudIsSpeech(), **kw)


def test_speech_starts_after_min_speech_and_ends_after_hangover():
    # 20 silent frames, 30 speech frames, 40 silent frames.
    pattern = "." * 20 + "S" * 30 + "." * 40
    ep = make(min_speech_ms=200, hangover_ms=600, pre_roll_ms=400)
    events = []
    decided_at = None
    for i, f in enumerate(frames_from(pattern)):
        new = ep.feed(f)
        if any(isinstance(e, SpeechStart) for e in new):
            decided_at = i
        events += new
    starts = [e for e in events if isinstance(e, SpeechStart)]
    assert len(starts) == 1
    assert starts[0].time == pytest.approx(20 * FRAME_S)
    # 200 ms = 6 frames (rounded): decided on the 6th speech frame.
    assert decided_at == 20 + 6 - 1
    [ready] = utterances(events)
    u = ready.utterance
    assert ready.reason == "silence"
    # Pre-roll: 400 ms -> 13 frames (rounded up so the first word is whole).
    assert u.start == pytest.approx((20 - 13) * FRAME_S)
    assert u.speech_end == pytest.approx(50 * FRAME_S)
    # Hangover 600 ms -> 19 frames of silence after the last speech frame.
    assert u.end == pytest.approx((50 + 19) * FRAME_S)
    assert u.closed_at == u.end
    assert len(u.pcm) == round((u.end - u.start) / FRAME_S) * FRAME_SAMPLES
    assert u.speech_fraction == pytest.approx(30 / (13 + 30 + 19))
    # The audio is exactly the frames from start to end, in order.
    expected = np.concatenate([f.pcm for f in frames_from(pattern)[7:69]])
    assert np.array_equal(u.pcm, expected)


def pauses(events) -> list[SpeechPaused]:
    return [e for e in events if isinstance(e, SpeechPaused)]


def test_a_pause_reports_the_utterance_so_far_before_the_hangover_ends():
    pattern = "." * 20 + "S" * 30 + "." * 40
    ep = make(min_speech_ms=200, hangover_ms=600, pre_roll_ms=400, early_ms=300)
    events, paused_at = [], None
    for i, f in enumerate(frames_from(pattern)):
        new = ep.feed(f)
        if pauses(new):
            paused_at = i
        events += new
    # 300 ms -> 9 frames of silence after the last speech frame (index 49)
    assert paused_at == 49 + 9
    [paused] = pauses(events)
    [ready] = utterances(events)
    early, final = paused.utterance, ready.utterance
    assert (early.start, early.speech_end) == (final.start, final.speech_end)
    assert early.end == pytest.approx((50 + 9) * FRAME_S)
    # the paused utterance is the closing one without its last frames of silence
    assert np.array_equal(final.pcm[: len(early.pcm)], early.pcm)
    assert len(final.pcm) - len(early.pcm) == 10 * FRAME_SAMPLES


def test_speaking_on_after_a_pause_pauses_again_with_a_new_end():
    pattern = "S" * 10 + "." * 12 + "S" * 5 + "." * 30
    ep = make(min_speech_ms=100, hangover_ms=600, pre_roll_ms=0, early_ms=300)
    events = run(ep, frames_from(pattern))
    first, second = pauses(events)
    [ready] = utterances(events)
    assert first.utterance.speech_end != ready.utterance.speech_end
    assert second.utterance.speech_end == ready.utterance.speech_end
    assert second.utterance.start == ready.utterance.start


@pytest.mark.parametrize("early_ms", [0, 600, 900])
def test_no_pause_when_off_or_not_shorter_than_the_hangover(early_ms):
    ep = make(min_speech_ms=100, hangover_ms=600, early_ms=early_ms)
    events = run(ep, frames_from("." * 5 + "S" * 10 + "." * 30))
    assert pauses(events) == [] and len(utterances(events)) == 1


def test_push_to_talk_never_pauses():
    ep = make(min_speech_ms=100, hangover_ms=600, early_ms=100)
    ep.set_push_to_talk(True)
    events = ep.key(True)
    events += run(ep, frames_from("S" * 10 + "." * 30), flush=False) + ep.key(False)
    assert pauses(events) == [] and len(utterances(events)) == 1


def test_short_burst_and_silence_make_no_utterance():
    ep = make(min_speech_ms=200)
    pattern = "." * 10 + "SS" + "." * 30 + "S" + "." * 30
    assert utterances(run(ep, frames_from(pattern))) == []


def test_one_frame_dip_inside_onset_is_tolerated():
    ep = make(min_speech_ms=200)
    events = run(ep, frames_from("." * 5 + "SSS.SSSS" + "." * 25))
    assert len(utterances(events)) == 1
    assert [e.time for e in events if isinstance(e, SpeechStart)] == [pytest.approx(5 * FRAME_S)]


def test_pause_shorter_than_hangover_keeps_one_utterance():
    ep = make(hangover_ms=600)
    pattern = "S" * 10 + "." * 15 + "S" * 10 + "." * 25
    [u] = utterances(run(ep, frames_from(pattern)))
    assert u.utterance.speech_end == pytest.approx(35 * FRAME_S)


def test_two_utterances_do_not_share_audio():
    ep = make(hangover_ms=320, pre_roll_ms=400)
    pattern = "." * 15 + "S" * 10 + "." * 12 + "S" * 10 + "." * 20
    first, second = utterances(run(ep, frames_from(pattern)))
    assert first.utterance.end <= second.utterance.start + 1e-9


def test_pre_roll_is_limited_to_what_was_heard():
    ep = make(pre_roll_ms=400)
    [u] = utterances(run(ep, frames_from("..SSSSSSSS" + "." * 25)))
    assert u.utterance.start == 0.0


def test_max_length_closes_and_continues():
    ep = make(max_length_s=1.0, hangover_ms=320)
    events = run(ep, frames_from("S" * 80 + "." * 20))
    ready = utterances(events)
    assert [r.reason for r in ready] == ["max_length", "max_length", "silence"]
    assert len([e for e in events if isinstance(e, SpeechStart)]) == 1
    assert all(r.utterance.duration <= 1.0 + 1e-9 for r in ready)
    # Continuous: each piece starts where the last ended.
    assert ready[1].utterance.start == pytest.approx(ready[0].utterance.end)
    assert ready[2].utterance.start == pytest.approx(ready[1].utterance.end)


def test_a_short_tail_after_a_max_length_split_is_kept():
    ep = make(max_length_s=1.0, hangover_ms=320)
    # 31 frames fill the first piece; the speech goes on for 2 more frames, then stops.
    ready = utterances(run(ep, frames_from("S" * 33 + "." * 20)))
    assert [r.reason for r in ready] == ["max_length", "silence"]
    assert ready[1].utterance.speech_fraction == pytest.approx(2 / 12)
    # A split that leaves only silence behind makes no second utterance.
    ep = make(max_length_s=1.0, hangover_ms=320)
    assert len(utterances(run(ep, frames_from("S" * 31 + "." * 20)))) == 1


def test_flush_closes_open_utterance_at_end_of_input():
    ep = make()
    events = run(ep, frames_from("." * 5 + "S" * 20))
    [r] = utterances(events)
    assert r.reason == "end_of_input"
    assert r.utterance.end == pytest.approx(25 * FRAME_S)
    assert ep.flush() == []


def test_ignore_start_masks_a_click_at_opening():
    ep = Endpointer(LoudIsSpeech(), min_speech_ms=96, ignore_start_ms=150)
    # 4 loud frames right at the start (128 ms < 150 ms): ignored even though >= min_speech.
    assert utterances(run(ep, frames_from("SSSS" + "." * 30))) == []
    ep2 = Endpointer(LoudIsSpeech(), min_speech_ms=96, ignore_start_ms=0)
    assert len(utterances(run(ep2, frames_from("SSSS" + "." * 30)))) == 1


def test_suppressed_frames_never_start_or_feed_pre_roll():
    ep = make(pre_roll_ms=400)
    frames = frames_from("S" * 20 + "." * 3 + "S" * 10 + "." * 25)
    events = []
    ep.suppressed = True
    for f in frames[:20]:
        events += ep.feed(f)
    assert events == []
    ep.suppressed = False
    for f in frames[20:]:
        events += ep.feed(f)
    [r] = utterances(events)
    # The pre-roll reaches back only to where suppression ended.
    assert r.utterance.start == pytest.approx(20 * FRAME_S)


def test_end_of_suppression_ignores_the_echo_tail():
    ep = Endpointer(LoudIsSpeech(), min_speech_ms=64, ignore_start_ms=150)
    frames = frames_from("." * 10 + "SSS" + "." * 30)
    ep.suppressed = True
    for f in frames[:10]:
        ep.feed(f)
    ep.suppressed = False
    events = []
    for f in frames[10:]:
        events += ep.feed(f)
    assert utterances(events) == []


def test_push_to_talk_key_bounds_the_utterance_with_pre_roll():
    ep = make(pre_roll_ms=160)
    ep.set_push_to_talk(True)
    frames = frames_from("." * 10 + "S" * 20 + "." * 10)
    events = []
    for f in frames[:8]:
        events += ep.feed(f)
    events += ep.key(True)
    for f in frames[8:36]:
        events += ep.feed(f)
    events += ep.key(False)
    [r] = utterances(events)
    assert r.reason == "key"
    assert r.utterance.start == pytest.approx((8 - 5) * FRAME_S)  # 160 ms = 5 frames
    assert r.utterance.end == pytest.approx(36 * FRAME_S)
    assert [e.time for e in events if isinstance(e, SpeechStart)] == [pytest.approx(10 * FRAME_S)]
    # Silence after key up does not open anything in push-to-talk.
    assert utterances(run(ep, frames_from("S" * 20 + "." * 30, start_index=40))) == []


def test_push_to_talk_without_speech_is_dropped():
    ep = make()
    ep.set_push_to_talk(True)
    ep.key(True)
    events = run(ep, frames_from("." * 20 + "SS" + "." * 5), flush=False)
    events += ep.key(False)
    assert utterances(events) == []


def test_toggle_key_and_flush_in_push_to_talk():
    ep = make()
    ep.set_push_to_talk(True)
    assert ep.toggle_key() == []
    assert ep.is_open
    events = run(ep, frames_from("S" * 12))
    [r] = utterances(events)
    assert r.reason == "end_of_input"
    assert not ep.is_open


def test_reset_drops_open_utterance_and_resets_detector():
    det = LoudIsSpeech()
    ep = Endpointer(det, ignore_start_ms=0)
    run(ep, frames_from("S" * 10), flush=False)
    assert ep.is_open
    ep.reset()
    assert not ep.is_open
    assert ep.flush() == []
    assert det.resets >= 2


def test_from_settings_reads_the_vad_section():
    class Vad:
        engine = "energy"
        threshold = 0.7
        min_speech_ms = 320
        hangover_ms = 960
        pre_roll_ms = 0
        max_length_s = 10.0
        ignore_start_ms = 0
        early_transcribe_ms = 320

    ep = Endpointer.from_settings(Vad())
    assert ep.early_frames == 10
    assert ep.detector.name == "energy"
    assert (ep.threshold, ep.min_speech_frames, ep.hangover_frames) == (0.7, 10, 30)
    assert ep.pre_roll_frames == 0


@pytest.mark.parametrize(("ignore_ms", "kept"), [(150, 0), (0, 1)])
def test_key_click_right_after_key_down_is_not_speech(ignore_ms, kept):
    ep = Endpointer(LoudIsSpeech(), min_speech_ms=96, ignore_start_ms=ignore_ms)
    ep.set_push_to_talk(True)
    run(ep, frames_from("." * 10), flush=False)
    ep.key(True)
    events = run(ep, frames_from("SSSS" + "." * 10, start_index=10), flush=False)
    events += ep.key(False)
    assert len(utterances(events)) == kept


def test_a_marked_onset_starts_the_next_utterance_there():
    # A voice at frame 20 that the detector only hears from frame 40 (its first 0.6 s
    # taken for echo): the utterance reaches back to the mark, not just the pre-roll.
    frames = frames_from("." * 40 + "S" * 20 + "." * 40)
    ep = make(min_speech_ms=64, hangover_ms=320, pre_roll_ms=128)
    events = run(ep, frames[:20], flush=False)
    ep.mark_onset(frames[20].time)
    events += run(ep, frames[20:])
    (ready,) = utterances(events)
    assert ready.utterance.start == pytest.approx(frames[20].time)
    # Without the mark: the pre-roll only.
    plain = make(min_speech_ms=64, hangover_ms=320, pre_roll_ms=128)
    (ready,) = utterances(run(plain, frames))
    assert ready.utterance.start == pytest.approx(frames[36].time)


def test_an_old_onset_mark_is_forgotten():
    frames = frames_from("." * 80 + "S" * 20 + "." * 40)
    ep = make(min_speech_ms=64, hangover_ms=320, pre_roll_ms=128)
    events = run(ep, frames[:20], flush=False)
    ep.mark_onset(frames[20].time)  # 1.9 s before the speech
    events += run(ep, frames[20:])
    (ready,) = utterances(events)
    assert ready.utterance.start == pytest.approx(frames[76].time)
