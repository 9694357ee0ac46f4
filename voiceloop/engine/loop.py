"""The engine: one long-running listening loop, each utterance a turn task.

The frame loop keeps feeding the endpointer while turns run, so the user can be heard
(and barge in) while the assistant thinks or speaks. Turns run concurrently with
listening but deliver their results in utterance order.

Barge-in (``[audio] barge_in``): user speech pauses the reply and, unless it was a false
interruption (see :mod:`voiceloop.engine.interruptions`), cancels it; a new utterance cancels any
converse or translate turn still running. Without barge-in, the endpointer is
``suppressed`` while the assistant speaks (speakers leak into microphones). Sources that
are not real time are never suppressed nor barged into: their turns simply queue.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from voiceloop.audio.base import (
    AudioSink,
    EndpointEvent,
    FrameSource,
    SpeechPaused,
    SpeechStart,
    UtteranceReady,
    open_source,
)
from voiceloop.engine.context import Conversation
from voiceloop.engine.dictation import DictationBuffer, DictationOutputs
from voiceloop.engine.duplex import CuePlayer, Deafness
from voiceloop.engine.early import EarlyTranscript, EarlyTranscripts
from voiceloop.engine.interruptions import InterruptionGuard
from voiceloop.engine.metrics import MetricsLog
from voiceloop.engine.running import RunningTurns
from voiceloop.engine.services import (
    EngineOptions,
    FlacEncoder,
    Recorder,
    RecorderGuard,
    SpeechEndpointer,
    SplitterFactory,
    StageSet,
    TurnServices,
)
from voiceloop.engine.speculate import Speculator
from voiceloop.engine.startup import (
    default_endpointer,
    default_splitter_factory,
    lazy_flac_encoder,
    start_sink,
    until_stopped,
    warm_up,
)
from voiceloop.engine.turn import Turn
from voiceloop.events import (
    CaptureOverflow,
    EngineState,
    Event,
    Level,
    Mode,
    ModeChanged,
    Notice,
    SpeakingChunk,
    SpeechStarted,
    StateChanged,
)
from voiceloop.frames import Transcript, Utterance

if TYPE_CHECKING:
    from voiceloop.config import Settings

log = logging.getLogger(__name__)


class Engine:
    """The voice loop. See the module docstring for behaviour.

    The engine owns ``source`` and ``sink`` during :meth:`run` (starts and closes them);
    the caller owns the stages. ``on_event`` is called on the event loop, in order.
    Optional parts (``endpointer``, ``splitter_factory``, ``encode_flac``) default to the
    audio and text layers' own.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        mode: Mode,
        source: FrameSource,
        sink: AudioSink,
        stages: StageSet,
        on_event: Callable[[Event], None],
        recorder: Recorder | None = None,
        endpointer: SpeechEndpointer | None = None,
        splitter_factory: SplitterFactory | None = None,
        encode_flac: FlacEncoder | None = None,
        metrics_path: Path | None = None,
        clipboard: Callable[[str], object] | None = None,
        max_turns: int | None = None,
        startup_notices: list[Notice] | None = None,
        closers: list[Callable[[], object]] | None = None,
    ) -> None:
        self.settings = settings
        self.options = options = EngineOptions.from_settings(settings)
        self._mode: Mode = mode
        self._source = source
        self._sink = sink
        self._stages = stages
        self._on_event = on_event
        self._endpointer = endpointer
        self._live = bool(getattr(source, "realtime", True))
        self._hands_free = True
        self.dictation = DictationBuffer()
        self.conversation = Conversation(options.system_prompt, options.context_budget_chars)
        if clipboard is None and options.dictate_clipboard:
            from voiceloop.engine.osc52 import copy_to_terminal

            clipboard = copy_to_terminal
        self._deafness = Deafness(live=self._live, barge_in=options.barge_in)
        self._cues = CuePlayer(sink, self._deafness, enabled=options.cues and self._live)
        self._services = TurnServices(
            options=options,
            stages=stages,
            sink=sink,
            emit=self._emit,
            recorder=RecorderGuard(recorder, self._emit),
            conversation=self.conversation,
            dictation=self.dictation,
            outputs=DictationOutputs(options.dictate_output_file, clipboard),
            splitter_factory=splitter_factory or default_splitter_factory(options),
            encode_flac=encode_flac or lazy_flac_encoder(),
            set_speaking=self._set_speaking,
            set_state=self._turn_state,
            cue=self._cues.play,
            metrics_log=MetricsLog(metrics_path) if metrics_path else None,
        )
        self._early = EarlyTranscripts(self._services)
        self._speculator = Speculator(self._services)
        self._speculator.on_endpoint = self._on_endpoint  # a deferred close, when ready
        self._guard = InterruptionGuard(
            self._early, self.interrupt, self._start_turn, lambda: self._sink, lambda: self._mode,
            echo_delay=lambda: getattr(getattr(source, "path", None), "delay_s", None),
            echo_only=getattr(source, "echo_only", None),
            mark_onset=lambda at: getattr(self._endpointer, "mark_onset", lambda _: None)(at),
            echo_heard=getattr(source, "echo_heard", lambda: True),
        )  # fmt: skip
        self._guard.configure(options.false_interruption_s, options.false_interruption)
        self._state: EngineState = "idle"
        self._turns = RunningTurns(max_turns, on_all_done=lambda: self._set_state("listening"))
        self._speaking = 0
        self._stop: asyncio.Event | None = None
        self._stop_requested = False
        self._dropped_seen = 0
        self._startup_notices = list(startup_notices or ())
        self._closers = list(closers or ())

    # -- control surface ---------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._mode

    @property
    def state(self) -> EngineState:
        return self._state

    @property
    def barge_in(self) -> bool:
        """Whether user speech cancels a speaking turn (config and a live source)."""
        return self.options.barge_in and self._live

    def use_clipboard(self, copy: Callable[[str], object]) -> None:
        """Copy dictation with ``copy`` (a UI's own clipboard, which owns the terminal)
        instead of writing OSC 52 to the terminal; only when ``[dictate] clipboard`` is on."""
        if self.options.dictate_clipboard:
            self._services.outputs.clipboard = copy

    def set_mode(self, mode: Mode) -> None:
        """Switch mode; applies from the next utterance."""
        if mode != self._mode:
            self._mode = mode
            self._emit(ModeChanged(mode=mode))

    def stop(self) -> None:
        """Make :meth:`run` return: running turns are cancelled."""
        self._stop_requested = True
        if self._stop is not None:
            self._stop.set()

    def interrupt(self) -> bool:
        """Cancel every running turn now (speaker flushed); True if there was one."""
        if self._speaking:
            self._sink.flush()  # silence now, before the cancelled tasks even run
        return self._turns.cancel()

    def set_hands_free(self, on: bool) -> None:
        """Hands-free (VAD) listening, or push-to-talk when off."""
        self._hands_free = on
        if self._endpointer is not None:
            self._endpointer.set_push_to_talk(not on)

    def push_to_talk(self, pressed: bool) -> None:
        """The push-to-talk key went down or up. Pressing it interrupts the assistant."""
        if self._endpointer is None:
            return
        if pressed and self._speaking:
            self.interrupt()
        for event in self._endpointer.key(pressed) or ():
            self._on_endpoint(event)

    # -- the loop ----------------------------------------------------------------

    async def run(self) -> None:
        """Listen and run turns until :meth:`stop`, or until a finite source is exhausted
        (or ``max_turns`` have started) and the last turn is done."""
        self._stop = asyncio.Event()
        if self._stop_requested:
            self._stop.set()
        if self._endpointer is None:
            # Loading the VAD model takes a moment: not on the event loop (a UI runs there).
            live = bool(getattr(self._source, "realtime", True))
            self._endpointer = await asyncio.to_thread(default_endpointer, self.settings, live)
        self._deafness.endpointer = self._endpointer
        self.set_hands_free(self._hands_free)
        frames: asyncio.Task[None] | None = None
        stopper = asyncio.create_task(self._stop.wait(), name="engine-stop")
        warm = asyncio.create_task(self._warm(), name="engine-warm")
        try:
            await self._start_sink()
            self._services.recorder.open_session(self._mode)
            for notice in self._startup_notices:
                self._emit(notice)
            await open_source(self._source)  # "listening" only once the microphone hears
            self._set_state("listening")
            self._cues.play("listening")
            frames = asyncio.create_task(self._frame_loop(), name="engine-frames")
            await asyncio.wait({frames, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if frames.done():
                frames.result()  # a source error ends the run with that error
                assert self._stop is not None
                await until_stopped(self._stop, self._turns.wait())
                await until_stopped(self._stop, self._sink.drain())
        finally:
            await self._shutdown(frames, stopper, warm)

    async def _start_sink(self) -> None:
        speaks = self._mode == "converse" or (
            self._mode == "translate" and self.options.translate_speak
        )
        sink = await start_sink(self._sink, speaks=speaks, mode=self._mode, emit=self._emit)
        if sink is not self._sink:
            self._sink = self._services.sink = sink
            self._cues.enabled = False

    async def _frame_loop(self) -> None:
        assert self._endpointer is not None
        async for frame in self._source.frames():
            self._emit(Level(level_db=frame.level_db))
            self._check_overflow()
            if frame.double_talk and self.barge_in and self._speaking:
                self._guard.voice_heard(frame.time)  # before the voice detector: pause now
            for event in self._endpointer.feed(frame):
                self._on_endpoint(event)
            self._speculator.watch(self._endpointer)
            if self._turn_limit_reached():
                return
        for event in self._endpointer.flush():
            self._on_endpoint(event)

    def _on_endpoint(self, event: EndpointEvent) -> None:
        if isinstance(event, SpeechStart):
            self._emit(SpeechStarted(time=event.time))
            if self.barge_in and self._speaking:
                self._guard.speech_started(at=event.time)  # paused; cut or resumed once heard
            elif self._live and self._guard.in_echo_tail():
                self._guard.speech_started(speaking=False, at=event.time)  # its echo, or not
            self._set_state("hearing")
        elif isinstance(event, SpeechPaused) and self._early.wanted(event, self._speculates()):
            self._speculator.cancel()
            if not self._turn_limit_reached() and self._early.start(
                self._guard.hinted(event.utterance), self._mode, on_text=self._pause_hint
            ):
                self._speculator.asked(self._endpointer)
            self._guard.speech_paused()
        elif isinstance(event, UtteranceReady) and not self._guard.utterance_ready(event.utterance):
            self._start_turn(event.utterance)

    def _speculates(self) -> bool:
        return self._mode == "converse" and self._speculator.enabled

    def _pause_hint(self, utterance: Utterance, transcript: Transcript) -> None:
        busy = self._turns.busy
        self._speculator.paused(self._endpointer, utterance, transcript, self._mode, busy)

    def _start_turn(self, utterance: Utterance, early: EarlyTranscript | None = None) -> None:
        if early is None:
            early = self._early.take(utterance)
        speculative = self._speculator.take(utterance)
        if self._turn_limit_reached():
            for pending in (early, speculative):
                if pending is not None:
                    pending.cancel()
            return
        if early is not None:  # the same speech, without the silence after the pause
            utterance = dataclasses.replace(early.utterance, closed_at=utterance.closed_at)
        closed = time.monotonic()
        stream_closed = utterance.closed_at if utterance.closed_at is not None else utterance.end
        stream_end = utterance.speech_end if utterance.speech_end is not None else utterance.end
        speech_end = closed - max(0.0, stream_closed - stream_end)
        if self.barge_in and self._mode != "dictate":
            self._turns.cancel(keep_dictation=True)
        turn = Turn(
            self._services,
            utterance,
            mode=self._mode,
            speech_end=speech_end,
            closed_at=closed,
            predecessor=self._turns.predecessor(),
            early=early,
        )
        turn.speculative, turn.speculator = speculative, self._speculator
        self._turns.start(turn)

    def _turn_limit_reached(self) -> bool:
        return self._turns.limit_reached

    async def _shutdown(self, *tasks: asyncio.Task[Any] | None) -> None:
        self._guard.close()
        self._early.cancel()
        pending = [t for t in tasks if t is not None] + self._turns.tasks()
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._cues.aclose()
        for closer in (self._source.aclose, self._sink.aclose, *self._closers):
            try:
                result = closer()
                if asyncio.iscoroutine(result):
                    await result
            except Exception:
                log.warning("closing %r failed", closer, exc_info=True)
        self._set_state("idle")

    async def _warm(self) -> None:
        await warm_up(self._stages.all(), self._services.encode_flac, self._emit)

    # -- state, speaking and events ----------------------------------------------

    def _set_speaking(self, on: bool) -> None:
        self._speaking = max(0, self._speaking + (1 if on else -1))
        self._deafness.set_speaking(on)
        if not self._speaking:
            self._guard.reset()

    def _turn_state(self, state: EngineState, turn_id: int) -> None:
        latest = self._turns.latest
        if latest is not None and latest.id == turn_id:
            self._set_state(state)

    def _set_state(self, state: EngineState) -> None:
        if state != self._state:
            self._state = state
            self._emit(StateChanged(state=state))

    def _check_overflow(self) -> None:
        dropped = int(getattr(self._source, "dropped", 0) or 0)
        if dropped > self._dropped_seen:
            self._emit(CaptureOverflow(dropped=dropped - self._dropped_seen, total=dropped))
            self._dropped_seen = dropped

    def _emit(self, event: Event) -> None:
        if isinstance(event, SpeakingChunk):
            self._guard.spoken(event.text)  # its echo is no user turn
        try:
            self._on_event(event)
        except Exception:
            log.exception("an event consumer failed on %s", type(event).__name__)
