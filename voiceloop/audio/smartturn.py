"""Semantic end of turn: has the speaker finished, judged from the sound of the speech.

Smart Turn v3.2 (BSD-2, in ``data/``) reads the last 8 s of an utterance as Whisper
log-mel features and gives the probability that the utterance is complete: intonation
and rhythm tell "...book a table." from "...book a table for, um". It runs with
onnxruntime on one CPU thread; nothing is downloaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from importlib import resources
from typing import Any, Protocol

import numpy as np

from voiceloop.audio.logmel import RATE, log_mel

log = logging.getLogger(__name__)

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


class TurnJudge:
    """Rates a pause at given lengths of silence (in frames) with a :class:`TurnModel`.

    Synchronous, the rating is made on the frame it is due. In the background, it starts
    ``lead`` frames earlier on a worker thread (onnxruntime releases the GIL) and is used
    on the first frame at or after it is due once it is ready, so the caller's thread
    (the event loop) never waits for the model.
    """

    def __init__(
        self,
        model: TurnModel,
        *,
        threshold: float,
        points: tuple[int, ...],
        background: bool = False,
        lead: int = 2,
    ) -> None:
        self.model = model
        self.threshold = threshold
        self.points = tuple(sorted(set(points)))
        self.lead = lead if background else 0
        self._pool: ThreadPoolExecutor | None = (
            ThreadPoolExecutor(1, thread_name_prefix="turn-model") if background else None
        )
        self._pending: tuple[int, Future[float]] | None = None
        self.decisions: list[float] = []
        """Every probability used, in order (metrics and tests)."""
        self.rated = False
        """A rating came out during this pause."""

    def reset(self) -> None:
        """Speech again, or the utterance closed: a rating under way is dropped."""
        self._drop()
        self.rated = False

    def _drop(self) -> None:
        if self._pending is not None:
            self._pending[1].cancel()
            self._pending = None

    def step(self, silence: int, pcm: Callable[[], np.ndarray]) -> bool | None:
        """One more frame of silence (``silence`` in all): True when a rating says the
        turn is complete, False when it says not, None when no rating came out now."""
        for point in self.points:
            if silence == max(1, point - self.lead):
                self._drop()
                self._pending = (point, self._submit(pcm()))
        if self._pending is None:
            return None
        due, future = self._pending
        if silence < due or not future.done():
            return None
        self._pending = None
        try:
            p = future.result()
        except Exception:
            log.warning("the end-of-turn model failed; the pause decides", exc_info=True)
            return None
        self.decisions.append(p)
        self.rated = True
        return p >= self.threshold

    def _submit(self, pcm: np.ndarray) -> Future[float]:
        if self._pool is not None:
            return self._pool.submit(self.model.probability, pcm)
        future: Future[float] = Future()
        try:
            future.set_result(self.model.probability(pcm))
        except Exception as exc:
            future.set_exception(exc)
        return future


def turn_options(
    turn: Any, model: TurnModel | None = None, background: bool = True
) -> dict[str, Any]:
    """The ``Endpointer`` keywords for the ``[turn]`` settings: none when it is off; else
    the model (loaded here unless given), its threshold and silences, and whether it runs
    on a worker thread (``background``, for frames that arrive in real time)."""
    if turn is None or not turn.enabled:
        return {}
    return {
        "turn_model": model if model is not None else SmartTurn(),
        "turn_threshold": turn.threshold,
        "turn_min_silence_ms": turn.min_silence_ms,
        "turn_max_silence_ms": turn.max_silence_ms,
        "turn_background": background,
    }
