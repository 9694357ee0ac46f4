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
