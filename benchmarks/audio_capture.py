"""Capture and endpointing figures, printed as JSON.

    uv run python benchmarks/audio_capture.py [--seconds 10] [--utterances 12]

- ``processing``: CPU seconds per second of audio for framing + Silero VAD + endpointer
  (from a file, no device).
- ``listening``: CPU seconds per second of real listening (PortAudio capture on the
  PulseAudio bench's ``mic.monitor`` + framing + VAD + endpointer), whole process.
- ``load``: frames dropped while two processes spin on the CPU and the event loop stalls
  for 200 ms every 500 ms; and, separately, during one 3 s stall of the event loop (longer
  than the 2 s capture queue, so drops are expected and must be reported).
- ``endpoint_latency_ms``: true speech end (10 ms RMS at -40 dBFS) → utterance closed,
  over espeak-ng utterances of varied length and speed, with the default 600 ms hangover.

The bench uses ``$VOICELOOP_TEST_PULSE`` if set, else starts a private daemon with
``scripts/audio-bench.sh``; without PulseAudio the device figures are null.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from voiceloop.audio.base import UtteranceReady  # noqa: E402
from voiceloop.audio.capture import FileSource, Microphone  # noqa: E402
from voiceloop.audio.vad import Endpointer, SileroDetector  # noqa: E402

PHRASES = [
    "Yes.",
    "What time is it?",
    "Turn off the lights in the kitchen, please.",
    "Remind me tomorrow at nine to call the dentist.",
    "How far is the moon from the earth?",
    "Translate good morning into French.",
    "Stop.",
    "Play something relaxing while I cook dinner tonight.",
    "Could you summarise the last paragraph for me?",
    "Send a message to Anna saying I will be late.",
    "Okay, thanks.",
    "What is the weather going to be like this weekend in Lisbon?",
]


def espeak(text: str, path: Path, speed: int) -> np.ndarray:
    subprocess.run(["espeak-ng", "-s", str(speed), "-w", str(path), text], check=True)
    audio, rate = soundfile.read(path, dtype="float32")
    import soxr

    audio = soxr.resample(audio, rate, 16_000).astype(np.float32)
    loud = np.flatnonzero(np.abs(audio) > 0.003)
    return audio[loud[0] : loud[-1] + 1]


def true_end(audio: np.ndarray, offset: float) -> float:
    win = 160
    n = len(audio) // win
    rms = np.sqrt(np.mean(audio[: n * win].reshape(n, win) ** 2, axis=1))
    loud = np.flatnonzero(rms > 10 ** (-40 / 20))
    return offset + (loud[-1] + 1) * win / 16_000


async def endpoint_latency(tmp: Path, count: int) -> tuple[dict, float]:
    pieces, ends, t = [np.zeros(16_000, np.float32)], [], 1.0
    for i in range(count):
        speech = espeak(PHRASES[i % len(PHRASES)], tmp / f"p{i}.wav", speed=140 + 20 * (i % 4))
        ends.append(true_end(speech, t))
        gap = np.zeros(round(16_000 * 1.5), np.float32)
        pieces += [speech, gap]
        t += (len(speech) + len(gap)) / 16_000
    path = tmp / "utterances.wav"
    audio = np.concatenate(pieces)
    soundfile.write(path, audio, 16_000)
    endpointer = Endpointer(SileroDetector())
    closed = []
    cpu0 = time.process_time()
    async for frame in FileSource(path).frames():
        closed += [
            e.utterance.closed_at for e in endpointer.feed(frame) if isinstance(e, UtteranceReady)
        ]
    cpu = time.process_time() - cpu0
    latencies = []
    for end in ends:
        after = [c for c in closed if c >= end]
        if after:
            latencies.append((min(after) - end) * 1000)
    return (
        {
            "utterances": count,
            "closed": len(closed),
            "min": round(min(latencies), 1),
            "median": round(statistics.median(latencies), 1),
            "p90": round(float(np.percentile(latencies, 90)), 1),
            "max": round(max(latencies), 1),
            "hangover_ms": 600,
        },
        cpu / (len(audio) / 16_000),
    )


def spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


async def listen(
    seconds: float, *, stall_every: float = 0.0, stall: float = 0.0, stalls: int = 1000
) -> dict:
    reports: list[int] = []
    mic = Microphone(None, on_overflow=lambda now, total: reports.append(now))
    endpointer = Endpointer(SileroDetector())
    await mic.start()
    frames = 0
    cpu0, t0 = time.process_time(), time.monotonic()

    async def stop_later() -> None:
        left = stalls
        elapsed = 0.0
        while elapsed < seconds:
            step = stall_every or seconds
            await asyncio.sleep(min(step, seconds - elapsed))
            elapsed += step
            if stall and left > 0:
                spin(stall)  # the event loop is blocked, the callback is not
                elapsed += stall
                left -= 1
        await mic.aclose()

    stopper = asyncio.create_task(stop_later())
    async for frame in mic.frames():
        frames += 1
        endpointer.feed(frame)
    await stopper
    wall = time.monotonic() - t0
    figures = {
        "seconds": round(wall, 2),
        "frames": frames,
        "dropped": mic.dropped,
        "reported": sum(reports),
    }
    if not stall:  # with stalls the process burns CPU on purpose
        figures["cpu_per_second"] = round((time.process_time() - cpu0) / wall, 4)
    return figures


def start_bench() -> tuple[dict[str, str], Path | None]:
    given = os.environ.get("VOICELOOP_TEST_PULSE")
    if given:
        runtime, own = Path(given), None
    else:
        if shutil.which("pulseaudio") is None:
            return {}, None
        runtime = own = Path(tempfile.mkdtemp(prefix="voiceloop-pulse-"))
        subprocess.run(
            [str(ROOT / "scripts/audio-bench.sh"), "start", str(own), str(os.getpid())],
            check=True,
            capture_output=True,
        )
    env = {
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_SERVER": f"unix:{runtime}/pulse/native",
        "PULSE_SOURCE": "mic.monitor",
    }
    os.environ.update(env)
    return env, own


async def device_figures(seconds: float) -> dict:
    from voiceloop.audio.devices import rescan

    rescan()
    player = subprocess.Popen(
        [
            "sh",
            "-c",
            "while true; do espeak-ng --stdout 'testing the microphone one two three' "
            "| paplay --device=mic; sleep 0.5; done",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        quiet = await listen(seconds)
        hogs = [multiprocessing.Process(target=spin, args=(seconds + 1,)) for _ in range(2)]
        for h in hogs:
            h.start()
        loaded = await listen(seconds, stall_every=0.5, stall=0.2)
        for h in hogs:
            h.join()
        stalled = await listen(4.0, stall_every=0.5, stall=3.0, stalls=1)
    finally:
        os.killpg(player.pid, 15)
    return {
        "listening": quiet,
        "load": {"busy_cpu_and_200ms_stalls": loaded, "one_3s_stall": stalled},
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--utterances", type=int, default=12)
    args = parser.parse_args()
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        latency, cpu = await endpoint_latency(Path(tmp), args.utterances)
    result["processing"] = {"cpu_per_second": round(cpu, 4), "vad": "silero"}
    result["endpoint_latency_ms"] = latency
    env, own = start_bench()
    try:
        if env:
            result.update(await device_figures(args.seconds))
        else:
            result["listening"] = result["load"] = None
    finally:
        if own is not None:
            subprocess.run(
                [str(ROOT / "scripts/audio-bench.sh"), "stop", str(own)], capture_output=True
            )
            shutil.rmtree(own, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
