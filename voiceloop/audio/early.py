"""A microphone opened at launch, before the heavy imports, that keeps what it hears.

A launch spends seconds on imports, settings, models and connections; speech said in that
time must not be lost. :func:`open_early` opens the input device with a raw (numpy-free)
PortAudio stream as the very first thing a mode run does, and keeps the blocks in a
bounded backlog (``backlog_s`` seconds; older blocks are dropped and counted) until the
engine's :class:`~voiceloop.audio.kept.KeptMicrophone` takes the stream over with
:func:`take_early`. A device spec that turns out different from the configured one closes
the early stream, and the engine opens its own.

This module imports only the standard library and sounddevice (and that only when the
sound server cannot be asked directly): the point is speed.
"""

from __future__ import annotations

import collections
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from voiceloop.audio.devices import (
    DeviceInfo,
    import_sounddevice,
    input_format,
    pulse_route,
    resolve_device,
)
from voiceloop.audio.pulse import open_record_stream

BACKLOG_S = 20.0

# voiceloop.frames' SAMPLE_RATE and FRAME_SAMPLES, not imported from there: its data
# classes take milliseconds to build, and this module runs before the microphone opens.
SAMPLE_RATE = 16_000
FRAME_SAMPLES = 512

Block = tuple[bytes, float, bool]
"""``(float32 interleaved samples, ADC time, input_overflow)`` as the callback saw them."""

Forward = Callable[[bytes, float, bool], None]


class EarlyCapture:
    """An input stream that runs without an event loop and buffers until taken over."""

    def __init__(self, device_spec: int | str | None, *, backlog_s: float = BACKLOG_S) -> None:
        self.device_spec = device_spec
        self.device: DeviceInfo | None = None
        self.samplerate: float = SAMPLE_RATE
        self.channels = 1
        self.stream: Any = None
        self.opened_at: float | None = None
        """``time.monotonic()`` when the stream started."""
        self.dropped = 0
        """Blocks lost because the backlog was full, before the take-over."""
        self.finished = False
        """The stream ended on its own before the take-over."""
        self._max_blocks = max(1, round(backlog_s * SAMPLE_RATE / FRAME_SAMPLES))
        self._backlog: collections.deque[Block] = collections.deque()
        self._lock = threading.Lock()
        self._forward: Forward | None = None
        self._on_finished: Callable[[], None] | None = None

    def open(self) -> None:
        """Open and start the stream; raises ``DeviceError`` (or PortAudio's error).

        Straight from the sound server when it can (see :mod:`voiceloop.audio.pulse`),
        which spares the launch PortAudio's device probing; else through PortAudio."""
        pulse = open_record_stream(
            self.device_spec,
            rate=SAMPLE_RATE,
            block=FRAME_SAMPLES,
            callback=self._callback,
            finished_callback=self._finished,
        )
        if pulse is not None:
            name = self.device_spec if isinstance(self.device_spec, str) else "default"
            self.device = DeviceInfo(
                -1, name, "PulseAudio", 1, 0, float(SAMPLE_RATE), self.device_spec is None
            )
            self.samplerate, self.channels, self.stream = SAMPLE_RATE, 1, pulse
            pulse.start()
            self.opened_at = time.monotonic()
            return
        sd = import_sounddevice()
        self.device = device = resolve_device(self.device_spec, "input")
        self.samplerate, self.channels = _input_format(sd, device)
        with pulse_route(device, "input"):
            self.stream = sd.RawInputStream(
                device=device.index,
                samplerate=self.samplerate,
                channels=self.channels,
                dtype="float32",
                blocksize=round(FRAME_SAMPLES * self.samplerate / SAMPLE_RATE),
                latency="low",
                callback=self._callback,
                finished_callback=self._finished,
            )
        self.stream.start()
        self.opened_at = time.monotonic()

    def hand_over(self, forward: Forward, on_finished: Callable[[], None]) -> list[Block]:
        """From now on blocks go to ``forward`` (PortAudio thread); returns the backlog."""
        with self._lock:
            backlog = list(self._backlog)
            self._backlog.clear()
            self._forward = forward
            self._on_finished = on_finished
            finished = self.finished
        if finished:
            on_finished()
        return backlog

    def close(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio thread: copy and hand on. The lock is only ever contended once.
        block = (bytes(indata), float(time_info.inputBufferAdcTime), bool(status.input_overflow))
        with self._lock:
            forward = self._forward
            if forward is None:
                if len(self._backlog) >= self._max_blocks:
                    self._backlog.popleft()
                    self.dropped += 1
                self._backlog.append(block)
                return
        forward(*block)

    def _finished(self) -> None:
        with self._lock:
            self.finished = True
            on_finished = self._on_finished
        if on_finished is not None:
            on_finished()


def _input_format(sd: Any, device: DeviceInfo) -> tuple[float, int]:
    found = input_format(sd, device, SAMPLE_RATE)
    if found is None:
        raise OSError(f"input device {device.name!r} accepts no usable format")
    return found


_kept: EarlyCapture | None = None


def open_early(device_spec: int | str | None) -> EarlyCapture | None:
    """Open the microphone now and keep it for :func:`take_early`; ``None`` when it
    cannot open (the engine then opens its own and reports why)."""
    global _kept
    if _kept is not None and _kept.device_spec == _normal(device_spec) and not _kept.finished:
        return _kept
    discard_early()
    capture = EarlyCapture(_normal(device_spec))
    try:
        capture.open()
    except Exception:
        capture.close()
        return None
    _kept = capture
    return capture


def take_early(device_spec: int | str | None) -> EarlyCapture | None:
    """The early stream if it was opened for ``device_spec``; else close it, ``None``."""
    global _kept
    capture, _kept = _kept, None
    if capture is None:
        return None
    if capture.device_spec != _normal(device_spec) or capture.finished:
        capture.close()
        return None
    return capture


def discard_early() -> None:
    """Close a kept stream nobody took (the run ended before the engine started)."""
    global _kept
    capture, _kept = _kept, None
    if capture is not None:
        capture.close()


def guess_input_spec(flag: str | None, config: str | None = None) -> int | str | None:
    """The input device a run will use, known without loading the settings: the flag,
    else ``VOICELOOP_AUDIO__INPUT``, else ``[audio] input`` of the config file. A wrong
    guess costs only the early start: :func:`take_early` checks it against the settings."""
    if flag:
        return flag
    env = os.environ.get("VOICELOOP_AUDIO__INPUT")
    if env:
        return env
    try:
        path = config or os.environ.get("VOICELOOP_CONFIG") or _default_config_path()
        with open(os.path.expanduser(path), "rb") as fh:
            import tomllib  # only for a file that is there: it costs milliseconds to import

            value = tomllib.load(fh).get("audio", {}).get("input")
    except Exception:
        return None
    return value if isinstance(value, int | str) else None


def _default_config_path() -> str:
    if sys.platform.startswith("linux"):
        # platformdirs' answer on Linux, without the tens of milliseconds its import takes
        home = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
        return os.path.join(home, "voiceloop", "config.toml")
    from platformdirs import user_config_dir

    return os.path.join(user_config_dir("voiceloop", appauthor=False), "config.toml")


def _normal(spec: int | str | None) -> int | str | None:
    if isinstance(spec, str):
        spec = spec.strip()
        if spec.isdigit():
            return int(spec)
        return spec or None
    return spec
