"""One turn: utterance → FLAC + history row → transcript → the mode's work → metrics.

A turn runs as its own task. Whatever happens — success, a stage failing, cancellation
by barge-in or the interrupt key — it ends with a ``TurnFinished`` event, a final store
update and a ``TurnMetrics`` event, and never raises anything but ``CancelledError``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import logging
from typing import TYPE_CHECKING, Any, Literal

from voiceloop.engine import metrics as m
from voiceloop.engine import modes
from voiceloop.engine.metrics import TurnTimer
from voiceloop.engine.services import TurnServices
from voiceloop.errors import AudioError, ConfigError, StageFailed, describe
from voiceloop.events import (
    EngineState,
    FallbackUsed,
    Mode,
    StageWaiting,
    TurnFailed,
    TurnFinished,
    TurnMetrics,
    TurnStarted,
)
from voiceloop.frames import Task, Transcript, Utterance
from voiceloop.stages import StageReport, reset_current_report, set_current_report

if TYPE_CHECKING:
    from voiceloop.engine.early import EarlyTranscript
    from voiceloop.engine.speculate import SpeculativeReply, Speculator

log = logging.getLogger(__name__)

WAITING_AFTER_S = 2.0
"""A stage silent this long gets a "still waiting" event (then every WAITING_EVERY_S)."""
WAITING_EVERY_S = 5.0

Status = Literal["transcribed", "answered", "interrupted", "failed", "dropped"]

_local_turn_ids = itertools.count(1)


class Turn:
    """The work done for one utterance. ``await turn.run()`` inside its own task."""

    def __init__(
        self,
        services: TurnServices,
        utterance: Utterance,
        *,
        mode: Mode,
        speech_end: float,
        closed_at: float,
        predecessor: asyncio.Task[Any] | None = None,
        early: EarlyTranscript | None = None,
    ) -> None:
        self.services = services
        self.utterance = utterance
        self.mode: Mode = mode
        self.timer = TurnTimer(speech_end)
        self.timer.mark(m.UTTERANCE_CLOSED, closed_at)
        self.predecessor = predecessor
        self.report = StageReport(on_fallback=self.fallback_used)
        self.id: int = 0
        self._store_id: int | None = None
        self.status: Status = "failed"
        self.speaking = False
        self.metrics_extra: dict[str, Any] = {}
        self.early = early
        self.speculative: SpeculativeReply | None = None
        self.speculator: Speculator | None = None

    # -- lifecycle ---------------------------------------------------------------

    async def run(self) -> None:
        token = set_current_report(self.report)
        try:
            await self._run()
        except asyncio.CancelledError:
            self.status = "interrupted"
            self.services.recorder.update_turn(self._store_id, status="interrupted")
            raise
        except Exception as exc:
            self._fail(exc)
        finally:
            self._finish()
            reset_current_report(token)

    async def _run(self) -> None:
        self._begin()
        handler = {"converse": modes.converse, "dictate": modes.dictate}.get(
            self.mode, modes.translate
        )
        await handler(self)

    def _begin(self) -> None:
        """Encode once, put the audio in the store, announce the turn (no network yet)."""
        services = self.services
        failure: StageFailed | None = None
        flac: bytes | None = None
        try:
            flac = self.utterance.flac or services.encode_flac(
                self.utterance.pcm, self.utterance.sample_rate
            )
        except Exception as exc:
            log.error("encoding the utterance failed", exc_info=exc)
            error = AudioError(f"could not encode the utterance: {exc}")
            failure = StageFailed("encoder", error)
        self.utterance = dataclasses.replace(self.utterance, flac=flac)
        store_id, audio_path = services.recorder.begin_turn(
            self.mode, flac, self.utterance.duration
        )
        self._store_id = store_id
        self.id = store_id if store_id is not None else next(_local_turn_ids)
        services.emit(
            TurnStarted(
                turn_id=self.id,
                mode=self.mode,
                duration=self.utterance.duration,
                audio_path=str(audio_path) if audio_path is not None else None,
            )
        )
        if failure is not None:
            raise failure

    def _fail(self, exc: BaseException) -> None:
        info = describe(exc)
        if info.expected:
            log.info("turn %s failed in %s: %s", self.id, info.stage, info.one_line())
        else:
            log.error("turn %s failed in %s", self.id, info.stage, exc_info=exc)
        self.status = "failed"
        self.services.recorder.update_turn(
            self._store_id, status="failed", error=f"{info.title}: {info.one_line()}"
        )
        self.services.emit(
            TurnFailed(
                turn_id=self.id,
                stage=info.stage,
                title=info.title,
                message=info.message,
                hint=info.hint,
            )
        )

    def _finish(self) -> None:
        services = self.services
        if self.early is not None:
            self.early.cancel()
            self.early = None
        self.set_speaking(False)
        summary = self.timer.summary(
            turn_id=self.id,
            mode=self.mode,
            status=self.status,
            interrupted=self.status == "interrupted",
            report=self.report,
            extra=self.metrics_extra,
        )
        timings = {k: v for k, v in summary.items() if k.endswith("_ms")}
        services.recorder.update_turn(
            self._store_id,
            timings={
                **timings,
                "interrupted": summary["interrupted"],
                "retries": self.report.retries,
            },
            usage=self.report.usage,
        )
        services.emit(TurnFinished(turn_id=self.id, status=self.status))
        services.emit(TurnMetrics(turn_id=self.id, metrics=summary))
        if services.metrics_log is not None:
            try:
                services.metrics_log.write(summary)
            except OSError:
                log.warning("could not write metrics to %s", services.metrics_log.path)

    # -- helpers for the modes ---------------------------------------------------

    def state(self, state: EngineState) -> None:
        self.services.set_state(state, self.id)

    def set_speaking(self, on: bool) -> None:
        if on != self.speaking:
            self.speaking = on
            self.services.set_speaking(on)
            if on:
                self.state("speaking")

    def update(self, **fields: Any) -> None:
        self.services.recorder.update_turn(self._store_id, **fields)

    def settle(self, status: Status, **fields: Any) -> None:
        """How the turn ended (unless it fails or is cancelled later); ``fields`` are stored
        with the status."""
        self.status = status
        if fields:
            self.update(status=status, **fields)

    async def wait_for_predecessor(self) -> None:
        """Results are delivered in utterance order: wait for the previous turn to end."""
        if self.predecessor is not None and not self.predecessor.done():
            await asyncio.wait([self.predecessor])

    async def transcribe(
        self, task: Task = "transcribe", *, stage: str = "transcriber"
    ) -> Transcript:
        """Ask the transcriber (``stage="translator"`` for the translate section's one)."""
        early = self.early
        if early is not None and early.key == (task, stage):
            self.early = None
            transcript = await self._early_result(early)
            if transcript is not None:
                return transcript
        transcriber = self.services.stages.transcriber_for(stage)
        if transcriber is None:
            raise StageFailed(
                stage,
                ConfigError(
                    "no speech-to-text stage is configured",
                    hint='set GROQ_API_KEY or choose [stt] provider = "local"',
                ),
            )
        request = asyncio.ensure_future(transcriber.transcribe(self.utterance, task=task))
        try:
            await self.wait_for_stage(request, stage)
        finally:
            request.cancel()  # a no-op when done; else this turn is being cancelled
        if (exc := request.exception()) is not None:
            raise StageFailed(stage, exc) from exc
        return request.result()

    async def wait_for_stage(self, request: asyncio.Future[Any], stage: str) -> None:
        """Wait until ``request`` is done, saying now and then that the turn still waits."""
        waited, step = 0.0, WAITING_AFTER_S
        while not (await asyncio.wait({request}, timeout=step))[0]:
            waited += step
            self.services.emit(StageWaiting(turn_id=self.id, stage=stage, seconds=waited))
            step = WAITING_EVERY_S

    def fallback_used(self, stage: str, reason: str, provider: str) -> None:
        """A stage fell back to another provider (called by fallback wrappers)."""
        self.services.emit(
            FallbackUsed(turn_id=self.id, stage=stage, reason=reason, provider=provider)
        )

    async def _early_result(self, early: EarlyTranscript) -> Transcript | None:
        """The transcript requested at the pause (its request is this turn's request), or
        None to ask again when that request was cancelled."""
        task = early.task
        assert task is not None
        try:
            await self.wait_for_stage(task, early.key[1])
        finally:
            task.cancel()  # a no-op when done; else this turn is being cancelled
        self.report.merge(early.report)
        if task.cancelled():
            return None
        if (exc := task.exception()) is not None:
            raise StageFailed(early.key[1], exc) from exc
        self.metrics_extra["early_transcript"] = True
        return task.result()
