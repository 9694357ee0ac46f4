"""A duplex test harness on the virtual sound card, and the measurements made on it.

One PortAudio duplex stream plays "user speech" into the ``mic`` sink and records the
``spk`` sink's monitor, so the last sample of the question and the first sample of the
reply are stamped by one clock (the stream's). ``to_monotonic`` maps that clock to
``time.monotonic()`` for comparisons with the loopback server's own stamps.
"""

from __future__ import annotations

import asyncio
import collections
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile
import soxr

from tests.audio.conftest import routed
from voiceloop.audio.dac_clock import DacClock
from voiceloop.audio.devices import import_sounddevice
from voiceloop.config import Settings, load_settings
from voiceloop.events import Event, StateChanged

RATE = 48_000
BLOCK = 256
"""5 ms: the room's echo of a block of the app's sound must be out 45 ms after the app's
stamps say it leaves the speaker, and the app stamps its blocks only 20-35 ms ahead. With
1024-sample blocks this stream's own output latency (65-85 ms) left over half of the echo
out; at 256 it is 15-20 ms."""
WINDOW = 480  # 10 ms
LOUD_DB = -40.0


@dataclass
class Played:
    """Where one buffer went out on the harness clock."""

    start: float | None = None
    end: float | None = None


class DuplexBench:
    """Plays buffers into ``mic`` and records ``spk.monitor`` in one duplex stream."""

    def __init__(self, *, echo_db: float | None = None) -> None:
        self.echo_gain = 0.0 if echo_db is None else 10 ** (echo_db / 20)
        """The room: what the app plays comes back into its mic this much quieter, late by
        the monitor's lag plus this stream's own input-to-output latency (or, with
        :meth:`room`, by the room's own delay)."""
        self._room: collections.deque[tuple[float, np.ndarray]] | None = None
        self.room_delay = 0.0
        self.emitted: list[tuple[float, np.ndarray]] = []
        """With :meth:`room`: every block the app's speaker wrote, at 48 kHz, with the DAC
        time of its first sample (the speaker's own stamps, on PortAudio's one clock)."""
        self._queue: list[tuple[np.ndarray, Played]] = []
        self._pos = 0
        self.blocks: list[np.ndarray] = []
        self.block_times: list[float] = []  # ADC time of each recorded block's first sample
        self.overflows = 0
        """Recorded blocks PortAudio reported as overflowed, and stream restarts (samples
        may be missing)."""
        self.reopened = 0
        self.room_wanted = 0
        self.room_found = 0
        """Samples of the app's speaker sound the room looked for (while the speaker ran),
        and found at the time it looked for them: short when this stream's own output
        latency is more than the app's lead plus the room's delay, or the two streams'
        stamps disagree; the echo is then chopped."""
        self.room_skew: float | None = None
        """At the last miss: where the app's latest sound ends, less the time looked for."""
        self._clock = DacClock()  # as the app's speaker: the room follows its sample count
        self.stream = self._open()
        self._watch: asyncio.Task[None] | None = None

    def _open(self) -> Any:
        sd = import_sounddevice()
        with routed(source="spk.monitor", sink="mic"):
            stream = sd.Stream(
                samplerate=RATE,
                blocksize=BLOCK,
                channels=1,
                dtype="float32",
                latency="low",
                callback=self._callback,
            )
        stream.start()
        return stream

    def _ensure_running(self) -> None:
        """On a loaded machine ALSA's poll on the sound server can fail, which ends a
        PortAudio stream for good; the harness's mouth and ears then open again."""
        if not self.stream.active:
            self.stream.close(ignore_errors=True)
            self._clock.reset()
            self.stream = self._open()
            self.reopened += 1
            self.overflows += 1

    async def _keep_running(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            self._ensure_running()

    # -- the PortAudio thread --------------------------------------------------------

    def _callback(self, indata, outdata, frames, t, status) -> None:
        if status.input_overflow:
            self.overflows += 1
        self.blocks.append(indata[:, 0].copy())
        self.block_times.append(float(t.inputBufferAdcTime or t.currentTime))
        dac = self._clock.block(float(t.outputBufferDacTime or t.currentTime), frames, RATE)
        outdata.fill(0.0)
        if self.echo_gain and self._room is not None:
            outdata[:, 0] = self.echo_gain * self._heard(dac - self.room_delay, frames)
        elif self.echo_gain:
            outdata[:, 0] = self.echo_gain * indata[:, 0]
        pos = 0
        while pos < frames and self._queue:
            samples, played = self._queue[0]
            n = min(frames - pos, len(samples) - self._pos)
            outdata[pos : pos + n, 0] += samples[self._pos : self._pos + n]
            if self._pos == 0:
                played.start = dac + pos / RATE
            self._pos += n
            pos += n
            if self._pos >= len(samples):
                played.end = dac + pos / RATE
                self._queue.pop(0)
                self._pos = 0

    def _heard(self, at: float, frames: int) -> np.ndarray:
        """What the app's speaker emitted from ``at`` on (its own DAC stamps)."""
        out = np.zeros(frames, np.float32)
        room = self._room
        assert room is not None
        latest = room[-1] if room else None
        while room and room[0][0] + len(room[0][1]) / RATE < at - 2.0:
            room.popleft()
        found = 0
        for start, block in list(room):
            offset = round((start - at) * RATE)
            lo, hi = max(0, offset), min(frames, offset + len(block))
            if hi > lo:
                out[lo:hi] = block[lo - offset : hi - offset]
                found += hi - lo
        if latest is not None:
            self.room_wanted += frames
            self.room_found += min(found, frames)
            if found < frames:
                self.room_skew = latest[0] + len(latest[1]) / RATE - at
        return out

    # -- the test's side ------------------------------------------------------------

    @property
    def room_missed(self) -> float:
        """Share of the app's speaker sound the room looked for and did not find."""
        return 1 - self.room_found / self.room_wanted if self.room_wanted else 0.0

    def room(self, sink: Any, delay_s: float = 0.045) -> None:
        """Feed what ``sink`` (the app's speaker) plays back into the mic ``delay_s`` after
        its DAC stamps say it left the speaker, on PortAudio's one clock: a room's echo,
        without the sound server's monitor lag (hundreds of ms, growing under load)."""
        self._room = collections.deque()
        self.room_delay = delay_s
        original = sink.reference_tap
        room = self._room

        next_at = [0.0]

        def tap(block: np.ndarray, dac: float, rate: int) -> None:
            mono = block[:, 0] if block.ndim == 2 else block
            pcm = np.array(mono, np.float32)
            if rate != RATE:
                pcm = soxr.resample(pcm, rate, RATE).astype(np.float32)
            # A speaker's samples follow one another: stamps that jitter by a few ms
            # (the sound server's estimates) do not move the sound.
            if abs(dac - next_at[0]) < 0.005:
                dac = next_at[0]
            next_at[0] = dac + len(mono) / rate
            room.append((dac, pcm))
            self.emitted.append((dac, pcm))
            if original is not None:
                original(block, dac, rate)

        sink.reference_tap = tap

    def emitted_audio(self) -> tuple[np.ndarray, np.ndarray]:
        """What the app's speaker emitted (48 kHz) and each sample's DAC time."""
        blocks = list(self.emitted)
        if not blocks:
            return np.zeros(0, np.float32), np.zeros(0)
        audio = np.concatenate([b for _, b in blocks])
        times = np.concatenate([t + np.arange(len(b)) / RATE for t, b in blocks])
        return audio, times

    def play(self, samples: np.ndarray) -> Played:
        """Queue ``samples`` (48 kHz mono float32) into ``mic``; stamps fill in as it plays."""
        self._ensure_running()
        played = Played()
        self._queue.append((samples.astype(np.float32), played))
        return played

    async def played(self, played: Played, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while played.end is None:
            assert time.monotonic() < deadline, "the harness never played its buffer"
            await asyncio.sleep(0.01)

    def now(self) -> float:
        return float(self.stream.time)

    def clock_offset(self) -> float:
        """``time.monotonic()`` minus the harness clock (add it to map a stamp)."""
        offsets = []
        for _ in range(5):
            a = time.monotonic()
            s = self.stream.time
            b = time.monotonic()
            offsets.append((a + b) / 2 - s)
        return statistics.median(offsets)

    def recording(self) -> tuple[np.ndarray, np.ndarray]:
        """All samples recorded so far and each one's time on the harness clock."""
        blocks, starts = list(self.blocks), list(self.block_times)
        audio = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
        times = np.concatenate(
            [s + np.arange(len(b)) / RATE for b, s in zip(blocks, starts, strict=True)]
        ) if blocks else np.zeros(0)  # fmt: skip
        return audio, times

    def close(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        self.stream.stop()
        self.stream.close()


async def open_bench(*, echo_db: float | None = None, room: Any = None) -> DuplexBench:
    """The bench, running; with ``room`` (the app's speaker), its echo comes by :meth:`room`."""
    bench = DuplexBench(echo_db=echo_db)
    if room is not None:
        bench.room(room)
    bench._watch = asyncio.create_task(bench._keep_running(), name="bench-watch")
    # An idle null sink stalls on its first write: run both directions for a moment first,
    # until a buffer has gone all the way out.
    for _ in range(3):
        warm = bench.play(np.zeros(RATE // 10, np.float32))
        await asyncio.sleep(0.5)
        deadline = time.monotonic() + 3.0
        while warm.end is None and bench.stream.active and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if warm.end is not None and bench.stream.active:
            return bench
    raise AssertionError("the test bench's audio stream does not run")


def speech(text: str, tmp: Path, *, voice: str | None = None) -> np.ndarray:
    """espeak-ng saying ``text``, trimmed to the speech itself, at 48 kHz."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng not installed (system package espeak-ng)")
    path = tmp / f"say{abs(hash(text))}.wav"
    cmd = ["espeak-ng", "-w", str(path)] + (["-v", voice] if voice else []) + [text]
    subprocess.run(cmd, check=True, capture_output=True)
    pcm, rate = soundfile.read(path, dtype="float32")
    loud = np.flatnonzero(np.abs(pcm) > 0.003)
    pcm = pcm[loud[0] : loud[-1] + 1]
    return soxr.resample(pcm, rate, RATE).astype(np.float32)


def loud_windows(audio: np.ndarray) -> np.ndarray:
    """Per 10 ms window: louder than -40 dBFS."""
    n = len(audio) // WINDOW
    frames = audio[: n * WINDOW].reshape(n, WINDOW).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1)) + 1e-12
    return 20 * np.log10(rms) > LOUD_DB


def sound_span(audio: np.ndarray) -> tuple[int, int] | None:
    """Sample indices of the first and last loud 10 ms window, or None for silence."""
    loud = np.flatnonzero(loud_windows(audio))
    if len(loud) == 0:
        return None
    return int(loud[0]) * WINDOW, (int(loud[-1]) + 1) * WINDOW


def quiet_runs(audio: np.ndarray, threshold: float = 0.01) -> list[tuple[int, int]]:
    """(start, length) in samples of each run of near-silent samples (the loopback voice,
    a sweep, is near zero only for a sample or two at its zero crossings)."""
    quiet = np.abs(audio) < threshold
    edges = np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b - a)) for a, b in zip(starts, ends, strict=True)]


def gaps_ms(audio: np.ndarray, longer_than_ms: float = 10.0) -> list[tuple[float, float]]:
    """(where, length) in ms of the silences longer than ``longer_than_ms``."""
    limit = longer_than_ms / 1000 * RATE
    return [(a / RATE * 1000, n / RATE * 1000) for a, n in quiet_runs(audio) if n > limit]


def settings(*, barge_in: bool = False, **audio: Any) -> Settings:
    """Settings from the environment (the loopback server), without cues or local fallback."""
    return load_settings(
        {
            "audio": {"cues": False, "barge_in": barge_in, **audio},
            "stt": {"fallback": False},
            "tts": {"fallback": False},
        }
    )


async def wait_for(
    events: list[Event], predicate: Callable[[Event], bool], timeout: float
) -> Event:
    """The first event matching ``predicate``, waiting up to ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        for event in events:
            if predicate(event):
                return event
        assert loop.time() < deadline, f"timed out; events: {[type(e).__name__ for e in events]}"
        await asyncio.sleep(0.01)


def listening(event: Event) -> bool:
    return isinstance(event, StateChanged) and event.state == "listening"
