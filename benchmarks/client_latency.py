"""What the HTTP client adds on top of the server: first chat delta, first speech samples.

Runs against the loopback fake server with a fixed latency profile and reports how long
after the server's own delay the first delta / first decoded audio reached the caller,
for a cold connection and for a warmed (kept-alive) one.

Run: scripts/uv run python benchmarks/client_latency.py [--runs N]
Prints JSON (milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pydantic import SecretStr

from tests.fakegroq import FakeGroq
from voiceloop.providers.groq import GroqClient
from voiceloop.providers.http import ClientPool

FIRST_TOKEN_S = 0.05


async def first_delta(client: GroqClient) -> float:
    start = time.perf_counter()
    stream = client.chat_stream([{"role": "user", "content": "hi"}], model="openai/gpt-oss-20b")
    async with stream:
        async for delta in stream:
            if delta.content:
                return time.perf_counter() - start
    raise RuntimeError("no delta")


async def first_audio(client: GroqClient) -> float:
    start = time.perf_counter()
    pieces = client.speech_stream(
        "Hello there, this is a test.", model="canopylabs/orpheus-v1-english", voice="autumn"
    )
    async for piece in pieces:
        if len(piece.pcm):
            elapsed = time.perf_counter() - start
            await pieces.aclose()  # type: ignore[attr-defined]
            return elapsed
    raise RuntimeError("no audio")


async def measure(fake: FakeGroq, runs: int) -> dict[str, float]:
    fake.latency.first_token = FIRST_TOKEN_S
    results: dict[str, list[float]] = {"chat_cold": [], "chat_warm": [], "speech_warm": []}
    for _ in range(runs):
        pool = ClientPool()
        client = GroqClient(fake.base_url, SecretStr(fake.api_key), pool=pool)
        results["chat_cold"].append(await first_delta(client) - FIRST_TOKEN_S)
        results["chat_warm"].append(await first_delta(client) - FIRST_TOKEN_S)
        results["speech_warm"].append(await first_audio(client))
        await pool.aclose()
    return {f"{k}_ms": round(statistics.median(v) * 1000, 2) for k, v in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    fake = FakeGroq().start()
    try:
        figures = asyncio.run(measure(fake, args.runs))
    finally:
        fake.stop()
    print(json.dumps({"runs": args.runs, "server_first_token_s": FIRST_TOKEN_S, **figures}))


if __name__ == "__main__":
    main()
