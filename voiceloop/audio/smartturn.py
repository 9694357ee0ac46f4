"""Semantic end of turn: has the speaker finished, judged from the sound of the speech.

Smart Turn v3.2 (BSD-2, in ``data/``) reads the last 8 s of an utterance as Whisper
log-mel features and gives the probability that the utterance is complete: intonation
and rhythm tell "...book a table." from "...book a table for, um". It runs with
onnxruntime on one CPU thread; nothing is downloaded.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Protocol

import numpy as np

from voiceloop.audio.logmel import RATE, log_mel

MODEL_FILE = "smart-turn-v3.2-cpu.onnx"
WINDOW_S = 8


class TurnModel(Protocol):
    """Anything that rates an utterance as complete (1.0) or not (0.0)."""

    def probability(self, pcm: np.ndarray) -> float:
        """Probability that the speech in ``pcm`` (int16 or float, 16 kHz) is complete."""
        ...


class SmartTurn:
    """The bundled Smart Turn model. Loading takes a fraction of a second; each decision
    tens of milliseconds on one thread."""

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        model = resources.files("voiceloop.audio.data").joinpath(MODEL_FILE)
        with resources.as_file(model) as path:
            self._session: Any = ort.InferenceSession(
                str(path), sess_options=options, providers=["CPUExecutionProvider"]
            )

    def probability(self, pcm: np.ndarray) -> float:
        """Probability that the speech in ``pcm`` (int16 or float, 16 kHz) is complete."""
        audio = np.asarray(pcm)
        if audio.dtype == np.int16:
            audio = audio.astype(np.float32) / 32768.0
        audio = audio.astype(np.float32, copy=False).reshape(-1)
        n = RATE * WINDOW_S
        # The model was trained on the end of the speech, left-padded with silence.
        audio = audio[-n:] if audio.size > n else np.pad(audio, (n - audio.size, 0))
        features = log_mel(audio, seconds=WINDOW_S)[None, :, :]
        out = self._session.run(None, {"input_features": features})
        return float(np.asarray(out[0]).reshape(-1)[0])
