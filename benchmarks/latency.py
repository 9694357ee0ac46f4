"""Time to first audio of the voice loop on the loopback Groq server, against a naive
sequential pipeline. Prints JSON.

The engine runs for real — paced 16 kHz frames, the energy endpointer (a 600 ms hangover;
transcription asked at the pause, ``early_transcribe_ms`` into it), one FLAC encode per
utterance into a real history store, the Groq providers over real HTTP to the loopback
server (multipart upload, paced SSE chat stream, chunked WAV speech), the sentence
splitter, ordered prefetch — with a sink that plays on the event loop's clock.
The server is paced by ``Latency.realistic()`` (see ``tests/fakegroq/server.py``):
transcription delay, time to first token, time per token, and speech synthesis whose
time grows with the text (base + per character). Each turn's reply is five sentences.

For every turn:

- ``ttfa``: speech end → first reply sample played (the engine's own ``ttfa_ms``);
- ``overhead``: ``ttfa`` minus what the server and the endpointer impose: the later of
  the hangover (speech end → utterance closed) and the transcription request's arrival
  plus the server's transcription delay, then the chat stream's time from
  the request's arrival until the last token of the first speakable chunk was sent
  (server stamps), and the speech delay for that chunk;
  ``engine_overhead_by_step_p50_ms`` splits it: upload and transcription request,
  chat request until the first chunk left the splitter, synthesis request and WAV
  decoding, queueing on the sink;
- ``naive``: the same utterance (its FLAC as uploaded) through a sequential pipeline on
  the same server — transcribe, wait for the whole reply, synthesize all of it (in
  ``tts.max_chars`` pieces, the API's limit), then play — plus the same hangover.

Ratios are given end to end (from speech end) and from the transcript (hangover and
transcription are the same in both pipelines, so they dilute the end-to-end ratio).

Usage: ``uv run python benchmarks/latency.py [--turns 20] [--seed 1]
[--speech-ms-per-char 10] [--early-transcribe-ms 300]`` (0: transcribe after the hangover)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sim_audio import PacedSource, SimSink
from tests.fakegroq import FakeGroq, Latency
from voiceloop.config_sections import VadSettings
from voiceloop.frames import Message, Utterance

HANGOVER_MS = 600
PLAYBACK_SPEED = 50.0  # the simulated speaker plays this much faster than real time

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


# -- runs ------------------------------------------------------------------------------


def bench_settings(fake: FakeGroq, config_dir: Path, early_ms: int) -> Any:
    """Settings talking to the loopback server only (no config file, no local fallback)."""
    for name in [n for n in os.environ if n.startswith(("GROQ_", "VOICELOOP_"))]:
        del os.environ[name]
    os.environ["GROQ_API_KEY"] = fake.api_key
    os.environ["GROQ_BASE_URL"] = fake.root_url
    os.environ["VOICELOOP_CONFIG"] = str(config_dir / "config.toml")
    from voiceloop.config import load_settings

    return load_settings(
        {
            "audio": {"cues": False, "barge_in": False},
            "vad": {
                "engine": "energy",
                "hangover_ms": HANGOVER_MS,
                "early_transcribe_ms": early_ms,
            },
            "stt": {"fallback": False},
            "tts": {"fallback": False},
        }
    )


def words(text: str) -> list[str]:
    """The server's tokens: words with their following space."""
    parts = text.split(" ")
    return [w + (" " if i < len(parts) - 1 else "") for i, w in enumerate(parts)]


def tokens_for(reply: str, chunk: str) -> int:
    """How many tokens of ``reply`` the server had sent once ``chunk`` (its start) was whole."""
    sent = ""
    for i, token in enumerate(words(reply)):
        sent += token
        if len(sent.strip()) >= len(chunk):
            return i + 1
    return len(words(reply))


