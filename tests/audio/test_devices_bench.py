"""Device listing and selection against the PulseAudio bench."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from voiceloop.audio.devices import list_devices, resolve_device
from voiceloop.errors import DeviceError

pytestmark = pytest.mark.audio


def test_bench_devices_are_listed_and_found_by_name(pulse_bench):
    devices = list_devices()
    names = [d.name for d in devices]
    assert "pulse" in names
    assert any(d.is_default_input for d in devices)
    assert any(d.is_default_output for d in devices)
    pulse = resolve_device("PuLs", "input")
    assert pulse.name == "pulse"
    assert pulse.host_api == "ALSA"
    assert resolve_device(pulse.index, "output").name == "pulse"
    assert resolve_device(str(pulse.index), "output").index == pulse.index
    assert resolve_device(None, "input").is_default_input


def test_pulseaudio_source_and_sink_are_chosen_by_name(pulse_bench):
    mic = resolve_device("mic.monitor", "input")
    assert (mic.name, mic.route) == ("pulse", "mic.monitor")
    spk = resolve_device("spk", "output")
    assert (spk.name, spk.route) == ("pulse", "spk")


def test_unknown_name_lists_the_available_devices(pulse_bench):
    with pytest.raises(DeviceError) as err:
        resolve_device("no-such-card", "input")
    assert "no-such-card" in err.value.message
    assert "pulse" in err.value.hint
    with pytest.raises(DeviceError):
        resolve_device(999, "output")


def test_voiceloop_devices_shows_the_bench(pulse_bench):
    out = subprocess.run(
        [sys.executable, "-m", "voiceloop", "devices"],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    inputs, outputs = out.stdout.split("Outputs:")
    assert "pulse" in inputs and "pulse" in outputs
    assert "ALSA" in inputs
    assert "*" in inputs and "*" in outputs
    assert "mic.monitor" in inputs and "spk.monitor" in inputs
    assert "spk" in outputs.split("PulseAudio sinks")[1]


@pytest.mark.timeout(30)
async def test_named_routes_really_carry_the_audio(pulse_bench):
    # "mic" is not the default sink, so only the route can bring the tone there.
    import asyncio

    import numpy as np

    from voiceloop.audio.capture import Microphone
    from voiceloop.audio.playback import Speaker
    from voiceloop.frames import AudioChunk

    mic = Microphone("mic.monitor")
    speaker = Speaker("mic")
    await mic.start()
    await speaker.start()
    t = np.arange(24_000) / 24_000
    tone = AudioChunk((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 24_000)
    levels = []

    async def play_then_close():
        await asyncio.sleep(0.3)
        await speaker.drain()
        handle = speaker.play(tone)
        await asyncio.wait_for(handle.finished, 10)
        await asyncio.sleep(0.5)
        await mic.aclose()

    task = asyncio.create_task(play_then_close())
    async for frame in mic.frames():
        levels.append(frame.level_db)
    await task
    await speaker.aclose()
    loud = [lv for lv in levels if lv > -20]
    assert len(loud) >= 20, (
        f"the tone did not arrive on mic.monitor (levels {max(levels):.0f} dB max)"
    )
