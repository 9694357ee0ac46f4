"""What the fake server "hears" in an upload, and the audio it "speaks".

Transcripts are derived from the audio itself so tests check real behaviour: every
stretch of sound becomes a segment ``"tone <Hz> hertz"`` (its dominant frequency, to the
nearest 10 Hz) with its real start and end; pure silence gets Whisper's classic phantom
"Thank you." with a high ``no_speech_prob``.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass

import numpy as np
import soundfile as sf

FRAME_S = 0.02
SILENCE_DB = -40.0
MIN_GAP_S = 0.3
MIN_SOUND_S = 0.1


@dataclass(frozen=True)
class Region:
    start: float
    end: float
    freq: int


def decode_upload(data: bytes) -> tuple[np.ndarray, int]:
    """Mono float32 samples and rate; raises ValueError when not decodable."""
    try:
        pcm, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:
        raise ValueError(str(exc)) from None
    return pcm.mean(axis=1), int(rate)


def sound_regions(pcm: np.ndarray, rate: int) -> list[Region]:
    """Stretches louder than -40 dBFS (gaps under 0.3 s bridged), with their pitch."""
    hop = max(1, int(rate * FRAME_S))
    n = len(pcm) // hop
    if n == 0:
        return []
    frames = pcm[: n * hop].reshape(n, hop)
    rms = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) + 1e-12
    loud = 20 * np.log10(rms) > SILENCE_DB
    spans: list[list[int]] = []
    for i, is_loud in enumerate(loud):
        if not is_loud:
            continue
        if spans and (i - spans[-1][1]) * FRAME_S <= MIN_GAP_S:
            spans[-1][1] = i + 1
        else:
            spans.append([i, i + 1])
    out = []
    for a, b in spans:
        if (b - a) * FRAME_S < MIN_SOUND_S:
            continue
        chunk = pcm[a * hop : b * hop].astype(np.float64)
        spectrum = np.abs(np.fft.rfft(chunk * np.hanning(len(chunk))))
        freq = float(np.fft.rfftfreq(len(chunk), 1.0 / rate)[int(np.argmax(spectrum))])
        out.append(Region(round(a * FRAME_S, 2), round(b * FRAME_S, 2), int(round(freq, -1))))
    return out


def segments_for(pcm: np.ndarray, rate: int) -> list[dict]:
    """verbose_json segments for the audio (Whisper's field set)."""
    duration = len(pcm) / rate
    regions = sound_regions(pcm, rate)
    if not regions:
        return [_segment(0, 0.0, round(duration, 2), " Thank you.", no_speech=0.92, logprob=-1.3)]
    return [
        _segment(i, r.start, r.end, f" tone {r.freq} hertz", no_speech=0.01, logprob=-0.2)
        for i, r in enumerate(regions)
    ]


def _segment(i: int, start: float, end: float, text: str, *, no_speech: float, logprob: float):
    return {
        "id": i,
        "seek": 0,
        "start": start,
        "end": end,
        "text": text,
        "tokens": [50365 + i],
        "temperature": 0.0,
        "avg_logprob": logprob,
        "compression_ratio": 0.9,
        "no_speech_prob": no_speech,
    }


def speech_wav_parts(text: str, rate: int, *, seconds_per_char: float = 0.02) -> list[bytes]:
    """A WAV for ``text`` as a streaming server sends it: header (with a LIST chunk and an
    unknown data size) then the samples in pieces of awkward sizes.

    The audio is a 300→900 Hz sweep lasting ``seconds_per_char`` per character.
    """
    n = max(int(rate * 0.2), int(rate * seconds_per_char * len(text)))
    t = np.arange(n) / rate
    sweep = 0.3 * np.sin(2 * np.pi * (300 * t + 300 * t * t / max(t[-1], 1e-6)))
    pcm = (sweep * 32767).astype("<i2").tobytes()
    info = b"INFOISFT" + struct.pack("<I", 10) + b"fakegroq\x00\x00"
    list_chunk = b"LIST" + struct.pack("<I", len(info)) + info
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    header = (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + list_chunk
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF)
    )
    parts = [header[:7], header[7:]]
    step = 4097  # odd: pieces split sample frames
    parts += [pcm[i : i + step] for i in range(0, len(pcm), step)]
    return parts
