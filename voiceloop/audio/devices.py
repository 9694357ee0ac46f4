"""Sound devices: a guarded sounddevice import, listing, and lookup by index or name.

``sounddevice`` loads the PortAudio C library when it is imported; on a machine without
it the import raises ``OSError``. Everything in voiceloop that needs sounddevice goes
through :func:`import_sounddevice`, which turns that into a
:class:`~voiceloop.errors.PortAudioMissingError` saying what to install.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Literal, cast

from voiceloop.errors import DeviceError, PortAudioMissingError

Kind = Literal["input", "output"]


def _install_hint() -> str:
    if sys.platform == "darwin":
        return "install it with: brew install portaudio"
    if sys.platform.startswith("win"):
        return "reinstall the sounddevice package (it bundles PortAudio on Windows)"
    return "install it with: apt-get install libportaudio2 (Debian/Ubuntu)"


def import_sounddevice() -> ModuleType:
    """Import and return ``sounddevice``, or raise :class:`PortAudioMissingError`."""
    from voiceloop.audio.alsa import silence_alsa_errors

    silence_alsa_errors()  # before PortAudio loads: it prints while scanning devices too
    try:
        import sounddevice
    except OSError as exc:
        raise PortAudioMissingError(
            "The PortAudio library is not installed, so there is no sound.",
            hint=_install_hint(),
        ) from exc
    return cast(ModuleType, sounddevice)


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One PortAudio device as the user sees it."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate: float
    is_default_input: bool = False
    is_default_output: bool = False
    route: str | None = None
    """A PulseAudio source/sink reached through this (``pulse``) device, when chosen by
    its PulseAudio name; streams on it are routed there (see :func:`pulse_route`)."""

    def channels(self, kind: Kind) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels


def list_devices(sd: ModuleType | None = None) -> list[DeviceInfo]:
    """Every device PortAudio knows, inputs and outputs alike, in index order."""
    sd = sd or import_sounddevice()
    try:
        raw = sd.query_devices()
        host_apis = sd.query_hostapis()
    except Exception as exc:  # sounddevice.PortAudioError and friends
        raise DeviceError(f"Cannot list sound devices: {exc}") from exc
    default_in, default_out = _defaults(sd)
    devices = []
    for index, dev in enumerate(raw):
        api = host_apis[dev["hostapi"]]["name"] if dev["hostapi"] < len(host_apis) else "?"
        devices.append(
            DeviceInfo(
                index=index,
                name=dev["name"],
                host_api=api,
                max_input_channels=int(dev["max_input_channels"]),
                max_output_channels=int(dev["max_output_channels"]),
                default_samplerate=float(dev["default_samplerate"]),
                is_default_input=index == default_in,
                is_default_output=index == default_out,
            )
        )
    return devices


def _defaults(sd: ModuleType) -> tuple[int, int]:
    try:
        default_in, default_out = sd.default.device
    except Exception:
        return -1, -1
    return _as_index(sd, default_in, "input"), _as_index(sd, default_out, "output")


def _as_index(sd: ModuleType, value: object, kind: Kind) -> int:
    if isinstance(value, int):
        return value
    try:
        return int(sd.query_devices(value, kind)["index"])
    except Exception:
        return -1


def describe(devices: list[DeviceInfo], kind: Kind | None = None) -> str:
    """A short one-line list like ``0: pulse, 1: default`` for error messages."""
    shown = [d for d in devices if kind is None or d.channels(kind) > 0]
    if not shown:
        return "none"
    return ", ".join(f"{d.index}: {d.name}" for d in shown)


def pulse_endpoints(kind: Kind) -> list[str]:
    """Names of the PulseAudio (or PipeWire-Pulse) sources or sinks, via ``pactl``.

    Empty when there is no ``pactl`` or no server answers.
    """
    import shutil  # here, not at the top: the microphone opened at launch never asks
    import subprocess

    if shutil.which("pactl") is None:
        return []
    what = "sources" if kind == "input" else "sinks"
    try:
        out = subprocess.run(
            ["pactl", "list", "short", what], capture_output=True, text=True, timeout=3
        )
    except (OSError, subprocess.SubprocessError):
        return []
    if out.returncode != 0:
        return []
    return [line.split("\t")[1] for line in out.stdout.splitlines() if line.count("\t") >= 1]


@contextlib.contextmanager
def pulse_route(device: DeviceInfo, kind: Kind) -> Iterator[None]:
    """While a stream on ``device`` opens, point libpulse at ``device.route``.

    libpulse reads ``PULSE_SOURCE``/``PULSE_SINK`` when a stream connects, so setting them
    around the open routes that one stream; they are restored right after.
    """
    if not device.route:
        yield
        return
    key = "PULSE_SOURCE" if kind == "input" else "PULSE_SINK"
    saved = os.environ.get(key)
    os.environ[key] = device.route
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = saved


def _match(names: list[str], wanted: str) -> str | None:
    exact = [n for n in names if n.casefold() == wanted]
    partial = [n for n in names if wanted in n.casefold()]
    found = exact or partial
    return found[0] if found else None


def resolve_device(
    spec: int | str | None,
    kind: Kind = "input",
    *,
    devices: list[DeviceInfo] | None = None,
    pulse: list[str] | None = None,
) -> DeviceInfo:
    """Find the device meant by ``spec``: an index, a name substring, or ``None`` (default).

    A string of digits counts as an index. Name matching is case-insensitive; an exact
    name wins over a substring, and among substrings the first device wins. A name that
    matches no PortAudio device but a PulseAudio source/sink (``pulse``, default: ask
    ``pactl``) selects PortAudio's ``pulse`` device routed there.
    """
    devices = list_devices() if devices is None else devices
    usable = [d for d in devices if d.channels(kind) > 0]
    if not usable:
        raise DeviceError(
            f"No {kind} device found (devices: {describe(devices)}).",
            hint="plug in or enable a "
            + ("microphone" if kind == "input" else "speaker")
            + ", or start a sound server (PulseAudio/PipeWire)",
            kind=kind,
        )
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        for d in usable:
            if d.is_default_input if kind == "input" else d.is_default_output:
                return d
        return usable[0]
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        for d in usable:
            if d.index == index:
                return d
        raise DeviceError(
            f"No {kind} device with index {index}.",
            hint=f"available {kind}s: {describe(devices, kind)} (see `voiceloop devices`)",
            kind=kind,
        )
    wanted = spec.strip().casefold()
    name = _match([d.name for d in usable], wanted)
    if name is not None:
        return next(d for d in usable if d.name == name)
    via = next((d for d in usable if d.name == "pulse"), None)
    names = (pulse_endpoints(kind) if pulse is None else pulse) if via else []
    route = _match(names, wanted)
    if via is not None and route is not None:
        return dataclasses.replace(via, route=route)
    extra = f"; PulseAudio {kind}s: {', '.join(names)}" if names else ""
    raise DeviceError(
        f"No {kind} device matches {spec!r}.",
        hint=f"available {kind}s: {describe(devices, kind)}{extra} (see `voiceloop devices`)",
        kind=kind,
    )


def rescan(sd: ModuleType | None = None) -> None:
    """Make PortAudio look for devices again (after a sound server started or env changed)."""
    sd = sd or import_sounddevice()
    sd._terminate()
    sd._initialize()


def input_format(sd: Any, device: DeviceInfo, rate: float) -> tuple[float, int] | None:
    """The first capture format ``device`` accepts, as ``(sample rate, channels)``: ``rate``
    mono, else its native rate in mono, stereo, then all its channels (``None``: none)."""
    native = device.default_samplerate or rate
    for candidate, channels in (
        (rate, 1),
        (native, 1),
        (native, min(2, device.max_input_channels)),
        (native, device.max_input_channels),
    ):
        try:
            sd.check_input_settings(
                device=device.index, samplerate=candidate, channels=channels, dtype="float32"
            )
        except Exception:
            continue
        return float(candidate), int(channels)
    return None
