"""The microphone opened at launch: backlog bound, hand-over order, spec check, no numpy."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from tests.unit.fake_portaudio import fake_sd
from voiceloop.audio import early
from voiceloop.audio.devices import DeviceInfo
from voiceloop.audio.early import EarlyCapture, guess_input_spec, open_early, take_early
from voiceloop.audio.kept import KeptMicrophone
from voiceloop.frames import FRAME_SAMPLES

BLOCK_S = FRAME_SAMPLES / 16000


@pytest.fixture
def sd(monkeypatch):
    fake = fake_sd()
    device = DeviceInfo(3, "Fake Mic", "ALSA", 1, 0, 16000.0, True, False)
    monkeypatch.setattr(early, "import_sounddevice", lambda: fake)
    monkeypatch.setattr(early, "resolve_device", lambda spec, kind: device)
    monkeypatch.setattr(early, "open_record_stream", lambda *a, **kw: None)  # PortAudio's way
    yield fake
    early.discard_early()


def test_backlog_is_bounded_and_counts_what_it_drops(sd):
    capture = EarlyCapture(None, backlog_s=10 * BLOCK_S)
    capture.open()
    (stream,) = sd.opened
    assert stream.started and stream.kwargs["dtype"] == "float32"
    for i in range(15):
        stream.push(i / 100, adc=i * BLOCK_S)
    backlog = capture.hand_over(lambda *block: None, lambda: None)
    assert capture.dropped == 5
    assert [round(np.frombuffer(b[0], np.float32)[0] * 100) for b in backlog] == list(range(5, 15))


async def test_kept_microphone_delivers_the_backlog_first_then_live_frames(sd):
    capture = open_early("Fake")
    assert capture is not None
    (stream,) = sd.opened
    for i in range(20):  # said while the program was starting
        stream.push(0.1, adc=i * BLOCK_S)
    assert take_early("Fake") is capture
    mic = KeptMicrophone(capture)
    times = []
    async for frame in mic.frames():
        times.append(frame.time)
        if len(times) == 20:
            for i in range(20, 25):  # after the take-over: through the event loop
                stream.push(0.1, adc=i * BLOCK_S)
        if len(times) == 25:
            break
    await mic.aclose()
    assert times == pytest.approx([i * BLOCK_S for i in range(25)], abs=1e-6)
    assert mic.dropped == 0
    assert stream.closed


async def test_the_backlog_may_exceed_the_live_queue_bound(sd):
    capture = open_early(None)
    assert capture is not None
    (stream,) = sd.opened
    for i in range(200):
        stream.push(0.1, adc=i * BLOCK_S)
    mic = KeptMicrophone(take_early(None), queue_frames=8)  # type: ignore[arg-type]
    await mic.start()
    for i in range(200, 210):  # the loop has not consumed yet: still within catch-up
        stream.push(0.1, adc=i * BLOCK_S)
    count = 0
    async for _ in mic.frames():
        count += 1
        if count == 210:
            break
    await mic.aclose()
    assert mic.dropped == 0


def test_a_different_device_closes_the_early_stream(sd):
    capture = open_early("Fake")
    assert capture is not None
    assert take_early("Other") is None
    assert sd.opened[0].closed
    assert take_early("Fake") is None  # taken once at most


def test_a_stream_that_ended_before_the_take_over_is_not_used(sd):
    open_early(None)
    sd.opened[0].finished()
    assert take_early(None) is None


def test_digit_specs_match_device_indexes(sd):
    assert open_early("3") is not None
    assert take_early(3) is not None


def test_guess_prefers_the_flag_then_env_then_file(tmp_path, monkeypatch):
    config = tmp_path / "config.toml"
    config.write_text('[audio]\ninput = "USB"\n')
    monkeypatch.delenv("VOICELOOP_AUDIO__INPUT", raising=False)
    assert guess_input_spec(None, str(config)) == "USB"
    monkeypatch.setenv("VOICELOOP_AUDIO__INPUT", "Env Mic")
    assert guess_input_spec(None, str(config)) == "Env Mic"
    assert guess_input_spec("Flag Mic", str(config)) == "Flag Mic"
    monkeypatch.delenv("VOICELOOP_AUDIO__INPUT")
    assert guess_input_spec(None, str(tmp_path / "missing.toml")) is None


def test_the_early_module_does_not_import_numpy_or_pydantic():
    code = (
        "import sys, voiceloop.audio.early\n"
        "print(','.join(m for m in ('numpy', 'pydantic', 'httpx') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_way_to_the_microphone_at_launch_loads_only_what_it_needs(tmp_path):
    # What runs before the early open: the command line's first look at argv, the guess of
    # the input device with no config file, quieting ALSA. Each module named here costs
    # milliseconds on a loaded machine, or (subprocess via find_library) a child process.
    code = (
        "import sys\n"
        "from voiceloop.cli.run import open_microphone_for_argv\n"
        "from voiceloop.audio.early import guess_input_spec\n"
        "from voiceloop.audio.alsa import silence_alsa_errors\n"
        "guess_input_spec(None)\n"
        "silence_alsa_errors()\n"
        "late = ('platformdirs', 'tomllib', 'subprocess', 'logging', 'pathlib', 'numpy',\n"
        "        'voiceloop.frames')\n"
        "print(','.join(m for m in late if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICELOOP_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path)  # no config file there
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_the_default_config_path_is_platformdirs_own(monkeypatch, tmp_path):
    from platformdirs import user_config_dir

    from voiceloop.audio.early import _default_config_path

    for home in (str(tmp_path), ""):
        monkeypatch.setenv("XDG_CONFIG_HOME", home)
        expected = os.path.join(user_config_dir("voiceloop", appauthor=False), "config.toml")
        assert _default_config_path() == expected


def test_the_early_capture_frames_like_the_rest():
    from voiceloop import frames

    assert (early.SAMPLE_RATE, early.FRAME_SAMPLES) == (frames.SAMPLE_RATE, frames.FRAME_SAMPLES)
