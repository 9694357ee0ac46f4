"""Framing, file sources, detectors on generated audio (no device)."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest
import soundfile

from tests.fakegroq.sounds import espeak
from voiceloop.audio.base import FrameSource, UtteranceReady
from voiceloop.audio.capture import FileSource
from voiceloop.audio.detectors import EnergyDetector, SileroDetector, make_detector
from voiceloop.audio.framing import FrameAssembler, level_db
from voiceloop.audio.vad import Endpointer
from voiceloop.errors import AudioDecodeError, ConfigError
from voiceloop.frames import FRAME_SAMPLES


def sine(freq, seconds, rate, amp=0.5):
    t = np.arange(round(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_level_db():
    assert level_db(np.zeros(512, np.int16)) == -100.0
    full = (np.sign(np.sin(np.arange(512))) * 32767).astype(np.int16)
    assert level_db(full) == pytest.approx(0.0, abs=0.01)
    assert level_db(sine(440, 0.1, 16000, amp=0.1)) == pytest.approx(-23.0, abs=0.2)


def test_assembler_resamples_stereo_48k_into_timed_16k_frames():
    rate = 48_000
    left = sine(1000, 1.0, rate)
    block = np.stack([left, left], axis=1)
    asm = FrameAssembler(rate)
    frames = []
    for i in range(0, len(block), 1536):
        frames += asm.push(block[i : i + 1536], 10.0 + i / rate)
    frames += asm.finish()
    assert all(len(f.pcm) == FRAME_SAMPLES and f.pcm.dtype == np.int16 for f in frames)
    assert len(frames) == pytest.approx(16000 / FRAME_SAMPLES, abs=1)
    assert [f.time for f in frames[:3]] == pytest.approx([10.0, 10.032, 10.064])
    mid = frames[len(frames) // 2]
    assert mid.level_db == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.3)
    spectrum = np.abs(np.fft.rfft(mid.pcm))
    assert np.argmax(spectrum) * 16000 / FRAME_SAMPLES == pytest.approx(1000, abs=40)


def test_assembler_follows_a_lost_block_but_not_one_late_stamp():
    asm = FrameAssembler(16_000)
    silence = np.zeros(512, np.float32)
    times = []
    stamps = [0.0, 0.032, 0.064 + 0.030, 0.096, 0.128, 0.160 + 0.064, 0.192 + 0.064]
    for stamp in stamps:
        times += [f.time for f in asm.push(silence, stamp + 1.0)]
    assert times[:5] == pytest.approx([1.0, 1.032, 1.064, 1.096, 1.128])
    assert times[6] == pytest.approx(1.192 + 0.064)


def test_assembler_frame_times_never_go_back():
    asm = FrameAssembler(16_000)
    silence = np.zeros(512, np.float32)
    times = []
    for stamp in [10.0, 10.032, 10.064, 9.5, 9.532, 9.564]:
        times += [f.time for f in asm.push(silence, stamp)]
    assert np.all(np.diff(times) >= 0.032 - 1e-9)


async def test_file_source_frames_from_a_44k_stereo_file(tmp_path):
    path = tmp_path / "tone.wav"
    audio = np.stack([sine(300, 1.0, 44100), np.zeros(44100, np.float32)], axis=1)
    soundfile.write(path, audio, 44100)
    source = FileSource(path)
    assert isinstance(source, FrameSource)
    frames = [f async for f in source.frames()]
    assert len(frames) == 32  # 1 s = 31.25 frames, the last padded
    assert [f.time for f in frames[:2]] == [0.0, pytest.approx(0.032)]
    assert frames[10].level_db == pytest.approx(20 * np.log10(0.25 / np.sqrt(2)), abs=0.5)
    assert source.dropped == 0


async def test_file_source_realtime_pacing(tmp_path):
    path = tmp_path / "short.wav"
    soundfile.write(path, np.zeros(8000, np.float32), 16000)
    t0 = time.monotonic()
    frames = [f async for f in FileSource(path, realtime=True).frames()]
    elapsed = time.monotonic() - t0
    assert len(frames) == 16
    assert elapsed >= 0.45
    fast_t0 = time.monotonic()
    [f async for f in FileSource(path).frames()]
    assert time.monotonic() - fast_t0 < elapsed / 2


async def test_file_source_stops_when_closed(tmp_path):
    path = tmp_path / "long.wav"
    soundfile.write(path, np.zeros(16000 * 5, np.float32), 16000)
    source = FileSource(path)
    got = 0
    async for _ in source.frames():
        got += 1
        if got == 3:
            await source.aclose()
    assert got == 3


async def test_file_source_bad_file_is_a_decode_error(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio")
    with pytest.raises(AudioDecodeError):
        [f async for f in FileSource(bad).frames()]
    with pytest.raises(AudioDecodeError, match="no such file"):
        [f async for f in FileSource(tmp_path / "missing.wav").frames()]


def espeak_file(tmp_path, text):
    path = espeak(tmp_path / "speech.wav", text)
    speech, rate = soundfile.read(path, dtype="float32")
    gap = np.zeros(rate, np.float32)
    # Speech in the middle of 1 s silences, plus a low steady hum throughout.
    audio = np.concatenate([gap, speech, gap])
    audio += sine(120, len(audio) / rate, rate, amp=0.003)[: len(audio)]
    soundfile.write(path, audio, rate)
    return path, 1.0, 1.0 + len(speech) / rate


@pytest.mark.parametrize("engine", ["silero", "energy"])
async def test_detectors_find_the_speech_in_a_file(tmp_path, engine):
    path, speech_from, speech_to = espeak_file(tmp_path, "Testing the speech detector.")
    detector = SileroDetector() if engine == "silero" else EnergyDetector()
    endpointer = Endpointer(detector)
    events = []
    async for frame in FileSource(path).frames():
        events += endpointer.feed(frame)
    events += endpointer.flush()
    ready = [e for e in events if isinstance(e, UtteranceReady)]
    assert len(ready) == 1
    u = ready[0].utterance
    assert u.start < speech_from and u.end > speech_to - 0.3
    assert speech_to - 0.3 < u.speech_end < speech_to + 0.3


def test_silence_is_not_speech():
    silero = SileroDetector()
    energy = EnergyDetector()
    for _ in range(20):
        assert silero.probability(np.zeros(512, np.int16)) < 0.5
        assert energy.probability(np.zeros(512, np.int16)) < 0.5


def test_make_detector_falls_back_to_energy(monkeypatch):
    assert make_detector("energy").name == "energy"
    assert make_detector("silero").name == "silero"

    def broken(self):
        from voiceloop.errors import LocalModelError

        raise LocalModelError("model file is corrupt")

    monkeypatch.setattr(SileroDetector, "__init__", broken)
    fallback = make_detector("silero")
    assert fallback.name == "energy"
    assert "corrupt" in fallback.fallback_reason
    with pytest.raises(ConfigError):
        make_detector("webrtc")


async def test_realtime_source_leaves_the_loop_free(tmp_path):
    path = tmp_path / "short.wav"
    soundfile.write(path, np.zeros(4000, np.float32), 16000)
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    task = asyncio.create_task(ticker())
    [f async for f in FileSource(path, realtime=True).frames()]
    task.cancel()
    assert ticks > 10


def test_microphone_frames_round_like_the_file_path() -> None:
    """A live frame and a decoded file hold the same int16 samples for the same audio."""
    from voiceloop.audio.formats import to_int16
    from voiceloop.audio.framing import FrameAssembler
    from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE

    rng = np.random.default_rng(7)
    block = rng.uniform(-0.9, 0.9, FRAME_SAMPLES * 4).astype(np.float32)
    frames = FrameAssembler(SAMPLE_RATE).push(block)
    live = np.concatenate([f.pcm for f in frames])
    assert np.array_equal(live, to_int16(block[: len(live)]))
