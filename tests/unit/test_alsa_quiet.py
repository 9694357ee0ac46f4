"""libasound's error printing never reaches the terminal once voiceloop has loaded audio."""

from __future__ import annotations

import ctypes.util
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.skipif(
    ctypes.util.find_library("asound") is None,
    reason="libasound is not installed (apt-get install libasound2)",
)

# Opening a PCM that does not exist makes ALSA print "ALSA lib ... Unknown PCM ..." on fd 2.
PROVOKE = textwrap.dedent(
    """
    import ctypes, ctypes.util, sys
    {setup}
    lib = ctypes.CDLL(ctypes.util.find_library("asound"))
    pcm = ctypes.c_void_p()
    err = lib.snd_pcm_open(ctypes.byref(pcm), b"voiceloop_no_such_pcm", 0, 0)
    print("error", err)
    """
)


def _stderr_of(setup: str) -> str:
    code = PROVOKE.format(setup=setup)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "error -" in result.stdout  # the open really failed
    return result.stderr


def test_alsa_prints_to_the_terminal_by_default() -> None:
    assert "voiceloop_no_such_pcm" in _stderr_of("")


def test_audio_import_silences_alsa() -> None:
    setup = "from voiceloop.audio.devices import import_sounddevice; import_sounddevice()"
    assert "ALSA lib" not in _stderr_of(setup)
