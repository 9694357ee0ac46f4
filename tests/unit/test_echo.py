"""The echo canceller: reference alignment by the speaker's clock, echo removed, the
user's voice kept (simulated room: the mic hears the speaker 40 ms late at -8 dB)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
import soxr

from voiceloop.audio.echo import (
    REBUFFER_LAG,
    EchoCancellingSource,
    PlaybackReference,
    cancel_echo,
    make_processor,
)
from voiceloop.frames import FRAME_SAMPLES, SAMPLE_RATE, AudioFrame

OUT_RATE = 48_000
BLOCK = 512


def speechlike(seconds: float, seed: int, pitch: float) -> np.ndarray:
    """Voiced syllables: harmonics of ``pitch`` under a 4 Hz on/off envelope (float, 16 kHz)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = pitch * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voice = sum(np.sin(k * phase + rng.uniform(0, 6)) / k for k in range(1, 12))
    envelope = (np.sin(2 * np.pi * 4 * t + rng.uniform(0, 6)) > -0.3).astype(float)
    return 0.25 * voice * np.convolve(envelope, np.ones(160) / 160, "same")


def blocks(far16: np.ndarray, t0: float) -> list[tuple[np.ndarray, float]]:
    """``far16`` as a 48 kHz speaker plays it: blocks with their DAC times."""
    far48 = np.repeat(far16, 3).astype(np.float32)
    return [
        (far48[i : i + BLOCK, None], t0 + i / OUT_RATE)
        for i in range(0, len(far48) - BLOCK + 1, BLOCK)
    ]


def play(reference: PlaybackReference, far16: np.ndarray, t0: float) -> None:
    for block, at in blocks(far16, t0):
        reference.tap(block, at, OUT_RATE)


def room(far16: np.ndarray, *, delay_s: float = 0.040, gain_db: float = -8.0) -> np.ndarray:
    d = int(delay_s * SAMPLE_RATE)
    mic = np.zeros_like(far16)
    mic[d:] = far16[:-d] * 10 ** (gain_db / 20)
    return mic


def frames_of(mic: np.ndarray, t0: float) -> list[AudioFrame]:
    noise = np.random.default_rng(9).normal(0, 20, len(mic))
    pcm = np.clip(mic * 32767 + noise, -32768, 32767).astype(np.int16)
    return [
        AudioFrame(pcm=pcm[i : i + FRAME_SAMPLES], time=t0 + i / SAMPLE_RATE, level_db=0.0)
        for i in range(0, len(pcm) - FRAME_SAMPLES + 1, FRAME_SAMPLES)
    ]


def power_db(x: np.ndarray) -> float:
    return 10 * float(np.log10(np.mean(np.square(x.astype(np.float64))) + 1e-9))


def run(far: np.ndarray, mic: np.ndarray, t0: float = 1234.5) -> tuple[np.ndarray, np.ndarray]:
    reference = PlaybackReference()
    source = EchoCancellingSource(object(), reference, processor=make_processor())
    frames = frames_of(mic, t0)
    played = blocks(far, t0)
    out = []
    for frame in frames:  # the speaker runs ahead of capture by its output latency
        while played and played[0][1] < frame.time + 0.1:
            block, at = played.pop(0)
            reference.tap(block, at, OUT_RATE)
        out.append(source.process(frame).pcm)
    return np.concatenate([f.pcm for f in frames]), np.concatenate(out)


def test_the_reference_is_what_played_at_that_instant() -> None:
    reference = PlaybackReference()
    ramp = (np.arange(16_000) % 1000 / 1000.0 * 0.5).astype(np.float32)
    play(reference, ramp, 100.0)
    window = reference.window(100.25, 160).astype(np.float64) / 32767
    expected = ramp[4000:4160]
    assert np.max(np.abs(window[20:-20] - expected[20:-20])) < 0.02
    assert not reference.window(99.0, 160).any()  # before anything played: silence
    # A flushed and restarted stream starts its blocks afresh on the same clock.
    for k in range(4):
        reference.tap(np.full((BLOCK, 1), 0.25, np.float32), 100.5 + k * BLOCK / OUT_RATE, 48_000)
    assert abs(reference.window(100.5, 100)[50] / 32767 - 0.25) < 0.01


def test_the_echo_is_removed() -> None:
    far = speechlike(8.0, seed=1, pitch=190.0)
    mic_in, out = run(far, room(far))
    tail = slice(4 * SAMPLE_RATE, None)  # after the canceller has converged
    suppression = power_db(mic_in[tail]) - power_db(out[tail])
    print(f"echo suppression {suppression:.1f} dB")
    assert suppression > 20.0


