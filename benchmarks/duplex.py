"""Echo cancellation figures, printed as JSON.

    uv run python benchmarks/duplex.py [--seconds 8]

- ``echo_suppression_db``: mic power over canceller output power once converged (last
  half), in a simulated room (the speaker heard 30/45/60 ms late at -6/-12 dB, blocks
  tapped as a 48 kHz speaker plays them), per (delay, gain).
- ``cpu_ms_per_s``: CPU milliseconds per second of listening through the canceller
  (with and without WebRTC's noise suppressor), and through the reference lookup alone
  (echo cancellation off costs nothing: the source is not wrapped);
  ``noise_suppression_db``: the same room's suppression with the noise suppressor on, and
  ``with_noise_suppression``: the barge-in figures below with it on. (The canceller, and
  with it the noise suppressor, only runs while the microphone hears the speaker.)
- ``barge_in_reaction_ms``: p50/p95 over ``--trials`` espeak-ng voices cutting into an
  espeak-ng reply in the same room: from the voice's onset to the moment the guard would
  pause the reply: the first double-talk frame on the raw microphone, or the voice
  detector's speech start through the canceller (and, when the canceller's measure first
  calls it echo, its next check that does not), whichever comes first; ``on_double_talk``
  says how many paused on double talk. Add the speaker's output latency (one block with
  ``latency='low'``) for silence at the speaker.
- ``false_interruption_resume_rate``: the share of 200 ms noise bursts (coughs) over the
  reply that do not stop it: either no speech start at all, or one the canceller's
  measure calls echo (the transcript check, which resumes on empty text, comes on top).
- ``echo_only_rate``: the share of speech starts on the reply's echo alone that the
  canceller's measure holds without a pause (the rest pause until the transcript).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from voiceloop.audio.echo import EchoCancellingSource, PlaybackReference, make_processor
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

OUT_RATE, BLOCK = 48_000, 512


def speechlike(seconds: float, seed: int, pitch: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    phase = 2 * np.pi * np.cumsum(pitch * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))) / SAMPLE_RATE
    voice = sum(np.sin(k * phase + rng.uniform(0, 6)) / k for k in range(1, 12))
    on = (np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6)) > -0.3).astype(float)
    return 0.25 * voice * np.convolve(on, np.ones(160) / 160, "same")


def run(
    seconds: float, delay_s: float, gain_db: float, cancel: bool, noise_suppression: bool = False
) -> tuple[float, float]:
    """(suppression dB, CPU ms per second of audio)."""
    far = speechlike(seconds, 1, 190.0)
    d = int(delay_s * SAMPLE_RATE)
    mic = np.zeros_like(far)
    mic[d:] = far[:-d] * 10 ** (gain_db / 20)
    noise = np.random.default_rng(9).normal(0, 20, len(mic))
    pcm = np.clip(mic * 32767 + noise, -32768, 32767).astype(np.int16)
    far48 = np.repeat(far, 3).astype(np.float32)
    played = [(far48[i : i + BLOCK, None], 10.0 + i / OUT_RATE)
              for i in range(0, len(far48) - BLOCK + 1, BLOCK)]  # fmt: skip
    reference = PlaybackReference()
    processor = make_processor(noise_suppression=noise_suppression)
    source = EchoCancellingSource(object(), reference, processor=processor)
    out, cpu = [], 0.0
    for i in range(0, len(pcm) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        frame = AudioFrame(pcm=pcm[i : i + FRAME_SAMPLES], time=10.0 + i / SAMPLE_RATE, level_db=0)
        while played and played[0][1] < frame.time + 0.1:
            block, at = played.pop(0)
            reference.tap(block, at, OUT_RATE)
        start = time.process_time()
        if cancel:
            out.append(source.process(frame).pcm)
        else:
            reference.window(frame.time, FRAME_SAMPLES)
            out.append(frame.pcm)
        cpu += time.process_time() - start
    got = np.concatenate(out).astype(np.float64)
    half = slice(len(got) // 2, None)
    suppression = 10 * np.log10(
        np.mean(pcm[: len(got)][half].astype(float) ** 2) / np.mean(got[half] ** 2)
    )
    return float(suppression), cpu / seconds * 1000


def _espeak(text: str) -> np.ndarray:
    import shutil
    import subprocess
    import tempfile

    import soundfile
    import soxr

    if shutil.which("espeak-ng") is None:
        raise SystemExit("espeak-ng is needed for the barge-in figures (apt-get install espeak-ng)")
    with tempfile.NamedTemporaryFile(suffix=".wav") as f:
        subprocess.run(["espeak-ng", "-w", f.name, text], check=True, capture_output=True)
        pcm, rate = soundfile.read(f.name, dtype="float32")
    return np.asarray(soxr.resample(pcm, rate, SAMPLE_RATE), np.float64)


REPLY_TEXT = (
    "Rivers carry water from the high hills all the way down to the sea. They shape deep "
    "valleys over long ages. Many old cities grew up beside them."
)


def barge_in(trials: int, noise_suppression: bool = False) -> dict[str, Any]:
    """Reaction to a voice, noise bursts and the echo alone over a reply (see the docstring)."""
    from voiceloop.audio.vad import Endpointer
    from voiceloop.config import load_settings

    settings = load_settings({})
    far = 0.6 * _espeak(REPLY_TEXT)
    voice = 0.6 * _espeak("Stop. What about lakes?")
    rng = np.random.default_rng(3)
    reactions, resumed, echo_starts, echo_held, on_double_talk = [], 0, 0, 0, 0
    for trial in range(trials):
        kind = ("voice", "cough")[trial % 2]
        onset = 3.0 + rng.uniform(0, 2.0)
        user = np.zeros_like(far)
        at = int(onset * SAMPLE_RATE)
        if kind == "voice":
            user[at : at + len(voice)] = voice[: len(user) - at]
        else:
            n = int(0.2 * SAMPLE_RATE)
            user[at : at + n] = rng.normal(0, 0.2, n) * np.hanning(n)
        d = int(0.045 * SAMPLE_RATE)
        mic = user.copy()
        mic[d:] += far[:-d] * 10 ** (-8 / 20)
        events = _through(far, mic, Endpointer.from_settings(settings.vad), noise_suppression)
        over = [(t, held) for t, held, kind_ in events if kind_ == "start" and t >= onset - 0.05]
        before = [held for t, held, kind_ in events if kind_ == "start" and t < onset - 0.05]
        echo_starts += len(before)
        echo_held += sum(1 for held in before if held)
        talk = [t for t, _, kind_ in events if kind_ == "double_talk" and t >= onset - 0.05]
        if kind == "voice" and (over or talk):
            heard = []
            if over:
                pause = over[0][1]
                heard.append(pause if pause is not True and pause else over[0][0])
            if talk:
                heard.append(talk[0])
            reactions.append(min(heard) - onset)
            on_double_talk += bool(talk) and talk[0] == min(heard)
        elif kind == "cough" and (not over or over[0][1] is True):
            resumed += 1
    coughs = trials // 2
    ms = sorted(r * 1000 for r in reactions)
    return {
        "barge_in_reaction_ms": {
            "p50": round(float(np.percentile(ms, 50)), 1) if ms else None,
            "p95": round(float(np.percentile(ms, 95)), 1) if ms else None,
            "heard": f"{len(ms)}/{trials - coughs}",
            "on_double_talk": f"{on_double_talk}/{len(ms)}",
        },
        "false_interruption_resume_rate": round(resumed / coughs, 2) if coughs else None,
        "echo_only_rate": round(echo_held / echo_starts, 2) if echo_starts else None,
    }


def _through(
    far: np.ndarray, mic: np.ndarray, endpointer: Any, noise_suppression: bool = False
) -> list[tuple[float, Any, str]]:
    """Frames of ``mic`` through the canceller and the voice detector: each speech start as
    (its time, the time the guard would pause (or True: held as echo throughout), "start")."""
    from voiceloop.audio.base import SpeechStart

    t0 = 10.0
    far48 = np.repeat(far, 3).astype(np.float32)
    played = [(far48[i : i + BLOCK, None], t0 + i / OUT_RATE)
              for i in range(0, len(far48) - BLOCK + 1, BLOCK)]  # fmt: skip
    reference = PlaybackReference()
    processor = make_processor(noise_suppression=noise_suppression)
    source = EchoCancellingSource(object(), reference, processor=processor)
    pcm = np.clip(mic * 32767, -32768, 32767).astype(np.int16)
    out: list[tuple[float, Any, str]] = []
    watching: float | None = None
    held = -1  # index in out of the start held as echo
    for i in range(0, len(pcm) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        at = t0 + i / SAMPLE_RATE
        while played and played[0][1] < at + 0.1:
            block, stamp = played.pop(0)
            reference.tap(block, stamp, OUT_RATE)
        frame = source.process(AudioFrame(pcm=pcm[i : i + FRAME_SAMPLES], time=at, level_db=0))
        if frame.double_talk:
            out.append((at + FRAME_SAMPLES / SAMPLE_RATE - t0, None, "double_talk"))
        for event in endpointer.feed(frame):
            if isinstance(event, SpeechStart):
                start = event.time - t0
                if source.path.delay_s is not None and source.echo_only(event.time - 0.3):
                    watching, held = event.time, len(out)
                    out.append((start, True, "start"))
                else:
                    out.append((start, at + FRAME_SAMPLES / SAMPLE_RATE - t0, "start"))
        if watching is not None and not source.echo_only(watching, last_s=0.3):
            out[held] = (out[held][0], at + FRAME_SAMPLES / SAMPLE_RATE - t0, "start")
            watching = None
        if endpointer._open is None:
            watching = None
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    suppression = {}
    for delay in (0.030, 0.045, 0.060):
        for gain in (-6.0, -12.0):
            db, _ = run(args.seconds, delay, gain, cancel=True)
            suppression[f"{delay * 1000:.0f}ms_{gain:.0f}dB"] = round(db, 1)
    _, with_aec = run(args.seconds, 0.045, -8.0, cancel=True)
    ns_db, with_ns = run(args.seconds, 0.045, -8.0, cancel=True, noise_suppression=True)
    _, without = run(args.seconds, 0.045, -8.0, cancel=False)
    cpu = {
        "echo_cancellation": round(with_aec, 2),
        "with_noise_suppression": round(with_ns, 2),
        "reference_only": round(without, 2),
    }
    ns_barge_in = barge_in(args.trials, noise_suppression=True)
    print(json.dumps({
        "echo_suppression_db": suppression,
        "noise_suppression_db": round(ns_db, 1),
        "cpu_ms_per_s": cpu,
        **barge_in(args.trials),
        "with_noise_suppression": {
            key: ns_barge_in[key]
            for key in ("barge_in_reaction_ms", "false_interruption_resume_rate")
        },
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
