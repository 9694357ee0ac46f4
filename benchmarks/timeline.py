"""Where the time to first audio goes: each stage's requests and the sink's plays,
stamped with the event loop's clock (``latency.py --timeline``).

The stages and the sink are wrapped, not changed: each wrapper notes when a request was
sent and when its first answer came back, and passes everything else through. A turn's
chain is rebuilt backwards from its first sample played: the speech request for that
text, the last chat request sent before it, the last transcription back before that.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

STEPS = (
    "stt_sent",
    "stt_back",
    "eot",
    "chat_sent",
    "first_token",
    "tts_sent",
    "tts_first_byte",
    "written",
    "played",
)


@dataclass
class Call:
    kind: str  # "stt", "chat", "tts"
    sent: float
    back: float | None = None  # transcript, first non-empty delta, first audio chunk
    text: str = ""
    audio_s: float = 0.0  # speech: seconds of audio received


def _now() -> float:
    return asyncio.get_running_loop().time()


class Trace:
    """What the wrapped stages and sink did, in order."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.plays: list[float] = []  # when each chunk was handed to the sink

    def wrap(self, stages: Any) -> None:
        if stages.transcriber is not None:
            stages.transcriber = _Transcriber(stages.transcriber, self)
        if stages.responder is not None:
            stages.responder = _Responder(stages.responder, self)
        if stages.synthesizer is not None:
            stages.synthesizer = _Synthesizer(stages.synthesizer, self)

    def sink(self, sink: Any) -> Any:
        return _Sink(sink, self)

    def chain(self, played: float, first_text: str, eot: float) -> dict[str, float]:
        """The stamps that led to the first sample played at ``played``."""
        out: dict[str, float] = {"eot": eot, "played": played}
        tts = _last(
            c for c in self.calls if c.kind == "tts" and c.text == first_text and c.sent <= played
        )
        if tts is None:
            return out
        out["tts_sent"] = tts.sent
        if tts.back is not None:
            out["tts_first_byte"] = tts.back
        after = [c for c in self.calls if c.kind == "tts" and c.sent >= tts.sent and c is not tts]
        if after and after[0].back is not None:
            # at the speaker's real pace: the second chunk's audio after the first ran out
            out["gap_after_first"] = max(0.0, after[0].back - (played + tts.audio_s))
        written = _last(w for w in self.plays if tts.sent <= w <= played + 1e-6)
        if written is not None:
            out["written"] = written
        chat = _last(c for c in self.calls if c.kind == "chat" and c.sent <= tts.sent)
        if chat is None:
            return out
        out["chat_sent"] = chat.sent
        if chat.back is not None:
            out["first_token"] = chat.back
        stt = _last(
            c
            for c in self.calls
            if c.kind == "stt" and c.back is not None and c.back <= chat.sent + 1e-6
        )
        if stt is not None and stt.back is not None:
            out["stt_sent"], out["stt_back"] = stt.sent, stt.back
        return out


def _last(items: Any) -> Any:
    found = None
    for item in items:
        found = item
    return found


class _Wrapper:
    def __init__(self, inner: Any, trace: Trace) -> None:
        self._inner = inner
        self._trace = trace

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class _Transcriber(_Wrapper):
    async def transcribe(self, utterance: Any, *, task: Any) -> Any:
        call = Call("stt", _now())
        self._trace.calls.append(call)
        result = await self._inner.transcribe(utterance, task=task)
        call.back = _now()
        return result


class _Responder(_Wrapper):
    def respond(self, messages: Sequence[Any]) -> AsyncIterator[str]:
        call = Call("chat", _now())
        self._trace.calls.append(call)
        return _Stamped(self._inner.respond(messages), call)


class _Synthesizer(_Wrapper):
    def synthesize(self, text: str) -> AsyncIterator[Any]:
        call = Call("tts", _now(), text=text)
        self._trace.calls.append(call)
        return _Stamped(self._inner.synthesize(text), call)


class _Stamped:
    """An async iterator that stamps its call at the first non-empty item."""

    def __init__(self, inner: AsyncIterator[Any], call: Call) -> None:
        self._inner = inner
        self._call = call

    def __aiter__(self) -> _Stamped:
        return self

    async def __anext__(self) -> Any:
        item = await self._inner.__anext__()
        if self._call.back is None and (not isinstance(item, str) or item):
            self._call.back = _now()
        self._call.audio_s += getattr(item, "duration", 0.0)
        return item

    async def aclose(self) -> None:
        aclose = getattr(self._inner, "aclose", None)
        if aclose is not None:
            await aclose()


class _Sink(_Wrapper):
    def play(self, chunk: Any) -> Any:
        handle = self._inner.play(chunk)
        self._trace.plays.append(_now())
        return handle


def timeline(trace: Trace, turns: list[dict[str, Any]]) -> dict[str, Any]:
    """Per answered turn, each step in ms after the end of speech; and their p50."""
    import statistics

    rows = []
    for turn in turns:
        stamps = trace.chain(turn["played"], turn["first_text"], turn["eot"])
        gap = stamps.pop("gap_after_first", None)
        row = {k: round((v - turn["speech_end"]) * 1000, 1) for k, v in stamps.items()}
        if gap is not None:
            row["gap_after_first"] = round(gap * 1000, 1)
        rows.append(row)
    p50 = {}
    for step in STEPS:
        values = [r[step] for r in rows if step in r]
        p50[step] = round(statistics.median(values), 1) if values else None
    gaps = sorted(r["gap_after_first"] for r in rows if "gap_after_first" in r)
    return {
        "p50_ms": p50,
        "gap_after_first_chunk_ms": {
            "max": gaps[-1] if gaps else None,
            "with_a_gap": sum(1 for g in gaps if g > 0),
            "n": len(gaps),
        },
        "turns": rows,
    }
