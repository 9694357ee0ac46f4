"""Microphone logic with a fake PortAudio: format choice, hand-over, overflow accounting."""

from __future__ import annotations

import asyncio
import types

import numpy as np
import pytest

from tests.unit.fake_portaudio import fake_sd, stamp, status
from voiceloop.audio import capture
from voiceloop.audio.base import FrameSource
from voiceloop.audio.capture import Microphone
from voiceloop.audio.devices import DeviceInfo


@pytest.fixture
def patch_devices(monkeypatch):
    def apply(sd, device=None):
        device = device or DeviceInfo(3, "Fake Mic", "ALSA", 2, 0, 48000.0, True, False)
        monkeypatch.setattr(capture, "import_sounddevice", lambda: sd)
        monkeypatch.setattr(capture, "resolve_device", lambda spec, kind: device)
        return sd

    return apply


async def test_opens_at_16k_mono_when_supported(patch_devices):
    sd = patch_devices(fake_sd(supports_16k=True))
    mic = Microphone()
    assert isinstance(mic, FrameSource)
    await mic.start()
    stream = sd.opened[0]
    assert (stream.kwargs["samplerate"], stream.kwargs["channels"]) == (16000, 1)
    assert stream.kwargs["blocksize"] == 512 and stream.started
    await mic.aclose()
    assert stream.closed


async def test_native_stereo_48k_is_mixed_and_resampled_on_the_loop(patch_devices):
    sd = patch_devices(fake_sd(supports_16k=False))
    mic = Microphone()
    await mic.start()
    stream = sd.opened[0]
    assert (stream.kwargs["samplerate"], stream.kwargs["channels"]) == (48000.0, 2)
    blocksize = stream.kwargs["blocksize"]
    assert blocksize == 1536  # one 32 ms frame per block
    t = np.arange(blocksize * 20) / 48000
    left = (0.5 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)
    audio = np.stack([left, np.zeros_like(left)], axis=1)
    for i in range(20):
        stream.callback(
            audio[i * blocksize : (i + 1) * blocksize], blocksize, stamp(5 + i * 0.032), status()
        )
    frames = []
    async for frame in mic.frames():
        frames.append(frame)
        if len(frames) == 15:
            await mic.aclose()
            break
    assert frames[0].time == pytest.approx(5.0)
    assert frames[10].level_db == pytest.approx(20 * np.log10(0.25 / np.sqrt(2)), abs=0.5)
    assert mic.dropped == 0


async def test_overflow_is_counted_and_reported_never_silent(patch_devices):
    sd = patch_devices(fake_sd(supports_16k=True))
    reports = []
    mic = Microphone(queue_frames=4, on_overflow=lambda now, total: reports.append((now, total)))
    await mic.start()
    stream = sd.opened[0]
    block = np.zeros((512, 1), np.float32)
    # The loop is busy: ten blocks arrive before it runs. Four fit, six are dropped.
    for _ in range(10):
        stream.callback(block, 512, stamp(0.0), status())
    assert mic.dropped == 6
    # PortAudio itself reports an overflow (and that block is dropped too: queue full).
    stream.callback(block, 512, stamp(0.0), status(overflow=True))
    assert mic.dropped == 8
    frames = []
    async for frame in mic.frames():
        frames.append(frame)
        if len(frames) == 4:
            break
    assert reports == [(8, 8)]
    assert [f.time for f in frames] == pytest.approx([0.0, 0.032, 0.064, 0.096])
    # The next block comes after 7 lost ones: the sample clock skips them.
    stream.callback(block, 512, stamp(0.0), status())
    async for frame in mic.frames():
        assert frame.time == pytest.approx(11 * 0.032)
        break
    await mic.aclose()


async def test_callback_never_blocks_even_when_the_loop_is_closed(patch_devices):
    sd = patch_devices(fake_sd(supports_16k=True))
    mic = Microphone()
    await mic.start()
    loop = types.SimpleNamespace(
        call_soon_threadsafe=lambda *a: (_ for _ in ()).throw(RuntimeError)
    )
    mic._loop = loop
    sd.opened[0].callback(np.zeros((512, 1), np.float32), 512, stamp(0.0), status())
    await mic.aclose()


async def test_frames_end_after_aclose(patch_devices):
    patch_devices(fake_sd(supports_16k=True))
    mic = Microphone()

    async def close_soon():
        await asyncio.sleep(0.05)
        await mic.aclose()

    task = asyncio.create_task(close_soon())
    got = [f async for f in mic.frames()]
    await task
    assert got == []


async def test_a_stream_that_dies_ends_frames_with_a_device_error(patch_devices):
    from voiceloop.errors import DeviceError

    sd = patch_devices(fake_sd(supports_16k=True))
    mic = Microphone()
    await mic.start()
    stream = sd.opened[0]
    stream.callback(np.zeros((512, 1), np.float32), 512, stamp(0.0), status())
    stream.kwargs["finished_callback"]()  # PortAudio: the stream went inactive by itself
    got = []
    with pytest.raises(DeviceError, match="stopped delivering"):
        async for frame in mic.frames():
            got.append(frame)
    assert len(got) == 1  # what was captured before still arrives
