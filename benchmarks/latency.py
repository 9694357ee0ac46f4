"""Time to first audio of a spoken question, with today's turn-taking against the old
defaults (``--baseline``), on the loopback Groq server. Prints JSON.

The engine runs for real: espeak-ng questions played in real time as 16 kHz frames (see
``speech_set.py``; half of them with a 400/600/800 ms pause in the middle of the
sentence), the Silero VAD and, by default, the Smart Turn end-of-turn model, one FLAC
encode per utterance into a real history store, the Groq providers over real HTTP to the
loopback server, the sentence splitter and ordered prefetch, with a sink that plays on the
event loop's clock. The server is paced by ``Latency.realistic()``
(``tests/fakegroq/server.py``): transcription 250 ms + 20 ms per second of audio, 200 ms to
the first token, speech whose first byte comes 150 ms + 10 ms per character after the
request.

Two configurations run one after the other on the same questions:

- ``current``: the defaults (end-of-turn model, transcription at the short pause, the
  speculative reply and first synthesis, the short first chunk);
- ``baseline`` (with ``--baseline``): the old defaults: a fixed 600 ms hangover
  (``[turn] enabled = false``), transcription asked at 300 ms of silence, a first chunk of
  at least 15 characters, no speculation.

Per question: ``ttfa`` runs from the end of the voice (the source's own clock) to the first
reply sample played, for questions answered in a single turn; a *false end of turn* is a
turn that ended before the question did (inside its pause); wasted requests are the chat
and speech requests whose answer was never used (server side: requests made minus replies
and pieces spoken), per answered turn (transcriptions, early ones included, are counted
apart: ``transcriptions_per_turn``). ``mic_open_s`` is ``benchmarks/startup.py``'s
measurement (needs the PulseAudio bench, else null).

Each run's ``timeline`` (``timeline.py``) gives, per answered question, the chain that led
to its first sample played, in ms after the end of the voice: transcription sent and back,
end of turn (the turn started), chat sent, first token, speech sent, its first byte, the
first chunk handed to the sink, played; and ``gap_after_first_chunk_ms``: how long the
second chunk's audio came after the first chunk ran out, at the speaker's real pace (the
server's speech lasts ``speech_s_per_char`` a character, a voice's pace), 0 when gapless.

Usage: ``uv run python benchmarks/latency.py [--baseline] [--whole 10] [--paused 10]
[--voice espeak|piper] [--mic-runs 3] [--set tts.first_chunk_min_words=1 ...]``
(``piper``: the questions in the local Piper voice; ``--set`` changes the current run)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.sim_audio import SimSink
from benchmarks.speech_set import Question, SpokenSource, Transcripts, questions, reply_for
from benchmarks.timeline import Trace, timeline
from tests.fakegroq import FakeGroq, Latency

PLAYBACK_SPEED = 50.0  # the simulated speaker plays this much faster than real time
SPEECH_S_PER_CHAR = 0.067  # the server's speech lasts as long as a voice's (15 characters/s)
STEPS = ("utterance_closed", "transcript", "first_token", "first_chunk", "first_audio", "ttfa")
SETTLE_S = 2.6  # past the end-of-turn model's longest wait (2 s): the question is over
BASELINE = {
    "turn": {"enabled": False, "speculate": False},
    "vad": {"hangover_ms": 600, "early_transcribe_ms": 300},
    "tts": {
        "first_chunk_min_chars": 15,
        "first_chunk_min_words": 1,
        "first_chunk_max_words": 1000,
        "first_chunk_interjections": False,
    },
}


def bench_settings(
    fake: FakeGroq, config_dir: Path, baseline: bool, changes: dict[str, dict[str, Any]]
) -> Any:
    """Settings talking to the loopback server only (no config file, no local fallback)."""
    for name in [n for n in os.environ if n.startswith(("GROQ_", "VOICELOOP_"))]:
        del os.environ[name]
    os.environ["GROQ_API_KEY"] = fake.api_key
    os.environ["GROQ_BASE_URL"] = fake.root_url
    os.environ["VOICELOOP_CONFIG"] = str(config_dir / "config.toml")
    from voiceloop.config import load_settings

    overrides: dict[str, dict[str, Any]] = {
        "audio": {"cues": False, "barge_in": False},
        "stt": {"fallback": False},
        "tts": {"fallback": False},
    }
    for section, values in (BASELINE if baseline else changes).items():
        overrides.setdefault(section, {}).update(values)
    return load_settings(overrides)


class Record:
    """What the engine said, stamped with the loop's clock."""

    def __init__(self) -> None:
        self.started: dict[int, float] = {}
        self.finished: dict[int, str] = {}
        self.first_audio: dict[int, float] = {}
        self.first_text: dict[int, str] = {}
        self.metrics: dict[int, dict[str, Any]] = {}
        self.pieces = 0

    def __call__(self, event: Any) -> None:
        from voiceloop.events import SpeakingChunk, TurnFinished, TurnMetrics, TurnStarted

        now = asyncio.get_running_loop().time()
        if isinstance(event, TurnStarted):
            self.started[event.turn_id] = now
        elif isinstance(event, TurnFinished):
            self.finished[event.turn_id] = event.status
        elif isinstance(event, SpeakingChunk):
            self.pieces += 1
            self.first_audio.setdefault(event.turn_id, now)
            self.first_text.setdefault(event.turn_id, event.text)
        elif isinstance(event, TurnMetrics):
            self.metrics[event.turn_id] = event.metrics

    def settled(self, index: int, speech_end: float) -> bool:
        """The turns are over, and one started after the question ended (or it is long
        past: a question whose end was lost)."""
        if len(self.finished) < len(self.started):
            return False
        loop = asyncio.get_running_loop()
        after = any(t >= speech_end for t in self.started.values())
        return after or loop.time() - speech_end > SETTLE_S


