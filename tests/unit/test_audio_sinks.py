"""Sinks without a device: FileSink, the Speaker's callback logic, cues."""

from __future__ import annotations

import asyncio
import json
import types

import numpy as np
import pytest
import soundfile

from voiceloop.audio.base import AudioSink
from voiceloop.audio.cues import (
    asset_path,
    load_cue,
)
from voiceloop.audio.filesink import FileSink
from voiceloop.audio.playback import Speaker
from voiceloop.errors import AudioError
from voiceloop.frames import AudioChunk


def chunk(value: float, seconds: float, rate: int = 24_000, text: str = "") -> AudioChunk:
    return AudioChunk(np.full(round(seconds * rate), value, np.float32), rate, text)


async def test_file_sink_writes_audio_and_timing(tmp_path):
    sink = FileSink(tmp_path / "out.wav")
    assert isinstance(sink, AudioSink)
    await sink.start()
    a = sink.play(chunk(0.5, 0.5, text="Hello."))
    b = sink.play(chunk(-0.25, 0.25, rate=16_000, text="Bye."))
    await sink.drain()
    assert (await a.started, await a.finished) == (0.0, 0.5)
    assert (await b.started, await b.finished) == (0.5, 0.75)
    await sink.aclose()
    audio, rate = soundfile.read(tmp_path / "out.wav")
    assert rate == 24_000 and len(audio) == 18_000
    assert audio[100] == pytest.approx(0.5, abs=1e-3)
    assert audio[-100] == pytest.approx(-0.25, abs=1e-3)
    timing = json.loads((tmp_path / "out.timing.json").read_text())
    assert timing["chunks"] == [
        {"start": 0.0, "end": 0.5, "text": "Hello.", "flushed": False},
        {"start": 0.5, "end": 0.75, "text": "Bye.", "flushed": False},
    ]


async def test_realtime_file_sink_paces_and_flush_cuts(tmp_path):
    sink = FileSink(tmp_path / "rt.wav", realtime=True)
    await sink.start()
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    first = sink.play(chunk(0.5, 0.1))
    await first.finished
    assert loop.time() - t0 >= 0.09
    long = sink.play(chunk(0.5, 2.0))
    after = sink.play(chunk(0.5, 1.0))
    await long.started
    await asyncio.sleep(0.1)
    sink.flush()
    assert long.finished.cancelled() and after.started.cancelled()
    await sink.aclose()
    audio, rate = soundfile.read(tmp_path / "rt.wav")
    assert 0.15 < len(audio) / rate < 0.6
    entries = json.loads((tmp_path / "rt.timing.json").read_text())["chunks"]
    assert [e["flushed"] for e in entries] == [False, True, True]


class FakeTime:
    """PortAudio's callback times; the tests' DAC clock starts at 1.0 (0 means unknown)."""

    def __init__(self, dac: float) -> None:
        self.outputBufferDacTime = dac
        self.currentTime = dac - 0.01


NO_STATUS = types.SimpleNamespace(output_underflow=False)


async def started_speaker() -> Speaker:
    speaker = Speaker(samplerate=1000, blocksize=100)
    speaker.samplerate = 1000
    speaker._loop = asyncio.get_running_loop()
    speaker._stream = FakeOutputStream()
    return speaker


class FakeOutputStream:
    time = 100.0  # the DAC clock, long past what the tests play unless they set it

    def __init__(self) -> None:
        self.restarts = 0

    def abort(self) -> None:
        self.restarts += 1

    def start(self) -> None:
        pass


async def run_blocks(speaker: Speaker, n: int, start: float = 0.0) -> np.ndarray:
    out = []
    for i in range(n):
        block = np.full((100, 1), 9.0, np.float32)
        speaker._callback(block, 100, FakeTime(1.0 + start + i * 0.1), NO_STATUS)
        out.append(block[:, 0])
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    return np.concatenate(out)


