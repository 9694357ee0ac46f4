"""Capture + endpointing on the virtual microphone.

Speech with known silences (and a click) is played into the ``mic`` null sink while a
:class:`Microphone` records ``mic.monitor`` and the Silero endpointer runs on the frames.
The truth (where speech really starts and stops) is measured on the very frames the
microphone produced, with a 10 ms RMS window at -40 dBFS, so both sides share one clock.
"""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.fakegroq.sounds import espeak
from voiceloop.audio.base import SpeechStart, UtteranceReady
from voiceloop.audio.capture import Microphone
from voiceloop.audio.vad import Endpointer, SileroDetector
from voiceloop.frames import SAMPLE_RATE, AudioFrame

pytestmark = pytest.mark.audio

HANGOVER = 0.6
PRE_ROLL = 0.4
WINDOW = 160  # 10 ms at 16 kHz


def build_stimulus(tmp: Path) -> tuple[Path, float]:
    """0.8 s silence, phrase, 1.2 s silence, a click, 1 s silence, phrase, 0.3 s silence."""
    a, rate = soundfile.read(espeak(tmp / "a.wav", "Hello there, testing one two."))
    b, rate_b = soundfile.read(espeak(tmp / "b.wav", "Goodbye for now."))
    assert rate == rate_b

    def silence(s: float) -> np.ndarray:
        return np.zeros(round(s * rate))

    click = np.zeros(round(0.004 * rate))
    click[: len(click) // 2] = 0.9
    click[len(click) // 2 :] = -0.9
    audio = np.concatenate(
        [silence(0.8), trim(a), silence(1.2), click, silence(1.0), trim(b), silence(0.3)]
    )
    path = tmp / "stimulus.wav"
    soundfile.write(path, audio.astype(np.float32), rate, subtype="PCM_16")
    return path, len(audio) / rate


def trim(x: np.ndarray) -> np.ndarray:
    """espeak pads its output with silence; keep only the speech."""
    loud = np.flatnonzero(np.abs(x) > 0.003)
    return x[loud[0] : loud[-1] + 1]


def speech_segments(frames: list[AudioFrame]) -> list[tuple[float, float]]:
    """(onset, end) of loud stretches, merging gaps shorter than 300 ms (between words)."""
    times, loud = [], []
    for f in frames:
        x = f.pcm.astype(np.float64) / 32768
        for k in range(0, len(x), WINDOW):
            rms = np.sqrt(np.mean(x[k : k + WINDOW] ** 2))
            times.append(f.time + k / SAMPLE_RATE)
            loud.append(rms > 10 ** (-40 / 20))
    segments: list[list[float]] = []
    for t, is_loud in zip(times, loud, strict=True):
        if not is_loud:
            continue
        if segments and t - segments[-1][1] < 0.3:
            segments[-1][1] = t + WINDOW / SAMPLE_RATE
        else:
            segments.append([t, t + WINDOW / SAMPLE_RATE])
    return [(s, e) for s, e in segments]


async def record_and_endpoint(stimulus: Path, seconds: float):
    mic = Microphone("mic.monitor", latency="high")
    endpointer = Endpointer(
        SileroDetector(), hangover_ms=HANGOVER * 1000, pre_roll_ms=PRE_ROLL * 1000
    )
    frames: list[AudioFrame] = []
    events = []
    await mic.start()

    async def play_then_stop() -> None:
        await asyncio.sleep(0.3)  # let the monitor stream settle before any speech
        player = await asyncio.create_subprocess_exec(
            "paplay", "--device=mic", str(stimulus), stderr=subprocess.PIPE
        )
        _, err = await player.communicate()
        assert player.returncode == 0, err.decode()
        await asyncio.sleep(HANGOVER + 0.4)  # the last utterance closes on silence
        await mic.aclose()

    stopper = asyncio.create_task(play_then_stop())
    async for frame in mic.frames():
        frames.append(frame)
        events += endpointer.feed(frame)
    await stopper
    events += endpointer.flush()
    return frames, events, mic.dropped


@pytest.mark.timeout(60)
async def test_utterances_start_and_end_where_the_speech_does(pulse_bench, tmp_path):
    stimulus, seconds = build_stimulus(tmp_path)
    frames, events, dropped = await record_and_endpoint(stimulus, seconds)
    times = np.array([f.time for f in frames])
    assert len(frames) > (seconds + 1) / 0.032 * 0.9, "the microphone delivered too few frames"
    steps = np.diff(times)
    # The clock may be re-anchored to the device now and then (a lost block, a stream
    # start hiccup), but never runs backwards and is otherwise exactly 32 ms per frame.
    assert np.all(steps > 0.0), "frame timestamps go backwards"
    assert np.mean(np.abs(steps - 0.032) < 0.001) > 0.95, "frame timestamps are irregular"

    segments = speech_segments(frames)
    phrases = [(s, e) for s, e in segments if e - s > 0.3]
    clicks = [(s, e) for s, e in segments if e - s <= 0.05]
    assert len(phrases) == 2, f"expected two phrases in the recording, got {segments}"
    assert len(clicks) == 1, f"expected the click in the recording, got {segments}"

    starts = [e.time for e in events if isinstance(e, SpeechStart)]
    ready = [e for e in events if isinstance(e, UtteranceReady)]
    assert len(ready) == 2, (
        f"want one utterance per phrase and none for the click/silence; got "
        f"{[(r.utterance.start, r.utterance.end, r.reason) for r in ready]} for {phrases}"
        f" (dropped frames: {dropped})"
    )
    for (onset, end), start_time, r in zip(phrases, starts, ready, strict=True):
        u = r.utterance
        assert r.reason == "silence"
        assert abs(start_time - onset) <= 0.100, f"speech start {start_time - onset:+.3f}s off"
        # Pre-roll included: the utterance begins pre_roll before the onset (±100 ms),
        # so the first word is whole.
        assert abs((onset - u.start) - PRE_ROLL) <= 0.100, f"{onset - u.start:.3f}s of pre-roll"
        assert u.end >= end, "the utterance ends before the speech does"
        assert u.end - end <= HANGOVER + 0.100, f"closed {u.end - end:.3f}s after speech ended"
        # The utterance holds exactly the recorded audio, first word included.
        first = int(np.argmin(np.abs(times - u.start)))
        assert times[first] == pytest.approx(u.start, abs=1e-6)
        recorded = np.concatenate([f.pcm for f in frames[first:]])
        assert np.array_equal(u.pcm, recorded[: len(u.pcm)])
        onset_idx = round((onset - u.start) * SAMPLE_RATE)
        head = u.pcm[onset_idx : onset_idx + 1600].astype(np.float64) / 32768
        assert np.sqrt(np.mean(head**2)) > 0.005, "the first word is missing from the audio"
        assert 0.3 < u.speech_fraction <= 1.0
