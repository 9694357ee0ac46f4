"""The PulseAudio test bench: virtual ``mic`` and ``spk`` null sinks.

If ``VOICELOOP_TEST_PULSE`` names the runtime dir of a bench already running (CI starts
one with ``scripts/audio-bench.sh start``), the tests use it. Otherwise the session starts
its own private daemon in a temporary runtime dir, so concurrent test runs on one machine
never share a daemon, and stops it at the end.

PortAudio reaches PulseAudio through ALSA's pulse plugin (devices ``pulse``/``default``).
libpulse reads ``PULSE_SOURCE``/``PULSE_SINK`` each time a stream opens, so
:func:`routed` picks the virtual device for one stream by setting them around the open.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "audio-bench.sh"
PACKAGES = "apt-get install pulseaudio pulseaudio-utils libasound2-plugins libportaudio2"


def _missing_prerequisite() -> str | None:
    for tool, package in (("pulseaudio", "pulseaudio"), ("pactl", "pulseaudio-utils")):
        if shutil.which(tool) is None:
            return f"{tool} not installed (system package {package}; {PACKAGES})"
    plugin = glob.glob("/usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so") + glob.glob(
        "/usr/lib/alsa-lib/libasound_module_pcm_pulse.so"
    )
    if not plugin:
        return f"ALSA pulse plugin not installed (system package libasound2-plugins; {PACKAGES})"
    try:
        import sounddevice  # noqa: F401
    except OSError:
        return f"PortAudio not installed (system package libportaudio2; {PACKAGES})"
    return None


def _bench_env(runtime: Path) -> dict[str, str]:
    return {
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_SERVER": f"unix:{runtime}/pulse/native",
    }


def _pactl_ok(env: dict[str, str]) -> bool:
    result = subprocess.run(
        ["pactl", "info"], env={**os.environ, **env}, capture_output=True, timeout=10
    )
    return result.returncode == 0


@pytest.fixture(scope="session")
def _pulse_daemon() -> Iterator[dict[str, str]]:
    """A running bench for the whole session: the given one, or our own private daemon."""
    missing = _missing_prerequisite()
    if missing:
        pytest.skip(missing)
    given = os.environ.get("VOICELOOP_TEST_PULSE")
    if given:
        env = _bench_env(Path(given))
        if not _pactl_ok(env):
            pytest.fail(f"VOICELOOP_TEST_PULSE={given} but no PulseAudio answers there")
        yield env
        return
    own = Path(tempfile.mkdtemp(prefix="voiceloop-pulse-"))
    started = subprocess.run(
        [str(BENCH), "start", str(own), str(os.getpid())],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if started.returncode != 0:
        pytest.fail(f"could not start the PulseAudio bench: {started.stderr.strip()}")
    try:
        yield _bench_env(own)
    finally:
        subprocess.run([str(BENCH), "stop", str(own)], capture_output=True, timeout=30)
        shutil.rmtree(own, ignore_errors=True)


@pytest.fixture(scope="module")
def pulse_bench(_pulse_daemon: dict[str, str]) -> Iterator[dict[str, str]]:
    """The bench's env (XDG_RUNTIME_DIR, PULSE_SERVER), applied to this process while the
    tests of one module run, and PortAudio re-scanned so it sees the bench's devices."""
    from voiceloop.audio.devices import rescan

    env = _pulse_daemon
    saved = {k: os.environ.get(k) for k in (*env, "PULSE_SOURCE", "PULSE_SINK")}
    os.environ.update(env)
    os.environ.pop("PULSE_SOURCE", None)
    os.environ.pop("PULSE_SINK", None)
    rescan()  # PortAudio may have scanned (and found nothing) before the daemon was up
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        rescan()


@contextlib.contextmanager
def routed(*, source: str | None = None, sink: str | None = None) -> Iterator[None]:
    """Streams opened inside this block record from ``source`` / play into ``sink``."""
    saved = {k: os.environ.get(k) for k in ("PULSE_SOURCE", "PULSE_SINK")}
    if source:
        os.environ["PULSE_SOURCE"] = source
    if sink:
        os.environ["PULSE_SINK"] = sink
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
