"""The microphone opened at launch straight from the sound server (no PortAudio): what
it hears reaches the engine's microphone whole, on PortAudio's clock, and a source that
is not there leaves the open to PortAudio."""

from __future__ import annotations

import asyncio
import subprocess
import time

import numpy as np
import pytest
import soundfile

from tests.fakegroq.sounds import espeak
from voiceloop.audio import early
from voiceloop.audio.devices import import_sounddevice
from voiceloop.audio.kept import KeptMicrophone
from voiceloop.audio.pulse import PulseRecordStream

pytestmark = pytest.mark.audio


@pytest.mark.timeout(60)
async def test_speech_before_the_take_over_and_after_it_arrives_whole(pulse_bench, tmp_path):
    speech = espeak(tmp_path / "s.wav", "Testing one two three, testing.")
    capture = early.open_early("mic.monitor")
    try:
        assert capture is not None and isinstance(capture.stream, PulseRecordStream)
        assert (capture.samplerate, capture.channels) == (16_000, 1)
        await asyncio.sleep(0.3)
        player = await asyncio.create_subprocess_exec(
            "paplay", "--device=mic", str(speech), stderr=subprocess.PIPE
        )
        await asyncio.sleep(0.8)  # the take-over comes in the middle of the speech
        mic = KeptMicrophone(early.take_early("mic.monitor"))
        frames = []

        async def stop() -> None:
            await player.wait()
            await asyncio.sleep(1.0)
            await mic.aclose()

        stopper = asyncio.create_task(stop())
        async for frame in mic.frames():
            frames.append(frame)
        await stopper
    finally:
        early.discard_early()
    assert player.returncode == 0
    assert mic.dropped == 0
    times = np.array([f.time for f in frames])
    steps = np.diff(times)
    assert np.all(steps > 0) and np.mean(np.abs(steps - 0.032) < 0.002) > 0.95, steps
    # The capture clock is PortAudio's (so frame times compare with the speaker's): the
    # last frame was captured a moment ago on it.
    sd = import_sounddevice()
    with sd.OutputStream(samplerate=16_000, channels=1) as out:
        assert abs(out.time - times[-1]) < 1.5
    loud = np.array([f.level_db > -40 for f in frames])
    spoken = np.flatnonzero(loud)
    assert len(spoken) > 0, "nothing heard"
    # One stretch of speech (its short pauses aside), as long as what was played.
    seconds = (spoken[-1] - spoken[0] + 1) * 0.032
    info = soundfile.info(str(speech))
    assert seconds == pytest.approx(info.duration, abs=0.4)


def test_a_source_that_is_not_there_is_left_to_portaudio(pulse_bench):
    started = time.monotonic()
    assert early.open_record_stream(
        "no.such.source", rate=16_000, block=512, callback=lambda *a: None,
        finished_callback=lambda: None,
    ) is None  # fmt: skip
    assert time.monotonic() - started < 5
    by_index = early.open_record_stream(
        3, rate=16_000, block=512, callback=lambda *a: None, finished_callback=lambda: None
    )
    assert by_index is None  # a PortAudio device index
