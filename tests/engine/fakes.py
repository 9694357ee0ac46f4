"""Fakes for engine tests: stages with controllable latency and failures, an in-memory
frame source with a simple endpointer, and a sink that simulates playback on the loop
clock and records when each chunk was played."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voiceloop.audio.base import PlaybackHandle, SpeechPaused, SpeechStart, UtteranceReady
from voiceloop.config import SECTIONS, Settings
from voiceloop.frames import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    AudioChunk,
    AudioFrame,
    Message,
    Transcript,
    Utterance,
)

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


def make_settings(**sections: dict[str, Any]) -> Settings:
    """Real settings (no file, no environment) with fake providers; override per section."""
    defaults: dict[str, dict[str, Any]] = {
        "stt": dict(provider="fake", base_url=None, api_key=None, model="m", fallback=False),
        "translate": dict(provider="fake", model="m", show_original=False, speak=False),
        "llm": dict(
            provider="fake", model="m", system_prompt="Be brief.", context_budget_chars=12000
        ),
        "tts": dict(
            provider="fake",
            model="m",
            voice="v",
            sample_rate=48000,
            max_chars=200,
            prefetch=2,
            fallback=False,
        ),
        "audio": dict(input=None, output=None, cues=False, barge_in=False),
        "vad": dict(engine="energy", threshold=0.5, min_speech_ms=200, hangover_ms=600),
        "dictate": dict(output_file=None, clipboard=False, cleanup=False),
    }
    for name, overrides in sections.items():
        defaults.setdefault(name, {}).update(overrides)
    return Settings.model_construct(
        **{name: model(**defaults.get(name, {})) for name, model in SECTIONS.items()}
    )


# -- text ---------------------------------------------------------------------------


class SimpleSplitter:
    """Splits on . ! ? followed by a space; enough for engine tests."""

    def __init__(self, *, language: str | None = None) -> None:
        self.language = language
        self._buf = ""

    def push(self, delta: str) -> list[str]:
        self._buf += delta
        out = []
        while (match := re.search(r"[.!?]\s", self._buf)) is not None:
            out.append(self._buf[: match.end()].strip())
            self._buf = self._buf[match.end() :]
        return out

    def flush(self) -> list[str]:
        rest, self._buf = self._buf.strip(), ""
        return [rest] if rest else []


def fake_flac(pcm: np.ndarray, sample_rate: int) -> bytes:
    return b"fLaC" + sample_rate.to_bytes(4, "little") + pcm.astype("<i2").tobytes()


# -- stages -------------------------------------------------------------------------


@dataclass
class Call:
    start: float
    end: float | None = None
    args: Any = None


class FakeTranscriber:
    """Returns ``texts`` in turn (the last one repeats); ``fail[i]`` raises on call i."""

    def __init__(
        self,
        texts: Sequence[str] = ("hello there",),
        *,
        latency: float | Sequence[float] = 0.0,
        fail: dict[int, BaseException] | None = None,
        translate_prefix: str = "EN: ",
        language: str = "fr",
    ) -> None:
        self.texts = list(texts)
        self.latency = latency
        self.fail = fail or {}
        self.translate_prefix = translate_prefix
        self.language = language
        self.calls: list[Call] = []

    async def transcribe(self, utterance: Utterance, *, task: str = "transcribe") -> Transcript:
        loop = asyncio.get_running_loop()
        call = Call(loop.time(), args=(utterance, task))
        self.calls.append(call)
        index = len(self.calls) - 1
        latency = self.latency if isinstance(self.latency, float | int) else self.latency[index]
        await asyncio.sleep(latency)
        call.end = loop.time()
        if index in self.fail:
            raise self.fail[index]
        text = self.texts[min(index, len(self.texts) - 1)]
        if task == "translate":
            return Transcript(
                self.translate_prefix + text, language="en", provider="fake", model="m"
            )
        return Transcript(text, language=self.language, provider="fake", model="m")


class FakeResponder:
    """Streams ``reply`` in deltas of ``chunk`` characters, ``delay`` apart."""

    def __init__(
        self,
        reply: str | Callable[[Sequence[Message]], str] = "Hi. How are you? Fine.",
        *,
        first_token: float = 0.0,
        delay: float = 0.0,
        chunk: int = 4,
        fail_at: int | None = None,
        error: BaseException | None = None,
        fail_requests: frozenset[int] = frozenset({0}),
    ) -> None:
        self.reply = reply
        self.fail_requests = fail_requests
        self.first_token = first_token
        self.delay = delay
        self.chunk = chunk
        self.fail_at = fail_at
        self.error = error
        self.requests: list[list[Message]] = []
        self.closed = 0
        self.finished_at: float | None = None

    async def respond(self, messages: Sequence[Message]) -> AsyncIterator[str]:
        self.requests.append(list(messages))
        failing = self.fail_at is not None and len(self.requests) - 1 in self.fail_requests
        text = self.reply(messages) if callable(self.reply) else self.reply
        try:
            await asyncio.sleep(self.first_token)
            for i in range(0, len(text), self.chunk):
                if failing and i >= self.fail_at:
                    raise self.error or RuntimeError("boom")
                if i:
                    await asyncio.sleep(self.delay)
                yield text[i : i + self.chunk]
            self.finished_at = asyncio.get_running_loop().time()
        finally:
            self.closed += 1


class FakeSynthesizer:
    """Audio of ``seconds_per_char`` per character, after ``latency(text)`` seconds."""

    def __init__(
        self,
        *,
        latency: float | Callable[[str], float] = 0.0,
        seconds_per_char: float = 0.01,
        sample_rate: int = 1000,
        parts: int = 1,
        fail_on: str | None = None,
        error: BaseException | None = None,
        fail_times: int = 1,
    ) -> None:
        self.fail_times = fail_times
        self.latency = latency
        self.seconds_per_char = seconds_per_char
        self.sample_rate = sample_rate
        self.parts = parts
        self.fail_on = fail_on
        self.error = error
        self.started: list[tuple[str, float]] = []
        self.finished: list[tuple[str, float]] = []
        self.cancelled: list[str] = []
        self.active = 0
        self.max_active = 0

    async def synthesize(self, text: str) -> AsyncIterator[AudioChunk]:
        loop = asyncio.get_running_loop()
        self.started.append((text, loop.time()))
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            delay = self.latency(text) if callable(self.latency) else self.latency
            await asyncio.sleep(delay)
            if self.fail_on is not None and self.fail_on in text and self.fail_times > 0:
                self.fail_times -= 1
                raise self.error or RuntimeError("tts boom")
            samples = max(1, int(len(text) * self.seconds_per_char * self.sample_rate))
            per = max(1, samples // self.parts)
            for i in range(self.parts):
                n = per if i < self.parts - 1 else samples - per * (self.parts - 1)
                yield AudioChunk(np.zeros(n, np.float32), self.sample_rate, text if i == 0 else "")
            self.finished.append((text, loop.time()))
        except asyncio.CancelledError:
            self.cancelled.append(text)
            raise
        finally:
            self.active -= 1


# -- audio --------------------------------------------------------------------------


@dataclass
class Played:
    text: str
    queued: float
    start: float
    end: float
    complete: bool = True


class FakeSink:
    """Plays chunks back to back on the loop clock (``speed`` × real time)."""

    def __init__(self, *, speed: float = 1.0) -> None:
        self.speed = speed
        self.played: list[Played] = []
        self.queued: list[tuple[str, float]] = []
        self.flushes: list[float] = []
        self.started = False
        self.closed = False
        self._tail = 0.0
        self._pending: list[tuple[PlaybackHandle, asyncio.TimerHandle, asyncio.TimerHandle]] = []

    @property
    def underruns(self) -> int:
        return 0

    async def start(self) -> None:
        self.started = True

    def time(self) -> float:
        return asyncio.get_running_loop().time()

    def play(self, chunk: AudioChunk) -> PlaybackHandle:
        loop = asyncio.get_running_loop()
        now = loop.time()
        handle = PlaybackHandle(chunk)
        start = max(now, self._tail)
        end = start + chunk.duration / self.speed
        self._tail = end
        record = Played(chunk.text, now, start, end)
        self.queued.append((chunk.text, now))

        def on_start() -> None:
            self.played.append(record)
            handle.started.set_result(start)

        def on_end() -> None:
            handle.finished.set_result(end)

        self._pending.append((handle, loop.call_at(start, on_start), loop.call_at(end, on_end)))
        return handle

    def flush(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.flushes.append(now)
        for handle, start_timer, end_timer in self._pending:
            start_timer.cancel()
            end_timer.cancel()
            for fut in (handle.started, handle.finished):
                if not fut.done():
                    fut.cancel()
        for record in self.played:
            if record.end > now:
                record.end = now
                record.complete = False
        self._pending.clear()
        self._tail = now

    async def drain(self) -> None:
        futures = [h.finished for h, _, _ in self._pending if not h.finished.done()]
        if futures:
            await asyncio.wait(futures)

    async def aclose(self) -> None:
        self.closed = True


@dataclass
class Say:
    """A script item: ``frames`` frames of speech."""

    frames: int = 8


@dataclass
class Silence:
    frames: int = 8


@dataclass
class Until:
    """Silence frames until ``predicate()`` is true (or ``timeout`` seconds pass)."""

    predicate: Callable[[], bool]
    timeout: float = 10.0


class MemorySource:
    """Frames from a script of speech and silence, ``frame_delay`` seconds apart."""

    def __init__(self, script: Sequence[Any], *, frame_delay: float = 0.002, realtime: bool = True):
        self.script = list(script)
        self.frame_delay = frame_delay
        self.realtime = realtime
        self.dropped = 0
        self.closed = False

    async def frames(self) -> AsyncIterator[AudioFrame]:
        index = 0

        def frame(speech: bool) -> AudioFrame:
            nonlocal index
            level = -10.0 if speech else -80.0
            pcm = np.full(FRAME_SAMPLES, 3000 if speech else 0, np.int16)
            out = AudioFrame(pcm, index * FRAME_S, level)
            index += 1
            return out

        loop = asyncio.get_running_loop()
        for item in self.script:
            if isinstance(item, Until):
                deadline = loop.time() + item.timeout
                while not item.predicate():
                    if loop.time() > deadline:
                        raise AssertionError("Until: condition not met in time")
                    await asyncio.sleep(self.frame_delay)
                    yield frame(False)
                continue
            speech = isinstance(item, Say)
            for _ in range(item.frames):
                await asyncio.sleep(self.frame_delay)
                yield frame(speech)

    async def aclose(self) -> None:
        self.closed = True


class FakeEndpointer:
    """Speech = loud frames; start after ``min_speech`` of them, end after ``hangover`` quiet
    (and a pause after ``early`` quiet ones, when set)."""

    def __init__(self, *, min_speech: int = 2, hangover: int = 3, early: int = 0) -> None:
        self.min_speech = min_speech
        self.hangover = hangover
        self.early = early
        self.suppressed = False
        self.suppressed_log: list[bool] = []
        self.push_to_talk = False
        self._frames: list[AudioFrame] = []
        self._loud = 0
        self._quiet = 0
        self._in_speech = False
        self._speech_end = 0.0

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "suppressed" and hasattr(self, "suppressed_log"):
            self.suppressed_log.append(value)
        object.__setattr__(self, name, value)

    def set_push_to_talk(self, enabled: bool) -> None:
        self.push_to_talk = enabled

    def key(self, down: bool) -> list[Any]:
        return []

    def feed(self, frame: AudioFrame) -> list[Any]:
        loud = frame.level_db > -30 and not self.suppressed
        events: list[Any] = []
        if not self._in_speech:
            if loud:
                self._loud += 1
                self._frames.append(frame)
                if self._loud >= self.min_speech:
                    self._in_speech = True
                    self._quiet = 0
                    events.append(SpeechStart(self._frames[0].time))
            else:
                self._loud = 0
                self._frames.clear()
            return events
        self._frames.append(frame)
        if loud:
            self._quiet = 0
            return events
        if self._quiet == 0:
            self._speech_end = frame.time
        self._quiet += 1
        if self._quiet >= self.hangover:
            events.append(UtteranceReady(self._close(frame.time + FRAME_S)))
        elif self._quiet == self.early:
            events.append(SpeechPaused(self._utterance(self._frames, frame.time + FRAME_S)))
        return events

    def flush(self) -> list[Any]:
        if self._in_speech and self._frames:
            last = self._frames[-1].time + FRAME_S
            if self._quiet == 0:
                self._speech_end = last
            return [UtteranceReady(self._close(last), reason="end_of_input")]
        return []

    def _close(self, closed_at: float) -> Utterance:
        frames, self._frames = self._frames, []
        self._in_speech = False
        self._loud = self._quiet = 0
        return self._utterance(frames, closed_at)

    def _utterance(self, frames: list[AudioFrame], closed_at: float) -> Utterance:
        pcm = np.concatenate([f.pcm for f in frames])
        return Utterance(
            pcm=pcm,
            start=frames[0].time,
            end=frames[-1].time + FRAME_S,
            speech_fraction=1.0,
            speech_end=self._speech_end,
            closed_at=closed_at,
        )


class FakeRecorder:
    def __init__(self, *, fail: bool = False, clock: Callable[[], float] | None = None) -> None:
        self.fail = fail
        self.sessions: list[str] = []
        self.turns: dict[int, dict[str, Any]] = {}
        self.begun: list[tuple[int, bytes, float]] = []
        self.clock = clock

    def open_session(self, mode: str) -> int:
        self.sessions.append(mode)
        return len(self.sessions)

    def begin_turn(
        self, session_id: int, mode: str, flac: bytes, *, duration: float
    ) -> tuple[int, str]:
        if self.fail:
            raise OSError("disk full")
        turn_id = 100 + len(self.turns)
        at = asyncio.get_running_loop().time()
        self.begun.append((turn_id, flac, at))
        self.turns[turn_id] = {"mode": mode, "status": "captured", "duration": duration}
        return turn_id, f"/tmp/rec/{turn_id}.flac"

    ALLOWED = frozenset(
        {"transcript", "reply", "reply_heard", "translation", "original", "language"}
        | {"status", "error", "local", "duration", "providers", "models", "timings", "usage"}
    )
    STATUSES = frozenset(
        {"captured", "transcribed", "answered", "interrupted", "failed", "dropped"}
    )

    def update_turn(self, turn_id: int, **fields: Any) -> None:
        # The same contract as voiceloop.store.Store.update_turn.
        unknown = set(fields) - self.ALLOWED
        if unknown:
            raise TypeError(f"update_turn() got unknown fields: {sorted(unknown)}")
        if "status" in fields and fields["status"] not in self.STATUSES:
            raise ValueError(fields["status"])
        row = self.turns[turn_id]
        for name in ("timings", "usage", "providers", "models"):
            if name in fields:
                fields[name] = {**row.get(name, {}), **(fields[name] or {})}
        row.update(fields)


@dataclass
class EventLog:
    events: list[Any] = field(default_factory=list)

    def __call__(self, event: Any) -> None:
        self.events.append(event)

    def of(self, cls: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls)]

    def count(self, cls: type) -> int:
        return len(self.of(cls))
