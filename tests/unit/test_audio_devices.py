"""Device lookup and the guarded sounddevice import, with PortAudio simulated."""

from __future__ import annotations

import importlib.abc
import sys
import types

import pytest

from voiceloop.audio import devices as devmod
from voiceloop.audio.devices import DeviceInfo, import_sounddevice, list_devices, resolve_device
from voiceloop.errors import DeviceError, PortAudioMissingError


class _NoPortAudio(importlib.abc.MetaPathFinder):
    """Makes ``import sounddevice`` fail the way it does without libportaudio."""

    def find_spec(self, name, path=None, target=None):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return None


@pytest.fixture
def no_portaudio(monkeypatch):
    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    finder = _NoPortAudio()
    monkeypatch.setattr(sys, "meta_path", [finder, *sys.meta_path])
    return finder


def test_missing_portaudio_says_what_to_install(no_portaudio, monkeypatch):
    monkeypatch.setattr(devmod.sys, "platform", "linux")
    with pytest.raises(PortAudioMissingError) as err:
        import_sounddevice()
    assert "PortAudio" in err.value.message
    assert "apt-get install libportaudio2" in err.value.hint
    assert "\n" not in err.value.one_line()


def test_missing_portaudio_on_macos_suggests_brew(no_portaudio, monkeypatch):
    monkeypatch.setattr(devmod.sys, "platform", "darwin")
    with pytest.raises(PortAudioMissingError) as err:
        list_devices()
    assert "brew install portaudio" in err.value.hint


def test_cli_reports_missing_portaudio_in_one_line(no_portaudio, capsys):
    from voiceloop.cli import main

    assert main(["devices"]) == 1
    err = capsys.readouterr().err
    assert "PortAudio" in err and "install" in err
    assert len(err.strip().splitlines()) == 1


def fake_sd(devices, default=(0, 1)) -> types.SimpleNamespace:
    return types.SimpleNamespace(
        query_devices=lambda *a: devices,
        query_hostapis=lambda: [{"name": "ALSA"}, {"name": "JACK"}],
        default=types.SimpleNamespace(device=default),
    )


def dev(name, ins, outs, api=0, rate=44100.0):
    return {
        "name": name,
        "hostapi": api,
        "max_input_channels": ins,
        "max_output_channels": outs,
        "default_samplerate": rate,
    }


def test_list_devices_maps_portaudio_fields_and_defaults():
    sd = fake_sd([dev("USB Mic", 1, 0, rate=48000.0), dev("HDMI", 0, 8, api=1)], default=(0, 1))
    mic, hdmi = list_devices(sd)
    assert mic == DeviceInfo(0, "USB Mic", "ALSA", 1, 0, 48000.0, True, False)
    assert hdmi.host_api == "JACK" and hdmi.is_default_output and not hdmi.is_default_input


DEVICES = [
    DeviceInfo(0, "HDA Intel: ALC (hw:0,0)", "ALSA", 2, 2, 44100.0, True, True),
    DeviceInfo(1, "USB Audio Device", "ALSA", 1, 0, 48000.0),
    DeviceInfo(2, "HDMI 0", "ALSA", 0, 8, 48000.0),
    DeviceInfo(3, "usb", "ALSA", 1, 0, 16000.0),
]


def test_resolve_by_index_name_substring_and_default():
    assert resolve_device(None, "input", devices=DEVICES).index == 0
    assert resolve_device(1, "input", devices=DEVICES).index == 1
    assert resolve_device("2", "output", devices=DEVICES).index == 2
    assert resolve_device("hdmi", "output", devices=DEVICES).index == 2
    assert resolve_device("audio dev", "input", devices=DEVICES).index == 1
    assert resolve_device("USB", "input", devices=DEVICES).index == 3  # exact name wins


def test_a_device_of_the_wrong_kind_is_not_chosen():
    with pytest.raises(DeviceError) as err:
        resolve_device("hdmi", "input", devices=DEVICES)
    assert "USB Audio Device" in err.value.hint and "HDMI" not in err.value.hint
    with pytest.raises(DeviceError) as err:
        resolve_device(1, "output", devices=DEVICES)
    assert "index 1" in err.value.message


def test_unknown_name_lists_what_exists():
    with pytest.raises(DeviceError) as err:
        resolve_device("focusrite", "input", devices=DEVICES)
    assert "focusrite" in err.value.message
    assert "0: HDA Intel: ALC (hw:0,0)" in err.value.hint
    assert "voiceloop devices" in err.value.hint


def test_no_input_device_at_all_says_so_and_lists_devices():
    outputs_only = [d for d in DEVICES if d.max_input_channels == 0]
    with pytest.raises(DeviceError) as err:
        resolve_device(None, "input", devices=outputs_only)
    assert "No input device" in err.value.message
    assert "HDMI 0" in err.value.message
    assert err.value.kind == "input"  # the TUI says "no microphone" from this
    with pytest.raises(DeviceError) as err:
        resolve_device(None, "output", devices=[])
    assert "No output device" in err.value.message and "none" in err.value.message
    assert err.value.kind == "output"


PULSE_DEVICES = [
    DeviceInfo(0, "pulse", "ALSA", 32, 32, 44100.0),
    DeviceInfo(1, "default", "ALSA", 32, 32, 44100.0, True, True),
]


def test_pulseaudio_names_route_through_the_pulse_device():
    sources = ["alsa_input.usb-Blue_Yeti-00.analog-stereo", "mic.monitor"]
    dev = resolve_device("yeti", "input", devices=PULSE_DEVICES, pulse=sources)
    assert (dev.index, dev.name, dev.route) == (0, "pulse", sources[0])
    assert resolve_device("default", "input", devices=PULSE_DEVICES, pulse=sources).route is None
    with pytest.raises(DeviceError) as err:
        resolve_device("focusrite", "input", devices=PULSE_DEVICES, pulse=sources)
    assert "mic.monitor" in err.value.hint


def test_pulse_route_sets_the_env_only_while_opening(monkeypatch):
    monkeypatch.setenv("PULSE_SINK", "speakers")
    monkeypatch.delenv("PULSE_SOURCE", raising=False)
    routed = DeviceInfo(0, "pulse", "ALSA", 32, 32, 44100.0, route="spk")
    with devmod.pulse_route(routed, "output"):
        assert devmod.os.environ["PULSE_SINK"] == "spk"
    assert devmod.os.environ["PULSE_SINK"] == "speakers"
    with devmod.pulse_route(routed, "input"):
        assert devmod.os.environ["PULSE_SOURCE"] == "spk"
    assert "PULSE_SOURCE" not in devmod.os.environ