async def run_config(fake: FakeGroq, settings: Any, items: list[Question], data: Path) -> dict:
    from voiceloop.engine import Engine
    from voiceloop.session.builder import aclose_stages, build_stages
    from voiceloop.store import Store

    fake.requests.clear()
    transcripts = Transcripts()
    fake.transcribe = transcripts
    fake.chat_reply_for = reply_for
    stages, _ = build_stages(settings, mode="converse")
    trace = Trace()
    trace.wrap(stages)
    record = Record()
    store = Store(data)
    source = SpokenSource(items, transcripts, record.settled)
    engine = Engine(
        settings,
        mode="converse",
        source=source,
        sink=trace.sink(SimSink(PLAYBACK_SPEED)),
        stages=stages,
        on_event=record,
        recorder=store,
        closers=[store.close, lambda: aclose_stages(stages)],
    )
    await engine.run()
    return summarize(fake, items, source, record, trace)


def summarize(
    fake: FakeGroq, items: list[Question], source: SpokenSource, record: Record, trace: Trace
):
    spans = source.spans
    per_question = []
    chains = []
    for i, (item, (start, end)) in enumerate(zip(items, spans, strict=False)):
        until = spans[i + 1][0] if i + 1 < len(spans) else float("inf")
        turns = sorted((t, tid) for tid, t in record.started.items() if start <= t < until)
        false_eot = any(t < end for t, _ in turns)
        whole = len(turns) == 1 and not false_eot
        tid = turns[0][1] if turns else None
        audio = record.first_audio.get(tid) if tid is not None and whole else None
        metrics = record.metrics.get(tid, {}) if tid is not None else {}
        if audio is not None and tid is not None:
            chains.append(
                {
                    "played": audio,
                    "first_text": record.first_text[tid],
                    "eot": record.started[tid],
                    "speech_end": end,
                }
            )
        per_question.append(
            {
                "text": item.text,
                "pause_ms": item.pause_ms,
                "turns": len(turns),
                "false_eot": false_eot,
                "ttfa": audio - end if audio is not None else None,
                "speculative": bool(metrics.get("speculative_reply")),
                "speculative_speech": bool(metrics.get("speculative_speech")),
                "closed_s": metrics.get("utterance_closed_ms", 0) / 1000 if whole else None,
                "engine_ms": {k: metrics[k + "_ms"] for k in STEPS if k + "_ms" in metrics},
            }
        )
    answered = sum(1 for status in record.finished.values() if status == "answered")
    chats, speeches = len(fake.requests_to("chat")), len(fake.requests_to("speech"))
    wasted = max(0, chats - answered) + max(0, speeches - record.pieces)
    engine_wasted = sum(m.get("wasted_requests", 0) for m in record.metrics.values())
    ttfa = [q["ttfa"] for q in per_question if q["ttfa"] is not None]
    paused = [q for q in per_question if q["pause_ms"]]
    return {
        "questions": len(per_question),
        "turns": len(record.started),
        "answered_turns": answered,
        "ttfa_ms": percentiles(ttfa),
        "ttfa_whole_ms": percentiles([q["ttfa"] for q in per_question if not q["pause_ms"]]),
        "ttfa_paused_ms": percentiles([q["ttfa"] for q in paused]),
        "close_after_speech_p50_ms": p50([q["closed_s"] for q in per_question]),
        "false_eot_rate_paused": rate(q["false_eot"] for q in paused),
        "false_eot_rate_whole": rate(q["false_eot"] for q in per_question if not q["pause_ms"]),
        "false_eot_by_pause_ms": {
            str(ms): rate(q["false_eot"] for q in paused if q["pause_ms"] == ms)
            for ms in sorted({q["pause_ms"] for q in paused})
        },
        "requests": {
            "transcriptions": len(fake.requests_to("transcriptions")),
            "chat": chats,
            "speech": speeches,
            "pieces_spoken": record.pieces,
        },
        "wasted_requests_per_turn": round(wasted / answered, 3) if answered else None,
        "transcriptions_per_turn": (
            round(len(fake.requests_to("transcriptions")) / answered, 3) if answered else None
        ),
        "engine_wasted_requests_per_turn": round(engine_wasted / answered, 3) if answered else None,
        "engine_p50_ms": {
            step: p50([q["engine_ms"].get(step, None) for q in per_question if q["closed_s"]], 1)
            for step in STEPS
        },
        "timeline": timeline(trace, chains),
        "speculative_replies_used": sum(q["speculative"] for q in per_question),
        "speculative_speech_used": sum(q["speculative_speech"] for q in per_question),
        "source_timeouts": source.timeouts,
        "per_question": [
            {**q, "ttfa": round(q["ttfa"] * 1000) if q["ttfa"] is not None else None}
            for q in per_question
        ],
    }