async def test_speaker_callback_plays_chunks_back_to_back_and_stamps_them():
    speaker = await started_speaker()
    a = speaker.play(chunk(0.1, 0.15, rate=1000))
    b = speaker.play(chunk(0.2, 0.1, rate=1000))
    out = await run_blocks(speaker, 4)
    assert np.all(out[:150] == pytest.approx(0.1))
    assert np.all(out[150:250] == pytest.approx(0.2))
    assert np.all(out[250:] == 0.0)  # silence when the queue runs dry
    assert a.started.result() == pytest.approx(1.0)
    assert a.finished.result() == pytest.approx(1.15)
    assert b.started.result() == pytest.approx(1.15)
    assert b.finished.result() == pytest.approx(1.25)
    await asyncio.wait_for(speaker.drain(), 1)


async def test_speaker_flush_silences_the_next_block_and_cancels_handles():
    speaker = await started_speaker()
    a = speaker.play(chunk(0.3, 1.0, rate=1000))
    b = speaker.play(chunk(0.3, 1.0, rate=1000))
    out = await run_blocks(speaker, 1)
    assert np.all(out == pytest.approx(0.3))
    speaker.flush()
    # Buffered audio is thrown away (abort + start) and the next block is silent.
    assert speaker._stream.restarts == 1
    out = await run_blocks(speaker, 2, start=0.1)
    assert np.all(out == 0.0)
    assert a.started.result() == pytest.approx(1.0) and a.finished.cancelled()
    assert b.started.cancelled() and b.finished.cancelled()
    await asyncio.wait_for(speaker.drain(), 1)
    speaker.flush()  # nothing playing: no restart needed
    assert speaker._stream.restarts == 1
    c = speaker.play(chunk(0.4, 0.05, rate=1000))
    out = await run_blocks(speaker, 1, start=0.3)
    assert np.all(out[:50] == pytest.approx(0.4)) and np.all(out[50:] == 0.0)
    assert c.finished.result() == pytest.approx(1.35)


async def test_speaker_drain_waits_for_the_last_samples_to_leave_the_device():
    # Written into the device's buffer is not heard yet: closing the stream at that point
    # dropped the end of the last word (100 ms of it on a loaded sound server).
    speaker = await started_speaker()
    speaker._stream.time = 1.0
    handle = speaker.play(chunk(0.1, 0.15, rate=1000))
    await run_blocks(speaker, 2)
    assert handle.finished.result() == pytest.approx(1.15)
    drained = asyncio.create_task(speaker.drain())
    await asyncio.sleep(0.1)
    assert not drained.done(), "drained with 0.15 s still in the device"
    await asyncio.wait_for(drained, 1)
    speaker = await started_speaker()
    speaker._stream.time = 0.9
    speaker.play(chunk(0.1, 0.05, rate=1000))
    speaker.play(chunk(0.1, 0.3, rate=1000))
    await run_blocks(speaker, 1)  # the first is written, 0.15 s ahead of the clock
    speaker.flush()  # the device's buffer is thrown away: nothing left to wait for
    await asyncio.wait_for(speaker.drain(), 0.05)


async def test_speaker_counts_underflows():
    speaker = await started_speaker()
    block = np.zeros((100, 1), np.float32)
    speaker._callback(block, 100, FakeTime(0.0), types.SimpleNamespace(output_underflow=True))
    assert speaker.underruns == 1


def test_cues_are_short_and_soft():
    for name in ("listening", "done"):
        cue = load_cue(name)
        assert 0.1 <= cue.duration <= 0.25
        peak = np.abs(cue.pcm).max()
        assert 0.1 < peak <= 0.5
        ms = cue.sample_rate // 1000
        assert np.abs(cue.pcm[: 2 * ms]).max() < peak / 2  # soft attack, no click
        assert np.abs(cue.pcm[-2 * ms :]).max() < peak / 10  # soft release
    assert not np.array_equal(load_cue("listening").pcm, load_cue("done").pcm)
    with pytest.raises(AudioError):
        asset_path("no_such_sound.wav")


async def test_speaker_stream_that_dies_cancels_handles_and_refuses_more():
    from voiceloop.errors import DeviceError

    speaker = await started_speaker()
    handle = speaker.play(chunk(0.5, 1.0, rate=1000))
    speaker._end_unexpectedly()
    assert handle.started.cancelled() and handle.finished.cancelled()
    await asyncio.wait_for(speaker.drain(), 1)
    with pytest.raises(DeviceError, match="stopped playing"):
        speaker.play(chunk(0.5, 0.1, rate=1000))