async def run_engine(fake: FakeGroq, settings: Any, replies: list[str], data_dir: Path):
    from voiceloop.engine import Engine
    from voiceloop.events import TurnMetrics
    from voiceloop.session.builder import aclose_stages, build_stages
    from voiceloop.store import Store

    turns = len(replies)
    fake.transcripts.extend(["why is the sky blue"] * turns)
    fake.chat_replies.extend(replies)
    stages, _ = build_stages(settings, mode="converse")
    metrics: list[dict[str, Any]] = []
    finished: list[int] = []

    def on_event(event: Any) -> None:
        if isinstance(event, TurnMetrics):
            metrics.append(event.metrics)
            finished.append(event.turn_id)

    store = Store(data_dir)
    source = PacedSource(turns, finished)
    engine = Engine(
        settings,
        mode="converse",
        source=source,
        sink=SimSink(PLAYBACK_SPEED),
        stages=stages,
        on_event=on_event,
        recorder=store,
        max_turns=turns,
        closers=[store.close, lambda: aclose_stages(stages)],
    )
    await engine.run()
    chats = fake.requests_to("chat")
    speeches = fake.requests_to("speech")
    uploads = fake.requests_to("transcriptions")
    assert len(metrics) == len(chats) == len(uploads) == turns, (len(metrics), len(uploads))
    results = []
    for i, m in enumerate(metrics):
        chat = chats[i]
        first_speech = next(r for r in speeches if r.time >= chat.time)
        chunk = first_speech.json["input"]
        chat_wait = chat.sent[tokens_for(replies[i], chunk) - 1] - chat.time
        hangover = m["utterance_closed_ms"] / 1000
        speech_delay = fake.latency.speech_delay(chunk)
        # The transcript cannot come before the utterance closes, nor before the server's
        # delay after the request's arrival (at the pause, when it was asked early).
        asked = uploads[i].time - source.speech_ends[i]  # from speech end
        transcribed = max(hangover, asked + fake.latency.transcription)
        unavoidable = transcribed + chat_wait + speech_delay
        at = {k: m[k + "_ms"] / 1000 for k in ("transcript", "first_chunk", "first_audio", "ttfa")}
        results.append(
            {
                "steps": {
                    "transcription": at["transcript"] - transcribed,
                    "chat_to_first_chunk": at["first_chunk"] - at["transcript"] - chat_wait,
                    "synthesis": at["first_audio"] - at["first_chunk"] - speech_delay,
                    "playback": at["ttfa"] - at["first_audio"],
                },
                "ttfa": m["ttfa_ms"] / 1000,
                "overhead": m["ttfa_ms"] / 1000 - unavoidable,
                "hangover": hangover,
                "early": bool(m.get("early_transcript")),
                "transcript": m["transcript_ms"] / 1000,
                "first_chunk": chunk,
                "reply": replies[i],
                "flac": uploads[i].file[1] if uploads[i].file else b"",
            }
        )
    return results


async def run_naive(fake: FakeGroq, settings: Any, turn: dict[str, Any]) -> dict[str, float]:
    """The same turn, sequentially: transcribe, whole reply, synthesize all of it, play."""
    from voiceloop.session.builder import aclose_stages, build_stages

    stages, _ = build_stages(settings, mode="converse")
    assert stages.transcriber and stages.responder and stages.synthesizer
    fake.transcripts.append("why is the sky blue")
    fake.chat_replies.append(turn["reply"])
    utterance = Utterance(
        np.zeros(1, np.int16), 0.0, 0.0, 1.0, flac=turn["flac"]
    )  # what the engine uploaded
    sink = SimSink(PLAYBACK_SPEED)
    start = time.monotonic()
    transcript = await stages.transcriber.transcribe(utterance)
    heard = time.monotonic()
    messages = [Message("system", settings.llm.system_prompt), Message("user", transcript.text)]
    text = "".join([d async for d in stages.responder.respond(messages)])
    chunks = [c async for c in stages.synthesizer.synthesize(text)]
    handle = sink.play(chunks[0])
    await handle.started
    end = time.monotonic()
    await aclose_stages(stages)
    return {"ttfa": turn["hangover"] + end - start, "after_transcript": end - heard}


