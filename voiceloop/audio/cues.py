"""Cue sounds ("listening", "done") and where the package keeps its assets.

Cues play through the same sink as speech. They must never end up in an utterance: the
engine keeps the endpointer suppressed from the moment a cue is queued until it has
finished plus :data:`CUE_TAIL_S`.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Literal

from voiceloop.audio.base import AudioSink, PlaybackHandle
from voiceloop.errors import AudioError
from voiceloop.frames import AudioChunk

CueName = Literal["listening", "done"]

CUE_TAIL_S = 0.15
"""Keep the microphone suppressed this long after a cue ends (device and room echo)."""


def asset_path(name: str) -> Path:
    """Path of a shipped asset: ``voiceloop/assets/`` in a wheel, ``assets/`` in a checkout."""
    package = Path(__file__).resolve().parent.parent
    for base in (package / "assets", package.parent / "assets"):
        candidate = base / name
        if candidate.is_file():
            return candidate
    raise AudioError(
        f"Asset {name!r} is missing from the installation.",
        hint="reinstall voiceloop (or run scripts/make_cues.py in a source checkout)",
    )


@functools.cache
def load_cue(name: CueName) -> AudioChunk:
    """The cue as a float32 chunk at its own rate (decoded once)."""
    import soundfile

    path = asset_path(f"cue_{name}.wav")
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"Cannot read cue sound {path.name}: {exc}") from exc
    return AudioChunk(pcm=data.mean(axis=1, dtype="float32"), sample_rate=int(rate))


def play_cue(sink: AudioSink, name: CueName) -> PlaybackHandle:
    """Queue a cue on ``sink`` like any chunk."""
    return sink.play(load_cue(name))
