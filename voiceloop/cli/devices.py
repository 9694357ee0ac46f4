"""``voiceloop devices``: list the sound devices PortAudio can see."""

from __future__ import annotations

import argparse
import sys

EPILOG = """\
examples:
  voiceloop devices                        inputs and outputs, defaults marked *
  voiceloop devices --inputs               only devices that can record
  voiceloop converse --input-device 2      pick a device by the index shown here
  voiceloop converse --input-device usb    or by part of its name (any case)
  voiceloop dictate --input-device mic.monitor
                                           or a PulseAudio source/sink by name
                                           (through the "pulse" device)

In the config file: [audio] input = "usb"   output = 3
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "devices",
        help="list microphones and speakers",
        description="List the sound devices voiceloop can use, with index, name, host API, "
        "channels and default sample rate. * marks the default input/output.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--inputs", action="store_true", help="only input devices")
    which.add_argument("--outputs", action="store_true", help="only output devices")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from voiceloop.audio.devices import Kind, list_devices, pulse_endpoints
    from voiceloop.errors import VoiceloopError

    try:
        devices = list_devices()
    except VoiceloopError as exc:
        print(f"voiceloop: {exc.one_line()}", file=sys.stderr)
        return exc.exit_code
    kinds: list[Kind] = (
        ["input"] if args.inputs else ["output"] if args.outputs else ["input", "output"]
    )
    for n, kind in enumerate(kinds):
        shown = [d for d in devices if d.channels(kind) > 0]
        if n:
            print()
        print(f"{kind.capitalize()}s:")
        if not shown:
            hint = "no microphone found" if kind == "input" else "no speaker found"
            print(f"  (none: {hint}; is a sound server such as PulseAudio running?)")
            continue
        width = max(len(d.name) for d in shown)
        api_width = max(len(d.host_api) for d in shown)
        for d in shown:
            default = d.is_default_input if kind == "input" else d.is_default_output
            print(
                f"{'*' if default else ' '} {d.index:>3}  {d.name:<{width}}  "
                f"{d.host_api:<{api_width}}  {d.channels(kind):>3} ch  "
                f"{d.default_samplerate / 1000:g} kHz"
            )
        if any(d.name == "pulse" for d in shown):
            names = pulse_endpoints(kind)
            if names:
                what = "sources" if kind == "input" else "sinks"
                print(f"  PulseAudio {what}, by name through 'pulse':")
                for name in names:
                    print(f"        {name}")
    return 0
