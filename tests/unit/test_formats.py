"""Format helpers: resample, mono, encode/decode, and the streaming WAV decoder."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess

import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.audio.formats import (
    WavStreamDecoder,
    decode_file,
    decode_wav,
    encode_flac,
    encode_wav,
    load_speech,
    resample,
    to_int16,
    to_mono,
)
from voiceloop.errors import AudioDecodeError


def tone(seconds: float = 0.25, rate: int = 16000, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


# --- resample / mono / encode --------------------------------------------------------


def test_resample_changes_length_and_keeps_pitch() -> None:
    x = tone(1.0, 48000, 440.0)
    y = resample(x, 48000, 16000)
    assert y.dtype == np.float32
    assert abs(len(y) - 16000) <= 1
    spectrum = np.abs(np.fft.rfft(y))
    peak_hz = np.argmax(spectrum) * 16000 / len(y)
    assert abs(peak_hz - 440) < 3


def test_resample_int16_stays_int16_and_same_rate_is_identity() -> None:
    x = to_int16(tone(0.1, 22050))
    y = resample(x, 22050, 16000)
    assert y.dtype == np.int16
    assert abs(len(y) - 1600) <= 1
    f = tone(0.1)
    assert np.array_equal(resample(f, 16000, 16000), f)
    with pytest.raises(ValueError):
        resample(f, 0, 16000)


def test_to_mono_averages_channels() -> None:
    stereo = np.stack([np.full(10, 0.5, np.float32), np.full(10, -0.1, np.float32)], axis=1)
    mono = to_mono(stereo)
    assert mono.shape == (10,)
    assert np.allclose(mono, 0.2)
    ints = np.array([[100, 201], [-100, -300]], dtype=np.int16)
    assert to_mono(ints).tolist() == [150, -200]
    assert to_mono(ints).dtype == np.int16
    one_d = np.arange(5, dtype=np.int16)
    assert to_mono(one_d) is one_d


def test_to_int16_clips() -> None:
    assert to_int16(np.array([2.0, -2.0, 0.5], np.float32)).tolist() == [32767, -32768, 16384]


def test_flac_round_trip_is_lossless() -> None:
    pcm = to_int16(tone(0.3))
    data = encode_flac(pcm)
    assert data[:4] == b"fLaC"
    back, rate = sf.read(io.BytesIO(data), dtype="int16")
    assert rate == 16000
    assert np.array_equal(back, pcm)


def test_encode_wav_float_subtype() -> None:
    x = tone(0.1, 24000)
    data = encode_wav(x, 24000, subtype="FLOAT")
    back, rate = decode_wav(data)
    assert rate == 24000
    assert np.array_equal(back, x)


# --- files ---------------------------------------------------------------------------


def test_decode_file_and_load_speech(tmp_path) -> None:
    stereo = np.stack([tone(0.5, 44100), tone(0.5, 44100)], axis=1)
    path = tmp_path / "a.ogg"
    sf.write(path, stereo, 44100, format="OGG", subtype="VORBIS")
    data, rate = decode_file(path)
    assert rate == 44100 and data.shape[1] == 2
    speech = load_speech(path)
    assert speech.dtype == np.int16 and speech.ndim == 1
    assert abs(len(speech) - 8000) <= 2
    assert 0.3 * 32768 < np.abs(speech).max() < 0.6 * 32768


def test_decode_errors_are_one_line_audio_decode_errors(tmp_path) -> None:
    missing = tmp_path / "nope.wav"
    with pytest.raises(AudioDecodeError, match=r"nope\.wav"):
        decode_file(missing)
    junk = tmp_path / "junk.m4a"
    junk.write_bytes(b"\x00\x01not audio at all" * 20)
    with pytest.raises(AudioDecodeError) as info:
        load_speech(junk)
    assert "junk.m4a" in str(info.value) and "\n" not in str(info.value)
    assert info.value.exit_code == 2
    with pytest.raises(AudioDecodeError):
        decode_file(tmp_path)
    empty = tmp_path / "empty.wav"
    sf.write(empty, np.zeros(0, np.int16), 16000)
    with pytest.raises(AudioDecodeError, match="no audio"):
        load_speech(empty)


# --- hand-built WAV bytes ------------------------------------------------------------


def chunk(cid: bytes, body: bytes, size: int | None = None) -> bytes:
    size = len(body) if size is None else size
    return cid + struct.pack("<I", size) + body + (b"\x00" if len(body) % 2 else b"")


def fmt_body(fmt: int, channels: int, rate: int, bits: int, extensible: bool = False) -> bytes:
    width = bits // 8
    block = width * channels
    body = struct.pack("<HHIIHH", fmt, channels, rate, rate * block, block, bits)
    if extensible:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        body = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block, block, bits)
        body += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", fmt) + guid_tail
    return body


def wav_bytes(
    frames: np.ndarray,
    *,
    fmt: int,
    bits: int,
    rate: int = 16000,
    extensible: bool = False,
    before_data: bytes = b"",
    data_size: int | None = None,
    after_data: bytes = b"",
) -> bytes:
    """frames: (n, channels) float in [-1, 1]; encoded by hand."""
    channels = frames.shape[1]
    flat = frames.reshape(-1)
    if fmt == 3:
        raw = flat.astype("<f4").tobytes()
    elif bits == 16:
        raw = np.clip(np.rint(flat * 32768), -32768, 32767).astype("<i2").tobytes()
    elif bits == 24:
        ints = np.clip(np.rint(flat * 8388608), -8388608, 8388607).astype("<i4")
        raw = ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    elif bits == 32:
        ints = np.clip(np.rint(flat.astype(np.float64) * 2147483648), -(2**31), 2**31 - 1)
        raw = ints.astype("<i4").tobytes()
    else:
        raw = (np.clip(np.rint(flat * 128 + 128), 0, 255)).astype(np.uint8).tobytes()
    body = b"WAVE" + chunk(b"fmt ", fmt_body(fmt, channels, rate, bits, extensible))
    body += before_data + chunk(b"data", raw, data_size) + after_data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def random_frames(n: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.uniform(-0.9, 0.9, size=(n, channels)).astype(np.float32)


LIST_CHUNK = chunk(b"LIST", b"INFOISFT\x07\x00\x00\x00voice!\x00\x00")  # odd inner size
ODD_CHUNK = chunk(b"junk", b"abc")  # odd size: one pad byte follows
FACT_CHUNK = chunk(b"fact", struct.pack("<I", 123))

VARIANTS: dict[str, dict] = {
    "pcm16": {"fmt": 1, "bits": 16},
    "pcm16-list-odd": {"fmt": 1, "bits": 16, "before_data": LIST_CHUNK + ODD_CHUNK},
    "pcm16-size0": {"fmt": 1, "bits": 16, "data_size": 0},
    "pcm16-sizeffff": {"fmt": 1, "bits": 16, "data_size": 0xFFFFFFFF},
    "pcm24": {"fmt": 1, "bits": 24, "before_data": FACT_CHUNK},
    "pcm24-ext": {"fmt": 1, "bits": 24, "extensible": True},
    "pcm32": {"fmt": 1, "bits": 32},
    "float32": {"fmt": 3, "bits": 32, "before_data": FACT_CHUNK},
    "float32-ext-trailing": {"fmt": 3, "bits": 32, "extensible": True, "after_data": LIST_CHUNK},
    "pcm8": {"fmt": 1, "bits": 8},
}
TOLERANCE = {8: 1 / 64, 16: 1 / 16384, 24: 1e-6, 32: 1e-6}


@pytest.mark.parametrize("name", sorted(VARIANTS))
@pytest.mark.parametrize("channels", [1, 2])
def test_hand_built_variants_decode(name: str, channels: int) -> None:
    spec = VARIANTS[name]
    frames = random_frames(301, channels, seed=channels)
    samples, rate = decode_wav(wav_bytes(frames, **spec))
    assert rate == 16000
    assert samples.dtype == np.float32
    expected = frames.mean(axis=1)
    assert len(samples) == len(expected)
    assert np.max(np.abs(samples - expected)) <= TOLERANCE[spec["bits"]]


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(data)) for c in cuts})
    pieces, prev = [], 0
    for p in [*points, len(data)]:
        pieces.append(data[prev:p])
        prev = p
    return pieces


def stream_decode(pieces: list[bytes]) -> tuple[np.ndarray, WavStreamDecoder]:
    dec = WavStreamDecoder()
    out = [dec.feed(p) for p in pieces]
    dec.close()
    return np.concatenate(out), dec


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(VARIANTS)),
    channels=st.integers(1, 3),
    n=st.integers(0, 200),
    cuts=st.lists(st.integers(0, 3000), max_size=40),
)
def test_any_split_of_hand_built_wav_matches_one_shot(name, channels, n, cuts) -> None:
    data = wav_bytes(random_frames(n, channels, seed=n), **VARIANTS[name])
    whole, rate = decode_wav(data)
    streamed, dec = stream_decode(split_at(data, cuts))
    assert dec.sample_rate == rate and dec.channels == channels and dec.header_done
    assert np.array_equal(streamed, whole)


@settings(max_examples=40, deadline=None)
@given(
    subtype=st.sampled_from(["PCM_16", "PCM_24", "PCM_32", "FLOAT", "PCM_U8"]),
    fmt=st.sampled_from(["WAV", "WAVEX"]),
    channels=st.integers(1, 2),
    cuts=st.lists(st.integers(0, 2000), max_size=30),
)
def test_any_split_of_soundfile_wav_matches_soundfile(subtype, fmt, channels, cuts) -> None:
    frames = random_frames(257, channels, seed=7)
    buf = io.BytesIO()
    sf.write(buf, frames, 22050, format=fmt, subtype=subtype)
    data = buf.getvalue()
    expected, _ = sf.read(io.BytesIO(data), dtype="float64", always_2d=True)
    streamed, dec = stream_decode(split_at(data, cuts))
    assert dec.sample_rate == 22050
    assert np.allclose(streamed, expected.mean(axis=1), atol=1e-6)


def test_byte_by_byte_yields_samples_early() -> None:
    data = wav_bytes(random_frames(50, 1, 1), fmt=1, bits=16, data_size=0xFFFFFFFF)
    dec = WavStreamDecoder()
    first_sample_at = None
    for i in range(len(data)):
        got = dec.feed(data[i : i + 1])
        if len(got) and first_sample_at is None:
            first_sample_at = i
    assert first_sample_at == 44 + 1  # 44-byte header, then the second byte of sample 0
    assert dec.frames_decoded == 50


# --- errors --------------------------------------------------------------------------


def test_non_wav_is_rejected_at_once() -> None:
    dec = WavStreamDecoder()
    with pytest.raises(AudioDecodeError, match="not a WAV"):
        dec.feed(b'{"error": "x"}')
    with pytest.raises(AudioDecodeError, match="not a WAV"):
        decode_wav(b"ID3\x03mp3 data here")
    with pytest.raises(AudioDecodeError, match="not a WAV"):
        decode_wav(b"RIFF\x00\x00\x00\x00AVI LIST")


def test_close_reports_bad_endings() -> None:
    good = wav_bytes(random_frames(20, 2, 3), fmt=1, bits=16)
    for cut, message in [
        (0, "empty"),
        (20, "header"),
        (len(good) - 40, "truncated"),
    ]:
        dec = WavStreamDecoder()
        dec.feed(good[:cut])
        with pytest.raises(AudioDecodeError, match=message):
            dec.close()
    streaming = wav_bytes(random_frames(20, 2, 3), fmt=1, bits=16, data_size=0)
    dec = WavStreamDecoder()
    dec.feed(streaming[:-1])
    with pytest.raises(AudioDecodeError, match="middle of a sample"):
        dec.close()
    no_data = b"RIFF\x00\x00\x00\x00WAVE" + chunk(b"fmt ", fmt_body(1, 1, 16000, 16))
    with pytest.raises(AudioDecodeError, match="before any audio"):
        decode_wav(no_data)
    with pytest.raises(AudioDecodeError, match="header not received"):
        _ = WavStreamDecoder().sample_rate


def test_unsupported_and_malformed_formats() -> None:
    alaw = b"RIFF\x00\x00\x00\x00WAVE" + chunk(b"fmt ", fmt_body(6, 1, 8000, 8))
    with pytest.raises(AudioDecodeError, match="unsupported"):
        decode_wav(alaw + chunk(b"data", b"\x00\x00"))
    data_first = b"RIFF\x00\x00\x00\x00WAVE" + chunk(b"data", b"\x00\x00")
    with pytest.raises(AudioDecodeError, match="before fmt"):
        decode_wav(data_first)
    short_fmt = b"RIFF\x00\x00\x00\x00WAVE" + chunk(b"fmt ", b"\x01\x00\x01\x00")
    with pytest.raises(AudioDecodeError, match="too short"):
        decode_wav(short_fmt)


@pytest.mark.parametrize("cut", [0, 40, 44, 46, 50])
def test_empty_data_chunk_then_metadata_is_not_read_as_audio(cut: int) -> None:
    data = wav_bytes(np.zeros((0, 1), np.float32), fmt=1, bits=16, after_data=LIST_CHUNK)
    samples, dec = stream_decode([data[:cut], data[cut:]])
    assert len(samples) == 0 and dec.header_done and dec.sample_rate == 16000
    bare = wav_bytes(np.zeros((0, 1), np.float32), fmt=1, bits=16)
    assert len(decode_wav(bare)[0]) == 0


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs the espeak-ng program")
def test_real_streaming_writer_with_placeholder_sizes(tmp_path) -> None:
    """espeak-ng --stdout writes RIFF and data sizes of 0x7FFFF000 before it knows them."""
    text = "Streaming replies start playing before the body ends."
    streamed_bytes = subprocess.run(
        ["espeak-ng", "--stdout", text], capture_output=True, check=True
    ).stdout
    assert struct.unpack_from("<I", streamed_bytes, 40)[0] >= 0x7FFF0000
    path = tmp_path / "e.wav"
    subprocess.run(["espeak-ng", "-w", str(path), text], check=True)
    expected, rate = sf.read(path, dtype="float32")
    pieces = [streamed_bytes[i : i + 997] for i in range(0, len(streamed_bytes), 997)]
    samples, dec = stream_decode(pieces)
    assert dec.sample_rate == rate
    assert len(samples) == len(expected) > rate  # over a second of speech
    assert np.array_equal(samples, expected)