def percentiles(values: Sequence[float]) -> dict[str, float]:
    ordered = sorted(values)
    q = statistics.quantiles(ordered, n=20, method="inclusive")
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": round(q[18] * 1000, 1),
        "min": round(ordered[0] * 1000, 1),
        "max": round(ordered[-1] * 1000, 1),
    }


async def main_async(
    turns: int, seed: int, speech_ms_per_char: float, early_ms: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    replies = [" ".join(rng.sample(SENTENCES, 5)) for _ in range(turns)]
    fake = FakeGroq().start()
    try:
        fake.latency = Latency.realistic()
        fake.latency.speech_per_char = speech_ms_per_char / 1000
        with tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(fake, Path(tmp), early_ms)
            results = await run_engine(fake, settings, replies, Path(tmp) / "data")
            naive = [await run_naive(fake, settings, turn) for turn in results]
        latency = fake.latency
    finally:
        fake.stop()
    ttfa = [r["ttfa"] for r in results]
    overhead = [r["overhead"] for r in results]
    after = [r["ttfa"] - r["transcript"] for r in results]
    after_closed = [r["ttfa"] - r["hangover"] for r in results]
    naive_ttfa = [n["ttfa"] for n in naive]
    naive_after = [n["after_transcript"] for n in naive]
    naive_closed = [n["ttfa"] - r["hangover"] for n, r in zip(naive, results, strict=True)]
    speedup = statistics.median(naive_ttfa) / statistics.median(ttfa)
    speedup_closed = statistics.median(naive_closed) / statistics.median(after_closed)
    speedup_after = statistics.median(naive_after) / statistics.median(after)
    return {
        "benchmark": "latency",
        "server": "loopback Groq server over HTTP (tests/fakegroq)",
        "turns": len(results),
        "profile": {
            "hangover_ms": HANGOVER_MS,
            "early_transcribe_ms": early_ms,
            "transcription_ms": latency.transcription * 1000,
            "first_token_ms": latency.first_token * 1000,
            "per_token_ms": latency.per_token * 1000,
            "speech_base_ms": latency.speech_base * 1000,
            "speech_per_char_ms": latency.speech_per_char * 1000,
            "playback_speed": PLAYBACK_SPEED,
        },
        "turns_with_early_transcript": sum(r["early"] for r in results),
        "reply_chars_mean": round(statistics.mean(len(r["reply"]) for r in results)),
        "first_chunk_chars_mean": round(statistics.mean(len(r["first_chunk"]) for r in results)),
        "streaming_ttfa_ms": percentiles(ttfa),
        "engine_overhead_ms": percentiles(overhead),
        "engine_overhead_by_step_p50_ms": {
            step: round(statistics.median(r["steps"][step] for r in results) * 1000, 1)
            for step in results[0]["steps"]
        },
        "naive_ttfa_ms": percentiles(naive_ttfa),
        "speedup_ttfa_p50": round(speedup, 2),
        "utterance_closed_to_audio_ms": {
            "streaming": percentiles(after_closed),
            "naive": percentiles(naive_closed),
            "speedup_p50": round(speedup_closed, 2),
        },
        "transcript_to_audio_ms": {
            "streaming": percentiles(after),
            "naive": percentiles(naive_after),
            "speedup_p50": round(speedup_after, 2),
        },
        "targets": {
            "overhead_p50_under_30ms": percentiles(overhead)["p50"] < 30,
            "first_audio_3x_faster_end_to_end": speedup >= 3,
            "first_audio_3x_faster_from_utterance_closed": speedup_closed >= 3,
            "first_audio_3x_faster_from_transcript": speedup_after >= 3,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--speech-ms-per-char",
        type=float,
        default=Latency.realistic().speech_per_char * 1000,
        help="synthesis time per character of text on the loopback server",
    )
    parser.add_argument(
        "--early-transcribe-ms",
        type=int,
        default=VadSettings().early_transcribe_ms,
        help="[vad] early_transcribe_ms (default: the engine's); 0 turns it off",
    )
    args = parser.parse_args()
    result = asyncio.run(
        main_async(args.turns, args.seed, args.speech_ms_per_char, args.early_transcribe_ms)
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
