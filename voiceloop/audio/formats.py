"""Audio format helpers: resampling, mono mix-down, FLAC/WAV encoding, file and WAV decoding.

Pure numpy + soundfile + soxr. Conventions (see :mod:`voiceloop.frames`): captured speech
is ``int16`` mono at 16 kHz; audio on its way to a speaker is ``float32`` in [-1, 1].
:class:`WavStreamDecoder` turns a WAV body that arrives in arbitrary pieces (a chunked
HTTP response) into float32 mono samples as soon as whole frames are available.
"""

from __future__ import annotations

import io
import struct
from os import PathLike
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from voiceloop.errors import AudioDecodeError

__all__ = [
    "WavStreamDecoder",
    "decode_file",
    "decode_wav",
    "encode_flac",
    "encode_wav",
    "load_speech",
    "resample",
    "to_int16",
    "to_mono",
]

_INT16_SCALE = 32768.0


def to_mono(pcm: np.ndarray) -> np.ndarray:
    """Mix ``(frames, channels)`` audio down to 1-D by averaging the channels.

    1-D input is returned unchanged. The dtype is kept (int16 is averaged in float and
    rounded back).
    """
    pcm = np.asarray(pcm)
    if pcm.ndim == 1:
        return pcm
    if pcm.ndim != 2:
        raise ValueError(f"expected 1-D or (frames, channels) audio, got shape {pcm.shape}")
    if pcm.shape[1] == 1:
        return pcm[:, 0].copy()
    mixed = pcm.astype(np.float64).mean(axis=1)
    if np.issubdtype(pcm.dtype, np.integer):
        info = np.iinfo(pcm.dtype)
        clipped: np.ndarray = np.clip(np.rint(mixed), info.min, info.max).astype(pcm.dtype)
        return clipped
    same_type: np.ndarray = mixed.astype(pcm.dtype)
    return same_type


def to_int16(pcm: np.ndarray) -> np.ndarray:
    """float audio in [-1, 1] → int16 (clipped); int16 passes through."""
    pcm = np.asarray(pcm)
    if pcm.dtype == np.int16:
        return pcm
    if np.issubdtype(pcm.dtype, np.integer):
        raise ValueError(f"cannot convert {pcm.dtype} samples to int16 without a scale")
    return np.clip(np.rint(pcm * _INT16_SCALE), -32768, 32767).astype(np.int16)


