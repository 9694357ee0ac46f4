"""The echo bench's room, shared by the open-speaker tests: replies spoken by espeak-ng,
the engine with default settings and local speech to text, and the echo canceller's
figures measured on the app's own microphone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import numpy as np
import pytest
import soxr

import tests.fakegroq.audio as fake_audio
from tests.e2e.bench import RATE, DuplexBench, listening, speech, wait_for
from voiceloop.audio.echo import EchoCancellingSource, EchoPath, PlaybackReference
from voiceloop.config import load_settings
from voiceloop.engine import Engine
from voiceloop.events import (
    Event,
    Level,
    ReplyDone,
    SpeakingChunk,
    TranscriptReady,
    TurnFinished,
)
from voiceloop.frames import AudioFrame
from voiceloop.session.engine import engine_from_settings

ECHO_DB = -8.0
T = TypeVar("T")


@pytest.fixture
def spoken_replies(monkeypatch, tmp_path):
    """The loopback server speaks its replies with espeak-ng: an echo the voice detector
    takes for speech, as a real voice's would be (its usual sweep is not speech)."""
    original = fake_audio.speech_wav_parts

    def parts(text: str, rate: int, **kwargs: object) -> list[bytes]:
        header = b"".join(original(text, rate)[:2])
        voice = soxr.resample(speech(text, tmp_path), RATE, rate)
        pcm = (np.clip(voice, -1, 1) * 32767).astype("<i2").tobytes()
        return [header] + [pcm[i : i + 4097] for i in range(0, len(pcm), 4097)]

    monkeypatch.setattr(fake_audio, "speech_wav_parts", parts)


def engine_for(
    events: list[Event], max_turns: int | None = 2, *, local_stt: bool = True, **audio: Any
) -> Engine:
    """Default [audio] settings (but cues), local speech to text (or the loopback
    server's), the loopback server's chat and speech."""
    stt: dict[str, Any] = {"provider": "local"} if local_stt else {}
    settings = load_settings(
        {
            "audio": {"cues": False, **audio},
            "stt": {**stt, "fallback": False},
            "tts": {"fallback": False},
        }
    )
    return engine_from_settings(
        settings, mode="converse", on_event=events.append, input="mic.monitor", output="spk",
        recorder=None, max_turns=max_turns,
    )  # fmt: skip


QUESTION = "Tell me about rivers."


async def ask(
    engine: Engine, events: list[Event], bench: DuplexBench, tmp: Any
) -> asyncio.Task[None]:
    """Run ``engine``; once it listens, the bench says :data:`QUESTION` into the mic."""
    run = asyncio.create_task(engine.run())
    await wait_for(events, listening, 30)
    await asyncio.sleep(0.3)
    bench.play(speech(QUESTION, tmp))
    return run


HEARD_DB = -50.0
"""The app's microphone level that says the bench's voice reached it (espeak-ng's
question peaks at -20 to -10 dB there; the bench's silence is -100 dB)."""


async def replying(
    events: list[Event], timeout: float = 30, listener: Listener | None = None
) -> None:
    """Wait for the reply to :data:`QUESTION` to start playing. When it never does, and
    the app's microphone never heard a sound, the bench's voice never reached the app (the
    sound server dropped its stream); or the ``listener`` could not find the question in
    what the app sent, said before any reply (nothing to cancel yet): the capture's
    glitches on a loaded machine broke its alignment, which Whisper would shrug off.
    Either is a bench fault, not the app's."""
    try:
        await wait_for(events, lambda e: isinstance(e, SpeakingChunk), timeout)
    except AssertionError:
        loudest = max((e.level_db for e in events if isinstance(e, Level)), default=-120.0)
        if loudest < HEARD_DB:
            raise BenchFault(
                f"the app's microphone never heard the question (loudest {loudest:.0f} dB)"
            ) from None
        if listener is not None and listener.said and QUESTION not in listener.said[0]:
            score = dict(listener.heard[0]).get(QUESTION, 0.0)
            raise BenchFault(
                f"the listener did not find the question in what the app sent ({score:.2f})"
            ) from None
        raise


async def after_the_reply(engine: Engine, events: list[Event], run: asyncio.Task[None]) -> None:
    """Wait for the reply's end and a while after it (a phantom turn would start from the
    reply's tail), then stop the engine."""
    await replying(events)
    await wait_for(events, lambda e: isinstance(e, ReplyDone), 60)
    await asyncio.sleep(2.5)
    engine.stop()
    await asyncio.wait_for(run, 10)


def echo_figures(engine: Engine) -> tuple[float, float]:
    """(echo delay s, suppression dB) measured on the app's own mic and reference."""
    source = engine._source
    assert isinstance(source, EchoCancellingSource)
    assert source.record, "no frames went through the echo canceller"
    near = np.concatenate([r[1] for r in source.record]).astype(np.float64)
    out = np.concatenate([r[3] for r in source.record]).astype(np.float64)
    far = np.concatenate([r[2] for r in source.record]).astype(np.float64)
    loud = np.repeat(np.abs(far.reshape(-1, 512)).max(axis=1) > 300, 512)
    loud[: int(np.argmax(loud)) + 3 * 16_000] = False  # the first 3 s: AEC3 converging
    suppression = 10 * np.log10(np.mean(near[loud] ** 2) / max(np.mean(out[loud] ** 2), 1e-9))
    delay = source.path.delay_s
    if delay is None:
        raise BenchFault("the bench's echo never reached the microphone")
    return delay, float(suppression)


def pauses_timed(sink: Any, bench: DuplexBench) -> list[float]:
    """Keep the bench's clock at each pause of ``sink`` (printed against the voice's start:
    a pause before it is a stutter)."""
    times: list[float] = []
    original = sink.pause

    def pause() -> None:
        times.append(bench.now())
        original()

    sink.pause = pause
    return times