def percentiles(values: Sequence[float | None]) -> dict[str, float | None]:
    values = [v for v in values if v is not None]
    if not values:
        return {"p50": None, "p95": None, "n": 0}
    ordered = sorted(values)
    p95 = (
        statistics.quantiles(ordered, n=20, method="inclusive")[18]
        if len(ordered) > 1
        else ordered[0]
    )
    return {
        "p50": round(statistics.median(ordered) * 1000, 1),
        "p95": round(p95 * 1000, 1),
        "n": len(ordered),
    }


def p50(values: Sequence[float | None], scale: float = 1000) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.median(kept) * scale, 1) if kept else None


def rate(flags: Any) -> float | None:
    flags = list(flags)
    return round(sum(flags) / len(flags), 3) if flags else None


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


async def main_async(
    items: list[Question], voice: str, baseline: bool, changes: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    fake = FakeGroq().start()
    runs: dict[str, dict[str, Any]] = {}
    try:
        fake.latency = Latency.realistic()
        fake.speech_seconds_per_char = SPEECH_S_PER_CHAR
        for name in ("baseline", "current") if baseline else ("current",):
            with tempfile.TemporaryDirectory() as tmp:
                settings = bench_settings(fake, Path(tmp), name == "baseline", changes)
                runs[name] = await run_config(fake, settings, items, Path(tmp) / "data")
        latency = fake.latency
    finally:
        fake.stop()
    out: dict[str, Any] = {
        "benchmark": "latency",
        "server": "loopback Groq server over HTTP (tests/fakegroq)",
        "profile": {
            "transcription_ms": latency.transcription * 1000,
            "transcription_per_audio_s_ms": latency.transcription_per_audio_s * 1000,
            "first_token_ms": latency.first_token * 1000,
            "per_token_ms": latency.per_token * 1000,
            "speech_base_ms": latency.speech_base * 1000,
            "speech_per_char_ms": latency.speech_per_char * 1000,
            "playback_speed": PLAYBACK_SPEED,
            "speech_s_per_char": SPEECH_S_PER_CHAR,
        },
        "current_changed": changes,
        "questions": {
            "voice": voice,
            "whole": sum(1 for q in items if not q.pause_ms),
            "paused": sum(1 for q in items if q.pause_ms),
            "pauses_ms": sorted({q.pause_ms for q in items if q.pause_ms}),
        },
        "ttfa_p50_ms": runs["current"]["ttfa_ms"]["p50"],
        "ttfa_p95_ms": runs["current"]["ttfa_ms"]["p95"],
        "false_eot_rate": runs["current"]["false_eot_rate_paused"],
        "wasted_requests_per_turn": runs["current"]["wasted_requests_per_turn"],
        "mic_open_s": None,
    }
    if baseline:
        current, base = runs["current"], runs["baseline"]
        out["baseline_ttfa_p50_ms"] = base["ttfa_ms"]["p50"]
        out["baseline_ttfa_p95_ms"] = base["ttfa_ms"]["p95"]
        out["baseline_false_eot_rate"] = base["false_eot_rate_paused"]
        out["ttfa_p50_ratio"] = ratio(current["ttfa_ms"]["p50"], base["ttfa_ms"]["p50"])
        out["ttfa_p95_ratio"] = ratio(current["ttfa_ms"]["p95"], base["ttfa_ms"]["p95"])
    out["runs"] = runs
    return out


def targets(result: dict[str, Any]) -> dict[str, bool | None]:
    ratio_ = result.get("ttfa_p50_ratio")
    eot, base_eot = result.get("false_eot_rate"), result.get("baseline_false_eot_rate")
    wasted, mic = result.get("wasted_requests_per_turn"), result.get("mic_open_s")
    return {
        "ttfa_p50_at_most_0.6x_baseline": ratio_ <= 0.6 if ratio_ is not None else None,
        "false_eot_no_worse_than_baseline": (
            eot <= base_eot if eot is not None and base_eot is not None else None
        ),
        "wasted_at_most_0.5_per_turn": wasted <= 0.5 if wasted is not None else None,
        "mic_open_at_most_0.3s": mic <= 0.3 if mic is not None else None,
    }


def mic_open(runs: int) -> float | None:
    if runs <= 0:
        return None
    from benchmarks.startup import mic_open_times

    script = str(Path(sys.executable).with_name("voiceloop"))
    times = mic_open_times(script, runs)
    return round(statistics.median(times), 4) if times else None


def parse_changes(parser: argparse.ArgumentParser, items: list[str]) -> dict[str, dict[str, Any]]:
    changes: dict[str, dict[str, Any]] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        section, dot, field = name.partition(".")
        if not (sep and dot and section and field):
            parser.error(f"--set {item!r}: expected SECTION.FIELD=VALUE")
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        changes.setdefault(section, {})[field] = value
    return changes


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--baseline", action="store_true", help="also run the old defaults")
    parser.add_argument("--whole", type=int, default=10, help="questions said in one go")
    parser.add_argument("--paused", type=int, default=10, help="questions with a pause")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="change a setting of the current run (VALUE as JSON, else a string)",
    )
    parser.add_argument("--voice", choices=("espeak", "piper"), default="espeak")
    parser.add_argument("--mic-runs", type=int, default=3, help="launches timed to an open mic")
    args = parser.parse_args()
    if args.whole < 0 or args.paused < 0 or args.whole + args.paused == 0:
        parser.error("--whole and --paused must not be negative, nor both 0")
    items = questions(args.whole, args.paused, args.voice)
    changes = parse_changes(parser, args.set)
    result = asyncio.run(main_async(items, args.voice, args.baseline, changes))
    result["mic_open_s"] = mic_open(args.mic_runs)
    result["targets"] = targets(result)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
