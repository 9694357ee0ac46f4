"""Time to first audio of the voice loop, against a naive sequential pipeline. Prints JSON.

The engine runs for real — paced 16 kHz frames, the energy endpointer, one FLAC encode
per utterance into a real history store, the sentence splitter, ordered prefetch and a
sink that plays on the event loop's clock — with stages that model a cloud backend's
latency (``PROFILE``): speech-to-text, a streamed chat reply of five sentences, and
speech synthesis whose time grows with the length of the text.

For every turn:

- ``ttfa``: speech end → first reply sample played (the engine's own ``ttfa_ms``);
- ``overhead``: ``ttfa`` minus what the engine cannot avoid: the endpointer's hangover,
  the transcription delay, the chat stream's time until the first speakable chunk is
  complete, and the synthesis delay of that chunk;
- ``naive``: the same utterance through a sequential pipeline — transcribe, wait for the
  whole reply, synthesize it all, play — with the same modelled delays, measured.

Modelled stages rather than the loopback server: its speech route answers in a fixed time
whatever the text's length, which would make the naive pipeline (one synthesis of the whole
reply) look as fast as one sentence.

Usage: ``uv run python benchmarks/latency.py [--turns 20] [--seed 1]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from voiceloop.audio.base import PlaybackHandle
from voiceloop.config import Settings
from voiceloop.engine import Engine, Stages
from voiceloop.events import TurnMetrics
from voiceloop.frames import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    AudioChunk,
    AudioFrame,
    Message,
    Transcript,
    Utterance,
)
from voiceloop.store import Store
from voiceloop.text.sentences import SentenceSplitter

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE

PROFILE = {
    "hangover_ms": 600,
    "stt_ms": 300,
    "stt_jitter_ms": 80,
    "llm_first_token_ms": 250,
    "llm_first_token_jitter_ms": 80,
    "llm_chars_per_s": 2000,  # ~500 tokens/s
    "llm_delta_chars": 4,
    "tts_base_ms": 150,
    "tts_base_jitter_ms": 40,
    "tts_realtime_factor": 0.15,  # synthesis time per second of audio
    "speech_chars_per_s": 15.0,  # how long the synthesized audio lasts
    "playback_speed": 50.0,  # the simulated speaker plays this much faster than real time
}

SENTENCES = [
    "The sky looks blue because air scatters short wavelengths of sunlight the most.",
    "At sunset the light crosses much more air, so the reds and oranges win.",
    "Clouds are white because their droplets scatter every colour about equally.",
    "On Mars the dust makes the daytime sky a pale butterscotch colour instead.",
    "Your eyes are also more sensitive to blue than to violet light.",
    "That is why the sky does not look purple, even though violet scatters more.",
    "Photographers call the hour after sunrise and before sunset the golden hour.",
    "Pollution and volcanic ash can make sunsets unusually vivid for months.",
    "High up in the atmosphere, the sky quickly fades to black.",
    "Astronauts describe the thin blue line of the atmosphere as strikingly fragile.",
]


def jitter(rng: random.Random, base_ms: float, spread_ms: float) -> float:
    return max(0.0, rng.gauss(base_ms, spread_ms / 2)) / 1000.0


# -- modelled stages -------------------------------------------------------------------


class ModelTranscriber:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.delays: list[float] = []

    async def transcribe(self, utterance: Utterance, *, task: str = "transcribe") -> Transcript:
        delay = jitter(self.rng, PROFILE["stt_ms"], PROFILE["stt_jitter_ms"])
        self.delays.append(delay)
        await asyncio.sleep(delay)
        return Transcript("why is the sky blue", language="en", provider="model", model="m")


@dataclass
class ReplyPlan:
    text: str
    first_token: float
    deltas: list[str] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)

    @classmethod
    def make(cls, rng: random.Random) -> ReplyPlan:
        text = " ".join(rng.sample(SENTENCES, 5))
        step = PROFILE["llm_delta_chars"]
        deltas = [text[i : i + step] for i in range(0, len(text), step)]
        gap = step / PROFILE["llm_chars_per_s"]
        first = jitter(rng, PROFILE["llm_first_token_ms"], PROFILE["llm_first_token_jitter_ms"])
        return cls(text, first, deltas, [0.0] + [gap] * (len(deltas) - 1))

    def time_to_first_chunk(self) -> tuple[float, str]:
        """When the first speakable chunk is complete, and that chunk."""
        splitter = SentenceSplitter(max_chars=200)
        elapsed = self.first_token
        for delta, gap in zip(self.deltas, self.gaps, strict=True):
            elapsed += gap
            chunks = splitter.push(delta)
            if chunks:
                return elapsed, chunks[0]
        return elapsed, splitter.flush()[0]

    def chunks(self) -> list[str]:
        splitter = SentenceSplitter(max_chars=200)
        out = [c for delta in self.deltas for c in splitter.push(delta)]
        return out + splitter.flush()


class ModelResponder:
    def __init__(self, plans: Sequence[ReplyPlan]) -> None:
        self.plans = list(plans)
        self.calls = 0

    async def respond(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        plan = self.plans[self.calls % len(self.plans)]
        self.calls += 1
        loop = asyncio.get_running_loop()
        due = loop.time() + plan.first_token
        for delta, gap in zip(plan.deltas, plan.gaps, strict=True):
            due += gap  # a server streaming at a steady rate: deadlines, not sleeps
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            yield delta


def synthesis_delay(text: str, base: float) -> float:
    audio_s = len(text) / PROFILE["speech_chars_per_s"]
    return base + PROFILE["tts_realtime_factor"] * audio_s


class ModelSynthesizer:
    RATE = 8000

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.calls: list[tuple[str, float]] = []

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        base = jitter(self.rng, PROFILE["tts_base_ms"], PROFILE["tts_base_jitter_ms"])
        delay = synthesis_delay(text, base)
        self.calls.append((text, delay))
        await asyncio.sleep(delay)
        seconds = len(text) / PROFILE["speech_chars_per_s"]
        yield AudioChunk(np.zeros(int(seconds * self.RATE), np.float32), self.RATE, text)


# -- audio -----------------------------------------------------------------------------


class SimSink:
    """Plays chunks back to back on the loop clock, ``speed`` times faster than real time."""

    realtime = True

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self._tail = 0.0
        self._pending: list[tuple[PlaybackHandle, list[asyncio.TimerHandle]]] = []

    async def start(self) -> None:
        return None

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    def play(self, chunk: AudioChunk) -> PlaybackHandle:
        loop = asyncio.get_running_loop()
        handle = PlaybackHandle(chunk)
        start = max(loop.time(), self._tail)
        end = start + chunk.duration / self.speed
        self._tail = end
        timers = [
            loop.call_at(start, _resolve, handle.started, start),
            loop.call_at(end, _resolve, handle.finished, end),
        ]
        self._pending.append((handle, timers))
        return handle

    def flush(self) -> None:
        for handle, timers in self._pending:
            for timer in timers:
                timer.cancel()
            for fut in (handle.started, handle.finished):
                if not fut.done():
                    fut.cancel()
        self._pending.clear()
        self._tail = 0.0

    async def drain(self) -> None:
        waiting = [h.finished for h, _ in self._pending if not h.finished.done()]
        if waiting:
            await asyncio.wait(waiting)

    @property
    def underruns(self) -> int:
        return 0

    async def aclose(self) -> None:
        self.flush()


def _resolve(fut: asyncio.Future[float], value: float) -> None:
    if not fut.done():
        fut.set_result(value)


class PacedSource:
    """Live-like frames at real time: each turn is 0.6 s of voice, then silence until the
    previous turn is over (plus a pause)."""

    realtime = True
    dropped = 0

    def __init__(self, turns: int, finished: list[int]) -> None:
        self.turns = turns
        self.finished = finished
        self._closed = False

    async def frames(self) -> AsyncIterator[AudioFrame]:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        index = 0
        t = np.arange(FRAME_SAMPLES) / SAMPLE_RATE
        voice = (8000 * np.sin(2 * np.pi * 220 * t)).astype(np.int16)
        quiet = np.zeros(FRAME_SAMPLES, np.int16)

        async def frame(pcm: np.ndarray) -> AudioFrame:
            nonlocal index
            index += 1
            delay = t0 + index * FRAME_S - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            level = -12.0 if pcm is voice else -100.0
            return AudioFrame(pcm, (index - 1) * FRAME_S, level)

        for turn in range(self.turns):
            for _ in range(10):
                yield await frame(quiet)
            for _ in range(round(0.6 / FRAME_S)):
                yield await frame(voice)
            while len(self.finished) <= turn and not self._closed:
                yield await frame(quiet)
        for _ in range(10):
            yield await frame(quiet)

    async def aclose(self) -> None:
        self._closed = True


# -- runs ------------------------------------------------------------------------------


async def run_engine(turns: int, seed: int, data_dir: Path) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    plans = [ReplyPlan.make(rng) for _ in range(turns)]
    stt, llm, tts = ModelTranscriber(rng), ModelResponder(plans), ModelSynthesizer(rng)
    settings = Settings(
        audio={"cues": False, "barge_in": False},
        vad={"engine": "energy", "hangover_ms": PROFILE["hangover_ms"]},
    )
    metrics: list[dict[str, Any]] = []
    finished: list[int] = []

    def on_event(event: Any) -> None:
        if isinstance(event, TurnMetrics):
            metrics.append(event.metrics)
            finished.append(event.turn_id)

    store = Store(data_dir)
    engine = Engine(
        settings,
        mode="converse",
        source=PacedSource(turns, finished),
        sink=SimSink(PROFILE["playback_speed"]),
        stages=Stages(transcriber=stt, responder=llm, synthesizer=tts),
        on_event=on_event,
        recorder=store,
        max_turns=turns,
        closers=[store.close],
    )
    await engine.run()
    results = []
    first_call = 0  # index of each turn's first synthesis among all the calls
    for i, m in enumerate(metrics):
        plan = plans[i]
        llm_first_chunk, first_chunk = plan.time_to_first_chunk()
        synth_text, synth_delay = tts.calls[first_call]
        assert synth_text == first_chunk, (synth_text, first_chunk)
        first_call += len(plan.chunks())
        unavoidable = (
            m["utterance_closed_ms"] / 1000 + stt.delays[i] + llm_first_chunk + synth_delay
        )
        results.append(
            {
                "ttfa": m["ttfa_ms"] / 1000,
                "overhead": m["ttfa_ms"] / 1000 - unavoidable,
                "hangover": m["utterance_closed_ms"] / 1000,
                "transcript": m["transcript_ms"] / 1000,
                "stt": stt.delays[i],
                "plan": plan,
                "first_chunk": first_chunk,
            }
        )
    return results


async def run_naive(turn: dict[str, Any], seed: int) -> float:
    """The same turn, sequentially: transcribe, whole reply, synthesize it all, play."""
    rng = random.Random(seed)
    plan: ReplyPlan = turn["plan"]
    sink = SimSink(PROFILE["playback_speed"])
    start = time.monotonic()
    await asyncio.sleep(turn["stt"])  # the same transcription delay
    text = "".join([d async for d in ModelResponder([plan]).respond([])])
    chunks = [c async for c in ModelSynthesizer(rng).synthesize(text)]
    handle = sink.play(chunks[0])
    await handle.started
    return turn["hangover"] + (time.monotonic() - start)


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=20, method="inclusive")
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": round(q[18] * 1000, 1),
        "min": round(ordered[0] * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


async def main_async(turns: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        results = await run_engine(turns, seed, Path(tmp))
    # Independent sleeps: running them together does not change what each one measures.
    naive = await asyncio.gather(*(run_naive(turn, seed + i) for i, turn in enumerate(results)))
    ttfa = [r["ttfa"] for r in results]
    after_transcript = [r["ttfa"] - r["transcript"] for r in results]
    naive_after = [n - r["transcript"] for n, r in zip(naive, results, strict=True)]
    overhead = [r["overhead"] for r in results]
    speedup = statistics.median(naive) / statistics.median(ttfa)
    speedup_after = statistics.median(naive_after) / statistics.median(after_transcript)
    return {
        "benchmark": "latency",
        "turns": len(results),
        "profile": PROFILE,
        "reply_chars_mean": round(statistics.mean(len(r["plan"].text) for r in results)),
        "first_chunk_chars_mean": round(statistics.mean(len(r["first_chunk"]) for r in results)),
        "streaming_ttfa_ms": percentiles(ttfa),
        "engine_overhead_ms": percentiles(overhead),
        "naive_ttfa_ms": percentiles(naive),
        "speedup_ttfa_p50": round(speedup, 2),
        "transcript_to_audio_ms": {
            "streaming": percentiles(after_transcript),
            "naive": percentiles(naive_after),
            "speedup_p50": round(speedup_after, 2),
        },
        "targets": {
            "overhead_p50_under_30ms": percentiles(overhead)["p50"] < 30,
            "first_audio_3x_faster_end_to_end": speedup >= 3,
            "first_audio_3x_faster_after_transcript": speedup_after >= 3,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args.turns, args.seed)), indent=2))


if __name__ == "__main__":
    main()