def reply_start(bench: DuplexBench) -> float | None:
    """When the app's speaker first made a sound, on the bench's clock."""
    audio, times = bench.emitted_audio()
    loud = np.flatnonzero(np.abs(audio) > 0.01)
    return float(times[loud[0]]) if len(loud) else None


def statuses(events: list[Event]) -> list[str]:
    return [e.status for e in events if isinstance(e, TurnFinished)]


def transcripts(events: list[Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, TranscriptReady)]


def record_frames(source: Any) -> list[AudioFrame]:
    """Keep every frame ``source`` yields from now on (the microphone as the app hears it,
    when no echo canceller records it)."""
    frames: list[AudioFrame] = []
    original = source.frames

    async def recording() -> AsyncIterator[AudioFrame]:
        async for frame in original():
            frames.append(frame)
            yield frame

    source.frames = recording
    return frames


def echo_delay(frames: list[AudioFrame], bench: DuplexBench) -> float | None:
    """The delay at which the app's microphone (``frames``) heard what its speaker emitted
    (the bench's record of it), measured as the echo canceller measures it."""
    reference, path = PlaybackReference(), EchoPath()
    emitted = list(bench.emitted)
    for frame in frames:
        while emitted and emitted[0][0] < frame.time + 0.1:
            dac, pcm = emitted.pop(0)
            reference.tap(pcm, dac, RATE)
        path.push(frame.pcm, reference.window(frame.time, len(frame.pcm)), frame.time)
    return path.delay_s


class BenchFault(AssertionError):
    """The bench's room is not what the test thinks it is (its echo missing, or late by
    far more than the room's delay): the run says nothing about the app."""


ROOM_MISSED = 0.05
"""The room finds all of the app's sound but a few blocks' edges when the clocks agree."""


def check_room(bench: DuplexBench) -> None:
    """The room's echo must be whole: a room that dropped part of it (its own output late,
    or the app's stamps off its clock) chops the echo as no room does."""
    if bench.room_missed > ROOM_MISSED:
        raise BenchFault(
            f"the room missed {bench.room_missed:.0%} of the app's speaker sound (last "
            f"miss: the app's sound ended {bench.room_skew:+.3f} s from the time wanted)"
        )


def check_echo_delay(delay: float | None) -> None:
    """The room is 45 ms; the sound server's stamps add their own error. Anything else
    means the bench's echo is not what the test thinks it is."""
    if delay is None:
        raise BenchFault("the bench's echo never reached the microphone")
    if not 0.010 <= delay <= 0.450:
        raise BenchFault(f"the bench's echo is {delay * 1000:.0f} ms late")


async def on_a_sound_bench(scenario: Callable[[], Awaitable[T]]) -> T:
    """Run ``scenario`` once more if the bench itself was at fault the first time (now and
    then the sound server's stamps drift by over a second once the app opens its streams:
    the echo then comes that much later). A second fault fails the test, loudly."""
    try:
        return await scenario()
    except BenchFault as fault:
        print(f"BENCH FAULT, running the scenario again: {fault}")
        return await scenario()


class Listener:
    """A transcriber (for the loopback server's ``transcribe``) that knows the clips a
    test plays and hears each one that is really in the audio it gets: the text of every
    clip whose normalised cross-correlation with the audio reaches ``THRESHOLD``, in the
    order they occur. What the echo canceller took away, or a noise, it does not hear;
    it makes no words up (Whisper's tiny.en makes "and momentum" of espeak's "mm-hmm",
    which the backchannel hint's own test covers)."""

    THRESHOLD = 0.45
    """Clips in the audio score 0.6-1.0 (lower under load: the capture's glitches break
    the alignment), other clips 0.1-0.25, and the remains of a clip after the canceller
    at most 0.36."""

    def __init__(self, clips: dict[str, np.ndarray]) -> None:
        self._clips = {text: soxr.resample(clip, RATE, 16_000) for text, clip in clips.items()}
        self.heard: list[list[tuple[str, float]]] = []
        """Per request, each clip's best correlation (tests print it)."""
        self.said: list[str] = []
        """Per request, what it answered."""

    def __call__(self, pcm: np.ndarray, rate: int) -> str:
        audio = np.asarray(pcm, np.float64)
        if rate != 16_000:
            audio = soxr.resample(audio, rate, 16_000)
        found, scores = [], []
        for text, clip in self._clips.items():
            r, at = _best_match(audio, np.asarray(clip, np.float64))
            scores.append((text, round(r, 2)))
            if r >= self.THRESHOLD:
                found.append((at, text))
        self.heard.append(scores)
        self.said.append(" ".join(text for _, text in sorted(found)))
        return self.said[-1]


def _best_match(audio: np.ndarray, clip: np.ndarray) -> tuple[float, int]:
    """(best normalised correlation of ``clip`` within ``audio``, where)."""
    n = len(clip)
    if len(audio) < n // 2:
        return 0.0, 0
    audio = np.concatenate([np.zeros(n), audio, np.zeros(n)])
    size = 1 << int(np.ceil(np.log2(len(audio) + n)))
    xc = np.fft.irfft(np.fft.rfft(audio, size) * np.conj(np.fft.rfft(clip, size)), size)
    xc = xc[: len(audio) - n + 1]
    cum = np.concatenate([[0.0], np.cumsum(audio**2)])
    windows = cum[n:] - cum[:-n]
    r = xc / np.sqrt(np.maximum(windows, 1e-9) * float(np.dot(clip, clip)))
    r[windows < 1e-6 * n] = 0.0  # silence
    best = int(np.argmax(r))
    return float(r[best]), best - n
