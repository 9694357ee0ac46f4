"""Transcription started at a pause in speech, before the utterance closes.

The endpointer waits ``hangover_ms`` of silence before it closes an utterance, to be sure
the speaker has finished. After ``early_transcribe_ms`` of that silence it reports a
pause with the utterance so far (in conversation with the reply started during the pause,
already after ``[turn] speculate_after_ms``, its *quick* report); it is encoded here and
its transcription starts, in parallel with the rest of the hangover. When the utterance
closes with no speech since the pause (same start, same end of speech), its turn takes
over the paused utterance (the closing one only adds silence) with its FLAC and its
transcript: the bytes stored are the bytes uploaded, and the transcription delay hides
inside the hangover. When the speaker goes on, the early request is cancelled and the
closing utterance is transcribed as usual.
Each request counts against the rate limit: none is made while the transcriber reports
fewer requests left than ``[turn] speculate_min_requests``.

The early request goes out before its turn exists, so a few hundred milliseconds before
the utterance is in the store; the turn stores it before it uses the transcript.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from voiceloop.frames import Task, Transcript, Utterance
from voiceloop.stages import StageReport, Transcriber, set_current_report

if TYPE_CHECKING:
    from voiceloop.audio.base import SpeechPaused
    from voiceloop.engine.services import TurnServices
    from voiceloop.events import Mode

log = logging.getLogger(__name__)

Key = tuple[Task, str]
"""``(task, stage)`` of a transcription request, as in :meth:`Turn.transcribe`."""


@dataclasses.dataclass(slots=True)
class EarlyTranscript:
    """An early transcription request, what it is for, the utterance (with its FLAC), and
    what its providers reported (retries, fallbacks) for the turn that takes it over."""

    key: Key
    utterance: Utterance
    task: asyncio.Task[Transcript] | None = None
    report: StageReport = dataclasses.field(default_factory=StageReport)

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    async def _run(self, transcriber: Transcriber) -> Transcript:
        # In this task's own context: providers report here as they would to a turn.
        set_current_report(self.report)
        return await transcriber.transcribe(self.utterance, task=self.key[0])


def early_key(mode: Mode) -> Key:
    """The request a turn of ``mode`` makes first."""
    return ("translate", "translator") if mode == "translate" else ("transcribe", "transcriber")


class EarlyTranscripts:
    """At most one early request at a time, handed to the turn whose utterance it matches."""

    def __init__(self, services: TurnServices) -> None:
        self._services = services
        self._pending: EarlyTranscript | None = None

    def start(
        self,
        utterance: Utterance,
        mode: Mode,
        on_text: Callable[[Utterance, Transcript], None] | None = None,
    ) -> bool:
        """The speaker paused: transcribe ``utterance`` (the speech so far) for ``mode``;
        ``on_text`` gets the transcript as soon as it is back (the turn is still open).
        False when no request went out."""
        self.cancel()
        key = early_key(mode)
        transcriber = self._services.stages.transcriber_for(key[1])
        if transcriber is None or self._rate_limited(transcriber):
            return False
        try:
            flac = self._services.encode_flac(utterance.pcm, utterance.sample_rate)
        except Exception:
            log.debug("encoding a paused utterance failed", exc_info=True)
            return False  # the closing utterance is encoded (and the error reported) by its turn
        early = EarlyTranscript(key, dataclasses.replace(utterance, flac=flac))
        early.task = asyncio.create_task(early._run(transcriber), name="early-transcript")
        early.task.add_done_callback(_quiet)
        if on_text is not None:
            early.task.add_done_callback(lambda t: _deliver(t, early.utterance, on_text))
        self._pending = early
        return True

    def wanted(self, paused: SpeechPaused, speculating: bool) -> bool:
        """Whether this report of a pause should start a request: the quick one only for a
        reply started during the pause (``speculating``), the later one unless a request
        for this same pause is already out."""
        if paused.quick:
            return speculating
        pending = self._pending
        return pending is None or not _same(pending.utterance, paused.utterance)

    def _rate_limited(self, transcriber: Transcriber) -> bool:
        """The server says few requests are left (``[turn] speculate_min_requests``):
        nothing is asked before the turn is confirmed."""
        limits = getattr(transcriber, "rate_limits", None)
        remaining = getattr(limits, "remaining_requests", None)
        return remaining is not None and remaining < self._services.options.speculate_min_requests

    def take(self, utterance: Utterance) -> EarlyTranscript | None:
        """The early request for ``utterance`` if no speech came after the pause (the
        caller then owns it); any other pending request is cancelled."""
        early, self._pending = self._pending, None
        if early is None:
            return None
        if _same(early.utterance, utterance) and utterance.speech_end is not None:
            return early
        early.cancel()
        return None

    def cancel(self) -> None:
        """Drop the pending request, if any."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None


def _same(paused: Utterance, utterance: Utterance) -> bool:
    """No speech came between ``paused`` and ``utterance``: the same speech."""
    return paused.start == utterance.start and paused.speech_end == utterance.speech_end


def _quiet(task: asyncio.Task[Transcript]) -> None:
    """Retrieve the outcome so an unused failed request is not reported as never retrieved."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.debug("early transcription failed: %s", exc)


def _deliver(
    task: asyncio.Task[Transcript],
    utterance: Utterance,
    on_text: Callable[[Utterance, Transcript], None],
) -> None:
    if task.cancelled() or task.exception() is not None:
        return
    try:
        on_text(utterance, task.result())
    except Exception:
        log.debug("early transcript hint failed", exc_info=True)
