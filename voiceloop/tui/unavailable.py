"""What is missing when the engine cannot run, and what still works, in words for the screen."""

from __future__ import annotations

from voiceloop.errors import DeviceError, PortAudioMissingError, VoiceloopError

WORKS_WITHOUT_AUDIO = "history (Ctrl+R), settings (F10) and devices (F7) still work"


def missing_device(error: BaseException) -> str | None:
    """``microphone``, ``speaker`` or ``sound`` (no audio at all) if that stopped the engine."""
    if isinstance(error, PortAudioMissingError):
        return "sound"
    if isinstance(error, DeviceError):
        if error.kind == "input":
            return "microphone"
        if error.kind == "output":
            return "speaker"
        return "sound"
    return None


def stopped_reason(error: BaseException, missing: str | None) -> tuple[str, str]:
    """A short label for the state indicator, and a line: what is missing, what works."""
    if missing is None:
        title = error.title if isinstance(error, VoiceloopError) else "Error"
        return "Error", f"{title}: the engine stopped — Ctrl+P → Restart engine to try again."
    label, what = {
        "microphone": ("No microphone", "No microphone: nothing can be heard"),
        "speaker": ("No speaker", "No speaker: replies and dictation cannot play"),
        "sound": ("No audio", "No sound device: nothing can be heard or played"),
    }[missing]
    return label, f"{what}; {WORKS_WITHOUT_AUDIO}. Ctrl+P → Restart engine once it is connected."
