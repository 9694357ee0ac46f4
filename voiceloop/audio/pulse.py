"""A recording stream straight from the PulseAudio (or PipeWire-Pulse) server.

Opening the microphone through PortAudio first loads PortAudio, whose ``Pa_Initialize``
probes every ALSA device in both directions; through the sound server that is five
client connections, a quarter of a second on a loaded machine. ``libpulse-simple``
connects once. :func:`open_record_stream` gives a stream that looks, to
:class:`~voiceloop.audio.early.EarlyCapture` and the engine's microphone, like the
PortAudio raw input stream it stands for: ``start``/``stop``/``close``, ``time`` (on
PortAudio's clock, the wall clock, so frame times compare as before) and a callback per
block with its capture time.

Standard library only (ctypes): it runs before anything heavy is imported.
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
import types
from collections.abc import Callable
from typing import Any

_FLOAT32LE = 5  # pa_sample_format_t PA_SAMPLE_FLOAT32LE
_RECORD = 2  # pa_stream_direction_t PA_STREAM_RECORD
_DEFAULT = 0xFFFFFFFF  # (uint32_t) -1: the server's choice

_NO_OVERFLOW = types.SimpleNamespace(input_overflow=False)


class _SampleSpec(ctypes.Structure):
    _fields_ = [("format", ctypes.c_int), ("rate", ctypes.c_uint32), ("channels", ctypes.c_uint8)]


class _BufferAttr(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_uint32) for name in ("maxlength", "tlength", "prebuf", "minreq", "fragsize")
    ]


_lib: Any = None


def _library() -> Any:
    global _lib
    if _lib is None:
        lib = ctypes.CDLL("libpulse-simple.so.0")
        lib.pa_simple_new.restype = ctypes.c_void_p
        lib.pa_simple_new.argtypes = [
            ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_char_p,
            ctypes.POINTER(_SampleSpec), ctypes.c_void_p, ctypes.POINTER(_BufferAttr),
            ctypes.POINTER(ctypes.c_int),
        ]  # fmt: skip
        lib.pa_simple_read.argtypes = [
            ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_int)
        ]  # fmt: skip
        lib.pa_simple_get_latency.restype = ctypes.c_uint64
        lib.pa_simple_get_latency.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
        lib.pa_simple_free.argtypes = [ctypes.c_void_p]
        _lib = lib
    return _lib


def server_running() -> bool:
    """Whether a PulseAudio-compatible server is there to ask. Without one, libpulse could
    start a daemon of its own (autospawn): never as a side effect of opening a microphone."""
    if os.environ.get("PULSE_SERVER"):
        return True
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return runtime is not None and os.path.exists(os.path.join(runtime, "pulse", "native"))


class PulseRecordStream:
    """Mono float32 blocks of ``block`` frames at ``rate`` Hz from ``source`` (a PulseAudio
    source name; ``None``: the default source, ``PULSE_SOURCE`` if set)."""

    def __init__(
        self,
        source: str | None,
        *,
        rate: int,
        block: int,
        callback: Callable[[bytes, int, Any, Any], None],
        finished_callback: Callable[[], None],
    ) -> None:
        lib = _library()
        self._rate, self._block = rate, block
        self._bytes = block * 4
        self._callback, self._finished_callback = callback, finished_callback
        spec = _SampleSpec(_FLOAT32LE, rate, 1)
        attr = _BufferAttr(_DEFAULT, _DEFAULT, _DEFAULT, _DEFAULT, self._bytes)
        error = ctypes.c_int(0)
        handle = lib.pa_simple_new(
            None, b"voiceloop", _RECORD, source.encode() if source else None, b"microphone",
            ctypes.byref(spec), None, ctypes.byref(attr), ctypes.byref(error),
        )  # fmt: skip
        if not handle:
            raise OSError(f"PulseAudio refused the recording stream (error {error.value})")
        self._handle: int | None = handle
        self._running = False
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def time(self) -> float:
        return time.time()

    @property
    def active(self) -> bool:
        return self._running

    def start(self) -> None:
        if self._thread is not None:
            return
        self._running = True
        self._thread = threading.Thread(target=self._read, name="voiceloop-pulse", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2.0)

    def close(self) -> None:
        self.stop()
        with self._lock:
            handle, self._handle = self._handle, None
            thread = self._thread
        # A read still under way (a server that stopped answering) keeps the handle.
        if handle is not None and (thread is None or not thread.is_alive()):
            _library().pa_simple_free(handle)

    def _read(self) -> None:
        lib, handle = _library(), self._handle
        buffer = ctypes.create_string_buffer(self._bytes)
        error = ctypes.c_int(0)
        seconds = self._block / self._rate
        failed = False
        while self._running:
            if lib.pa_simple_read(handle, buffer, self._bytes, ctypes.byref(error)) < 0:
                failed = True
                break
            now = time.time()
            latency = lib.pa_simple_get_latency(handle, ctypes.byref(error)) / 1e6
            adc = types.SimpleNamespace(inputBufferAdcTime=now - latency - seconds)
            self._callback(buffer.raw, self._block, adc, _NO_OVERFLOW)
        self._running = False
        if failed:
            self._finished_callback()


def open_record_stream(
    source: int | str | None,
    *,
    rate: int,
    block: int,
    callback: Callable[[bytes, int, Any, Any], None],
    finished_callback: Callable[[], None],
) -> PulseRecordStream | None:
    """The stream, not yet started; ``None`` when this cannot be (no server, no
    libpulse-simple, a PortAudio device index, or no source by that exact name), and the
    caller goes through PortAudio as before."""
    if isinstance(source, int) or not server_running():
        return None
    try:
        return PulseRecordStream(
            source, rate=rate, block=block, callback=callback, finished_callback=finished_callback
        )
    except (OSError, AttributeError):
        return None