def resample(pcm: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample with soxr (high quality). float in → float32 out; int16 in → int16 out.

    Works on 1-D or ``(frames, channels)`` arrays. Equal rates return the input
    (as float32 when it was float).
    """
    if src_rate <= 0 or dst_rate <= 0:
        raise ValueError(f"sample rates must be positive, got {src_rate} → {dst_rate}")
    pcm = np.asarray(pcm)
    if pcm.dtype != np.int16:
        pcm = pcm.astype(np.float32, copy=False)
    if src_rate == dst_rate or len(pcm) == 0:
        return pcm
    resampled: np.ndarray = soxr.resample(pcm, src_rate, dst_rate, quality="HQ")
    return resampled


def encode_flac(pcm_int16: np.ndarray, sample_rate: int = 16000) -> bytes:
    """Encode 16-bit PCM (mono or ``(frames, channels)``) as FLAC bytes, in memory."""
    return _encode(to_int16(pcm_int16), sample_rate, "FLAC", "PCM_16")


def encode_wav(pcm: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> bytes:
    """Encode int16 or float audio as a WAV file in memory (``subtype`` as in soundfile)."""
    return _encode(np.asarray(pcm), sample_rate, "WAV", subtype)


def _encode(pcm: np.ndarray, sample_rate: int, fmt: str, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, pcm, sample_rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def decode_file(path: str | PathLike[str]) -> tuple[np.ndarray, int]:
    """Read any file soundfile can decode (WAV, FLAC, OGG, MP3, AIFF, ...).

    Returns ``(float32 samples, sample_rate)``; samples are 1-D for mono files and
    ``(frames, channels)`` otherwise. Raises :class:`AudioDecodeError` when the file is
    missing or cannot be decoded.
    """
    p = Path(path)
    if not p.exists():
        raise AudioDecodeError(f"{p}: no such file", hint="check the path")
    if p.is_dir():
        raise AudioDecodeError(f"{p}: is a directory, not an audio file")
    try:
        data, rate = sf.read(str(p), dtype="float32", always_2d=False)
    except _UNDECODABLE as exc:
        raise _cannot_decode(p, exc) from None
    except OSError as exc:
        raise AudioDecodeError(f"{p}: cannot read file ({exc.strerror or exc})") from None
    return data, int(rate)


def file_duration(path: str | PathLike[str]) -> float:
    """Seconds of audio in a file soundfile reads, from its header (nothing decoded);
    :class:`AudioDecodeError` as :func:`decode_file` raises it."""
    try:
        return float(sf.info(str(path)).duration)
    except _UNDECODABLE as exc:
        raise _cannot_decode(Path(path), exc) from None


_UNDECODABLE = (sf.LibsndfileError, RuntimeError, ValueError, TypeError)


def _cannot_decode(path: Path, exc: Exception) -> AudioDecodeError:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return AudioDecodeError(
        f"{path}: cannot decode audio ({reason})",
        hint="use WAV, FLAC, OGG or MP3 (convert others with ffmpeg or sox)",
    )


def load_speech(path: str | PathLike[str], rate: int = 16000) -> np.ndarray:
    """Decode a file to mono int16 at ``rate``: what the transcribers and the VAD expect."""
    data, src_rate = decode_file(path)
    if len(data) == 0:
        raise AudioDecodeError(f"{Path(path)}: contains no audio samples")
    return to_int16(resample(to_mono(data), src_rate, rate))


# --- streaming WAV -----------------------------------------------------------------

_FORMAT_PCM = 1
_FORMAT_FLOAT = 3
_FORMAT_EXTENSIBLE = 0xFFFE
_UNKNOWN_SIZES = (0, 0xFFFFFFFF)
"""Data sizes streaming servers write before they know the length: read to the end."""
_PLACEHOLDER_MIN = 0x7FFFF000
"""Sizes this large (INT32_MAX-ish) are placeholders too, never real speech replies."""
_EMPTY_DATA = b"data\x00\x00\x00\x00"
_TRAILING_CHUNK_IDS = frozenset(
    {
        b"LIST", b"fact", b"cue ", b"smpl", b"inst", b"id3 ", b"ID3 ", b"PEAK", b"bext",
        b"iXML", b"junk", b"JUNK", b"acid", b"plst", b"_PMX", b"DISP",
    }
)  # fmt: skip
"""Chunk ids that may follow an empty data chunk (metadata written after the audio)."""


class WavStreamDecoder:
    """Incremental RIFF/WAVE decoder for a body arriving in arbitrary byte pieces.

    ``feed()`` each piece as it arrives; it returns the float32 mono samples that became
    complete (possibly empty). Chunks other than ``fmt `` and ``data`` (LIST, fact, ...)
    are skipped whatever their size, with RIFF's pad byte after odd sizes. A data size of
    0 or 0xFFFFFFFF (what streaming servers write before they know the length) means
    "read to the end of the stream". Supported encodings: integer PCM of 8/16/24/32 bits
    and IEEE float of 32/64 bits, plain or ``WAVE_FORMAT_EXTENSIBLE``.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._riff_done = False
        self._skip = 0  # bytes of an unwanted chunk (or pad) still to discard
        self._in_data = False
        self._data_seen = False
        self._data_left: int | None = None  # None: read to end of stream
        self._data_pad = False
        self._fed = 0
        self._sample_rate: int | None = None
        self._channels: int | None = None
        self._width = 0  # bytes per sample (container)
        self._encoding = ""  # "int" or "float"
        self._frames_out = 0

    @property
    def sample_rate(self) -> int:
        """Frames per second; raises :class:`AudioDecodeError` before the header is parsed."""
        if self._sample_rate is None:
            raise AudioDecodeError("WAV stream: header not received yet")
        return self._sample_rate

    @property
    def channels(self) -> int:
        if self._channels is None:
            raise AudioDecodeError("WAV stream: header not received yet")
        return self._channels

    @property
    def header_done(self) -> bool:
        """True once the format is known and sample data has started."""
        return self._data_seen

    @property
    def frames_decoded(self) -> int:
        return self._frames_out

    def feed(self, data: bytes) -> np.ndarray:
        """Take the next piece of the body; return float32 mono samples now complete."""
        self._fed += len(data)
        self._buf += data
        out: list[np.ndarray] = []
        while self._step(out):
            pass
        if not out:
            return np.zeros(0, dtype=np.float32)
        return out[0] if len(out) == 1 else np.concatenate(out)

    def close(self) -> None:
        """Check the stream ended sensibly: header complete, no half frame, no shortfall.

        Raises :class:`AudioDecodeError` otherwise. Incomplete chunks *after* the audio
        data (trailing metadata) are ignored.
        """
        if self._fed == 0:
            raise AudioDecodeError("WAV stream: empty body")
        if not self._data_seen and bytes(self._buf[:8]) == _EMPTY_DATA:
            if len(self._buf) > 8:
                raise AudioDecodeError("WAV stream: ended in the middle of a sample frame")
            self._data_seen = True  # an empty data chunk ended the stream
            self._buf.clear()
            return
        if not self._data_seen:
            if self._sample_rate is None:
                raise AudioDecodeError("WAV stream: ended before the WAV header was complete")
            raise AudioDecodeError("WAV stream: ended before any audio data")
        if self._in_data:
            if self._buf:
                raise AudioDecodeError(
                    f"WAV stream: ended in the middle of a sample frame ({len(self._buf)} bytes)"
                )
            if self._data_left:
                raise AudioDecodeError(
                    f"WAV stream: truncated, {self._data_left} bytes of audio missing"
                )

    # -- internals -------------------------------------------------------------------

    def _step(self, out: list[np.ndarray]) -> bool:
        """Consume what can be consumed; return True if another step may make progress."""
        if self._skip:
            n = min(self._skip, len(self._buf))
            del self._buf[:n]
            self._skip -= n
            return bool(n) and not self._skip
        if not self._riff_done:
            return self._parse_riff()
        if self._in_data:
            return self._read_data(out)
        return self._parse_chunk_header()

    def _parse_riff(self) -> bool:
        head = bytes(self._buf[:12])
        if not (b"RIFF".startswith(head[:4]) and b"WAVE".startswith(head[8:12])):
            raise AudioDecodeError(
                "not a WAV stream (no RIFF/WAVE header)", hint=f"starts with {head[:12]!r}"
            )
        if len(head) < 12:
            return False
        del self._buf[:12]
        self._riff_done = True
        return True

    def _parse_chunk_header(self) -> bool:
        if len(self._buf) < 8:
            return False
        cid = bytes(self._buf[:4])
        (size,) = struct.unpack_from("<I", self._buf, 4)
        if cid == b"fmt ":
            if len(self._buf) < 8 + size:
                return False
            self._parse_fmt(bytes(self._buf[8 : 8 + size]))
            del self._buf[: 8 + size]
            self._skip = size & 1
            return True
        if cid == b"data" and size == 0:
            # 0 is either a streaming placeholder or a truly empty chunk followed by
            # metadata; the next bytes tell which (audio rarely starts like a chunk id).
            peek = bytes(self._buf[8:12])
            if len(peek) < 4 and any(cid.startswith(peek) for cid in _TRAILING_CHUNK_IDS):
                return False
            if peek in _TRAILING_CHUNK_IDS:
                self._data_seen = True
                del self._buf[:8]
                return True
        del self._buf[:8]
        if cid == b"data":
            if self._sample_rate is None:
                raise AudioDecodeError("WAV stream: data chunk before fmt chunk")
            self._in_data = self._data_seen = True
            placeholder = size in _UNKNOWN_SIZES or size >= _PLACEHOLDER_MIN
            self._data_left = None if placeholder else size
            self._data_pad = bool(size & 1) and not placeholder
            return True
        self._skip = size + (size & 1)
        return True

    def _parse_fmt(self, body: bytes) -> None:
        if len(body) < 16:
            raise AudioDecodeError(f"WAV stream: fmt chunk too short ({len(body)} bytes)")
        fmt, channels, rate, _byte_rate, block_align, bits = struct.unpack_from("<HHIIHH", body)
        if fmt == _FORMAT_EXTENSIBLE:
            if len(body) < 40:
                raise AudioDecodeError("WAV stream: WAVE_FORMAT_EXTENSIBLE fmt chunk too short")
            (fmt,) = struct.unpack_from("<H", body, 24)  # first two bytes of the sub-format GUID
        if channels == 0 or rate == 0:
            raise AudioDecodeError(f"WAV stream: bad format ({channels} channels, {rate} Hz)")
        width = block_align // channels if block_align else (bits + 7) // 8
        if fmt == _FORMAT_PCM and width in (1, 2, 3, 4):
            self._encoding = "int"
        elif fmt == _FORMAT_FLOAT and width in (4, 8):
            self._encoding = "float"
        else:
            raise AudioDecodeError(
                f"WAV stream: unsupported encoding (format {fmt:#06x}, {bits} bits)",
                hint="PCM 8/16/24/32-bit or float 32/64-bit",
            )
        self._sample_rate, self._channels, self._width = rate, channels, width

    def _read_data(self, out: list[np.ndarray]) -> bool:
        frame = self._width * self.channels
        avail = len(self._buf)
        if self._data_left is not None:
            avail = min(avail, self._data_left)
        n = (avail // frame) * frame
        if n:
            out.append(self._convert(bytes(self._buf[:n])))
            del self._buf[:n]
            if self._data_left is not None:
                self._data_left -= n
        if self._data_left is not None and self._data_left < frame:
            # Declared data is complete (a stray partial frame is dropped); chunks may follow.
            self._skip = self._data_left + int(self._data_pad)
            self._in_data = False
            self._data_left = 0
            return True
        return False

    def _convert(self, raw: bytes) -> np.ndarray:
        w = self._width
        if self._encoding == "float":
            samples = np.frombuffer(raw, dtype="<f4" if w == 4 else "<f8").astype(np.float32)
        elif w == 1:
            samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128.0) / 128.0
        elif w == 2:
            samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
        elif w == 3:
            b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
            ints = (b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8  # sign from the top byte
            samples = (ints >> 8).astype(np.float32) / 8388608.0
        else:
            samples = (np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0).astype(
                np.float32
            )
        channels = self.channels
        self._frames_out += len(samples) // channels
        if channels > 1:
            samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
        return samples


def decode_wav(data: bytes) -> tuple[np.ndarray, int]:
    """Decode a whole WAV body at once: ``(float32 mono samples, sample_rate)``."""
    dec = WavStreamDecoder()
    samples = dec.feed(data)
    dec.close()
    return samples, dec.sample_rate