def test_the_users_voice_over_the_echo_is_kept() -> None:
    far = speechlike(8.0, seed=1, pitch=190.0)
    user = np.zeros_like(far)
    user[5 * SAMPLE_RATE : 7 * SAMPLE_RATE] = speechlike(2.0, seed=2, pitch=120.0)
    _, out = run(far, room(far) + user * 0.7)
    out = out[REBUFFER_LAG:]  # whole 10 ms blocks only: the output is one block late
    talk = slice(5 * SAMPLE_RATE + 1600, 7 * SAMPLE_RATE)
    kept = power_db(out[talk]) - power_db(user[talk] * 0.7 * 32767)
    # Syllable by syllable (32 ms energies): the output follows the user, not the echo.
    env_out, env_user, env_echo = (envelope(x[talk]) for x in (out, user, room(far)))
    follows_user = float(np.corrcoef(env_out, env_user)[0, 1])
    follows_echo = float(np.corrcoef(env_out, env_echo)[0, 1])
    print(f"kept {kept:+.1f} dB; envelope r={follows_user:.2f} (echo {follows_echo:.2f})")
    assert kept > -6.0  # measured -4.2 dB
    assert follows_user > 0.5  # measured 0.69
    assert follows_echo < 0.1  # measured -0.44


def envelope(x: np.ndarray) -> np.ndarray:
    n = len(x) // FRAME_SAMPLES * FRAME_SAMPLES
    frames = x[:n].astype(np.float64).reshape(-1, FRAME_SAMPLES)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-6)


def test_only_live_sources_playing_to_a_speaker_are_wrapped() -> None:
    class Sink:
        reference_tap = None

    class Live:
        realtime = True

    class File:
        realtime = False

    wrapped = cancel_echo(Live(), Sink())
    assert isinstance(wrapped, EchoCancellingSource) and wrapped.cancels_echo
    assert not isinstance(cancel_echo(File(), Sink()), EchoCancellingSource)
    assert not isinstance(cancel_echo(Live(), object()), EchoCancellingSource)


@pytest.mark.parametrize("delay_s", [0.030, 0.060])
def test_suppression_holds_across_the_bench_delays(delay_s: float) -> None:
    far = speechlike(8.0, seed=3, pitch=210.0)
    mic_in, out = run(far, room(far, delay_s=delay_s, gain_db=-6.0))
    tail = slice(4 * SAMPLE_RATE, None)
    assert power_db(mic_in[tail]) - power_db(out[tail]) > 20.0


def test_with_no_echo_path_the_users_voice_passes_untouched() -> None:
    # Headphones: the reference plays but the mic never hears it. AEC3 alone would
    # silence the user (measured -47 dB); the frames must pass as captured.
    far = speechlike(8.0, seed=1, pitch=190.0)
    user = np.zeros_like(far)
    user[3 * SAMPLE_RATE : 6 * SAMPLE_RATE] = speechlike(3.0, seed=2, pitch=120.0)
    mic_in, out = run(far, user * 0.5)
    talk = slice(3 * SAMPLE_RATE, 6 * SAMPLE_RATE)
    assert abs(power_db(out[talk]) - power_db(mic_in[talk])) < 0.5


@pytest.mark.parametrize("delay_s", [0.030, 0.045, 0.060])
def test_the_echo_delay_is_measured(delay_s: float) -> None:
    reference = PlaybackReference()
    far = speechlike(3.0, seed=4, pitch=170.0)
    source = EchoCancellingSource(object(), reference, processor=make_processor())
    t0 = 50.0
    played = blocks(far, t0)
    for frame in frames_of(room(far, delay_s=delay_s, gain_db=-12.0), t0):
        while played and played[0][1] < frame.time + 0.1:
            block, at = played.pop(0)
            reference.tap(block, at, OUT_RATE)
        source.process(frame)
    assert source.path.delay_s == pytest.approx(delay_s, abs=0.002)


def _source_after(far: np.ndarray, mic: np.ndarray, t0: float) -> EchoCancellingSource:
    reference = PlaybackReference()
    source = EchoCancellingSource(object(), reference, processor=make_processor())
    played = blocks(far, t0)
    for frame in frames_of(mic, t0):
        while played and played[0][1] < frame.time + 0.1:
            block, at = played.pop(0)
            reference.tap(block, at, OUT_RATE)
        source.process(frame)
    return source


def test_an_echo_a_second_late_is_placed_and_removed() -> None:
    # A sound server whose latency report is a second off: AEC3 alone never finds it.
    far = speechlike(10.0, seed=5, pitch=200.0)
    mic_in, out = run(far, room(far, delay_s=1.2, gain_db=-8.0))
    tail = slice(6 * SAMPLE_RATE, None)
    assert power_db(mic_in[tail]) - power_db(out[tail]) > 15.0


@pytest.mark.parametrize("delay_s", [0.045, 0.9])
def test_the_echo_alone_is_told_from_a_voice_over_it(delay_s: float) -> None:
    far = speechlike(8.0, seed=6, pitch=180.0)
    echo = room(far, delay_s=delay_s, gain_db=-6.0)
    alone = _source_after(far, echo, 10.0)
    assert alone.echo_only(14.0, 16.0)
    user = np.zeros_like(far)
    user[4 * SAMPLE_RATE : 7 * SAMPLE_RATE] = speechlike(3.0, seed=7, pitch=120.0)
    over = _source_after(far, echo + user, 10.0)
    assert not over.echo_only(14.0, 16.0)
    explained = over.path.explained(14.0, 16.0)
    assert explained is not None and explained < 0.5  # the voice 6 dB above its echo


