"""Whisper-style log-mel features (80 mels, 25 ms window, 10 ms hop, 16 kHz) in numpy.

The math follows the Whisper feature extractor of Hugging Face Transformers (Apache-2.0:
``feature_extraction_whisper.py`` and ``audio_utils.py``), as vendored for Smart Turn v3
by pipecat (BSD-2, see ``data/LICENSE-smart-turn.txt``): Slaney mel scale and area
normalisation, periodic Hann window, centred reflect-padded power spectrogram, log10
floored at 8 decades below the peak, scaled to about [-1, 1].
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

N_FFT = 400
HOP = 160
N_MELS = 80
RATE = 16_000
_FLOOR = 1e-10
_EPS = 1e-7


def _hz_to_mel(freq: np.ndarray) -> np.ndarray:
    freq = np.atleast_1d(np.asarray(freq, dtype=np.float64))
    mels = 3.0 * freq / 200.0
    high = freq >= 1000.0
    mels[high] = 15.0 + np.log(freq[high] / 1000.0) * (27.0 / np.log(6.4))
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    mels = np.atleast_1d(np.asarray(mels, dtype=np.float64))
    freq = 200.0 * mels / 3.0
    high = mels >= 15.0
    freq[high] = 1000.0 * np.exp((np.log(6.4) / 27.0) * (mels[high] - 15.0))
    return freq


def _filterbank() -> np.ndarray:
    """Slaney-normalised triangular filters, shape ``(N_FFT // 2 + 1, N_MELS)``."""
    edges = _mel_to_hz(
        np.linspace(_hz_to_mel(np.array(0.0))[0], _hz_to_mel(np.array(RATE / 2))[0], N_MELS + 2)
    )
    fft_freqs = np.linspace(0, RATE // 2, N_FFT // 2 + 1)
    diff = np.diff(edges)
    slopes = edges[None, :] - fft_freqs[:, None]
    down = -slopes[:, :-2] / diff[:-1]
    up = slopes[:, 2:] / diff[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    filters *= (2.0 / (edges[2 : N_MELS + 2] - edges[:N_MELS]))[None, :]
    return filters


_WINDOW = np.hanning(N_FFT + 1)[:-1]
_MEL = _filterbank()


def log_mel(audio: np.ndarray, *, seconds: int = 8) -> np.ndarray:
    """Features of ``audio`` (float, 16 kHz, mono), zero-padded at the end or cut to
    ``seconds``; shape ``(80, seconds * 100)``, float32. The waveform is normalised to
    zero mean and unit variance first."""
    if audio.ndim != 1:
        raise ValueError(f"expected mono audio, got shape {audio.shape}")
    n = RATE * seconds
    x = np.asarray(audio, dtype=np.float32)
    x = np.pad(x, (0, n - x.size)) if x.size < n else x[:n]
    x = (x - x.mean()) / np.sqrt(x.var() + _EPS)
    padded = np.pad(x.astype(np.float64), (N_FFT // 2, N_FFT // 2), mode="reflect")
    frames = sliding_window_view(padded, N_FFT)[::HOP]
    power = (np.abs(np.fft.rfft(frames * _WINDOW, axis=-1)) ** 2).T
    spec = np.log10(np.maximum(_FLOOR, _MEL.T @ power))[:, :-1]
    spec = np.maximum(spec, spec.max() - 8.0)
    result: np.ndarray = ((spec + 4.0) / 4.0).astype(np.float32)
    return result
