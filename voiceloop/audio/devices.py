"""Sound devices: a guarded sounddevice import, listing, and lookup by index or name.

``sounddevice`` loads the PortAudio C library when it is imported; on a machine without
it the import raises ``OSError``. Everything in voiceloop that needs sounddevice goes
through :func:`import_sounddevice`, which turns that into a
:class:`~voiceloop.errors.PortAudioMissingError` saying what to install.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

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
    try:
        import sounddevice
    except OSError as exc:
        raise PortAudioMissingError(
            "The PortAudio library is not installed, so there is no sound.",
            hint=_install_hint(),
        ) from exc
    return sounddevice


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

    @property
    def is_input(self) -> bool:
        return self.max_input_channels > 0

    @property
    def is_output(self) -> bool:
        return self.max_output_channels > 0

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


def resolve_device(
    spec: int | str | None,
    kind: Kind = "input",
    *,
    devices: list[DeviceInfo] | None = None,
) -> DeviceInfo:
    """Find the device meant by ``spec``: an index, a name substring, or ``None`` (default).

    A string of digits counts as an index. Name matching is case-insensitive; an exact
    name wins over a substring, and among substrings the first device wins.
    """
    devices = list_devices() if devices is None else devices
    usable = [d for d in devices if d.channels(kind) > 0]
    if not usable:
        raise DeviceError(
            f"No {kind} device found (devices: {describe(devices)}).",
            hint="plug in or enable a "
            + ("microphone" if kind == "input" else "speaker")
            + ", or start a sound server (PulseAudio/PipeWire)",
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
        )
    wanted = spec.strip().casefold()
    exact = [d for d in usable if d.name.casefold() == wanted]
    if exact:
        return exact[0]
    partial = [d for d in usable if wanted in d.name.casefold()]
    if partial:
        return partial[0]
    raise DeviceError(
        f"No {kind} device matches {spec!r}.",
        hint=f"available {kind}s: {describe(devices, kind)} (see `voiceloop devices`)",
    )


def rescan(sd: ModuleType | None = None) -> None:
    """Make PortAudio look for devices again (after a sound server started or env changed)."""
    sd = sd or import_sounddevice()
    sd._terminate()
    sd._initialize()