def stepping_room(
    far16: np.ndarray, *, delay_s: float = 0.045, gain_db: float = -8.0
) -> np.ndarray:
    """A room heard through a loaded sound server: the echo comes one 256-sample block
    (at 48 kHz) later every 80 ms, four times, then back on time, over and over."""
    step, every = round(SAMPLE_RATE * 256 / OUT_RATE), int(0.080 * SAMPLE_RATE)
    mic = np.zeros_like(far16)
    for k, lo in enumerate(range(0, len(far16), every)):
        d = int(delay_s * SAMPLE_RATE) + (k % 5) * step
        hi = min(lo + every, len(far16))
        if lo >= d:
            mic[lo:hi] = far16[lo - d : hi - d] * 10 ** (gain_db / 20)
    return mic


def espeak(text: str, tmp: Path, voice: str = "en-us") -> np.ndarray:
    wav = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(wav), text], check=True)
    audio, rate = soundfile.read(wav, dtype="float32")
    return np.asarray(soxr.resample(audio, rate, SAMPLE_RATE), np.float64)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_the_echo_alone_is_told_from_a_voice_over_it_when_its_lag_moves_in_steps(
    tmp_path: Path,
) -> None:
    # Under load the bench's room (and a speaker's late blocks) moved the echo by a block
    # several times a second: judged at one lag per quarter second, the echo alone
    # explained 0.2-0.4 of the microphone, and paused the reply for nothing.
    reply = espeak(
        "Rivers carry water from the hills down to the sea, and along the way they shape "
        "the valleys, feed the fields and give the towns on their banks a way to trade.",
        tmp_path,
    )
    far = np.zeros(10 * SAMPLE_RATE)
    far[: len(reply)] = reply[: len(far)]
    echo = stepping_room(far)
    alone = _source_after(far, echo, 10.0)
    for start in np.arange(13.0, 17.0, 0.1):  # every 0.3 s stretch, as the guard asks
        assert alone.echo_only(start, start + 0.3), f"echo alone at {start:.1f} s"
    user = np.zeros_like(far)
    voice = espeak("Stop, which mountains are the highest in the world?", tmp_path, "en-gb")
    user[4 * SAMPLE_RATE : 4 * SAMPLE_RATE + len(voice)] = voice[: 4 * SAMPLE_RATE]
    over = _source_after(far, echo + user, 10.0)
    assert not over.echo_only(14.0, 14.0 + len(voice) / SAMPLE_RATE)


def test_one_look_at_a_far_delay_does_not_move_the_echo_path() -> None:
    # Right after a pause the speaker's words before it once matched the microphone at
    # 1.2 s (against a 50 ms room), and every echo check then looked there.
    from voiceloop.audio.echo import EchoPath

    path = EchoPath()
    rng = np.random.default_rng(3)
    far = rng.normal(0, 3000, 16 * SAMPLE_RATE)

    def look(delay_s: float, at: float) -> None:
        d, n = int(delay_s * SAMPLE_RATE), len(path._near)
        end = int(at * SAMPLE_RATE)
        path._far = far[end - n : end].astype(np.float32)
        path._near = 0.4 * far[end - n - d : end - d].astype(np.float32)
        path._measure(at)

    look(0.050, 5.0)
    assert path.delay_s == pytest.approx(0.050, abs=0.001)
    look(1.2, 5.25)
    assert path.delay_s == pytest.approx(0.050, abs=0.001), "moved on one look"
    look(0.050, 5.5)
    look(1.2, 5.75)
    look(1.2, 6.0)  # found again: the sound server's lag really moved
    assert path.delay_s == pytest.approx(1.2, abs=0.001)


def test_a_short_word_just_before_a_loud_syllable_of_the_reply_is_double_talk() -> None:
    # A "Stop." over the reply, whose next loud syllable comes back from the room right
    # after it: taken as what the echo might have been, that syllable hid the word.
    rng = np.random.default_rng(11)
    d, start, length = int(0.045 * SAMPLE_RATE), 100 * FRAME_SAMPLES, 4 * FRAME_SAMPLES
    far = rng.normal(0, 0.05, 5 * SAMPLE_RATE)
    burst = start - d + length + 32  # played so that it is heard just after the word
    far[burst : burst + 2000] *= 10 ** (16 / 20)
    user = np.zeros_like(far)
    user[start : start + length] = rng.normal(0, 0.05 * 10 ** ((10 - 8) / 20), length)
    mic = room(far, delay_s=0.045, gain_db=-8.0) + user
    reference = PlaybackReference()
    source = EchoCancellingSource(object(), reference, processor=make_processor())
    played, t0 = blocks(far, 10.0), 10.0
    talk = []
    for frame in frames_of(mic, t0):
        while played and played[0][1] < frame.time + 0.1:
            block, at = played.pop(0)
            reference.tap(block, at, OUT_RATE)
        if source.process(frame).double_talk:
            talk.append(round((frame.time - t0) * SAMPLE_RATE) // FRAME_SAMPLES)
    assert talk == [102], "the word (frames 100-103) is double talk, the echo alone never"
