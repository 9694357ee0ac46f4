"""What a turn may use: the engine's options, stages, sink, context, outputs, callbacks.

Also the structural types of the parts the engine drives (endpointer, splitter, recorder) and a
guard that keeps a failing history store from failing turns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from voiceloop.audio.base import AudioSink, EndpointEvent
from voiceloop.config import Settings
from voiceloop.engine.context import Conversation
from voiceloop.engine.dictation import DictationBuffer, DictationOutputs
from voiceloop.engine.metrics import MetricsLog
from voiceloop.events import EngineState, Event, Notice
from voiceloop.frames import AudioFrame
from voiceloop.stages import Responder, StageContext, Synthesizer, Transcriber

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

_T = TypeVar("_T")

FlacEncoder = Callable[["np.ndarray", int], bytes]
"""``encode(pcm_int16, sample_rate)`` → FLAC bytes."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """What the loop needs to know from the configuration, nothing more."""

    system_prompt: str
    context_budget_chars: int
    prefetch: int
    max_chars: int
    first_chunk_min_chars: int
    first_chunk_min_words: int
    first_chunk_max_words: int
    first_chunk_interjections: bool
    barge_in: bool
    false_interruption_s: float
    false_interruption: str
    cues: bool
    translate_show_original: bool
    translate_speak: bool
    dictate_output_file: Path | None
    dictate_clipboard: bool
    dictate_cleanup: bool
    language: str | None
    """``[stt] language``: the language spoken, hence of the replies (None: detected)."""
    speculate: bool
    speculate_min_requests: int

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineOptions:
        """Read the ``[llm]``, ``[tts]``, ``[audio]``, ``[translate]``, ``[dictate]`` and
        ``[turn]`` fields."""
        output_file = settings.dictate.output_file
        return cls(
            system_prompt=settings.llm.system_prompt,
            context_budget_chars=settings.llm.context_budget_chars,
            prefetch=max(0, settings.tts.prefetch),
            max_chars=settings.tts.max_chars,
            first_chunk_min_chars=settings.tts.first_chunk_min_chars,
            first_chunk_min_words=settings.tts.first_chunk_min_words,
            first_chunk_max_words=settings.tts.first_chunk_max_words,
            first_chunk_interjections=settings.tts.first_chunk_interjections,
            barge_in=settings.audio.barge_in,
            false_interruption_s=settings.audio.false_interruption_s,
            false_interruption=settings.audio.false_interruption,
            cues=settings.audio.cues,
            translate_show_original=settings.translate.show_original,
            translate_speak=settings.translate.speak,
            dictate_output_file=Path(output_file).expanduser() if output_file else None,
            dictate_clipboard=settings.dictate.clipboard,
            dictate_cleanup=settings.dictate.cleanup,
            language=settings.stt.language or None,
            speculate=settings.turn.speculate,
            speculate_min_requests=settings.turn.speculate_min_requests,
        )


class SpeechEndpointer(Protocol):
    """Where utterances begin and end: microphone frames (and the push-to-talk key) in,
    endpoint events out. The audio layer's ``Endpointer`` is the one the engine builds.

    It may also offer what the speculative reply uses when present: ``hold(speech_end)``
    and ``release(speech_end, question=...)`` (keep a pause open, or let it end; a question
    ends it at the hangover), ``expect_words()``,
    ``silence_frames`` and ``is_open``.
    """

    suppressed: bool
    """Deaf while set (the assistant speaks half-duplex, a cue plays)."""

    def feed(self, frame: AudioFrame) -> list[EndpointEvent]: ...

    def flush(self) -> list[EndpointEvent]:
        """The end of the input: close what is open."""
        ...

    def key(self, down: bool) -> list[EndpointEvent]:
        """The push-to-talk key went down (``True``) or up."""
        ...

    def set_push_to_talk(self, enabled: bool) -> None: ...


class Splitter(Protocol):
    """Streaming sentence splitter: reply deltas in, speakable pieces out."""

    def push(self, delta: str) -> list[str]: ...

    def flush(self) -> list[str]: ...


class SplitterFactory(Protocol):
    """Makes a splitter for one reply in ``language`` (a code or Whisper's name; None:
    unknown)."""

    def __call__(self, *, language: str | None = None) -> Splitter: ...


class Recorder(Protocol):
    """The history store as the engine uses it."""

    def open_session(self, mode: str) -> int: ...

    def begin_turn(
        self, session_id: int, mode: str, flac: bytes | None, *, duration: float
    ) -> tuple[int, str | None]: ...

    def update_turn(self, turn_id: int, **fields: Any) -> None: ...


@dataclass
class StageSet:
    """The stages of a session. Any may be ``None`` when not configured.

    ``translator`` serves translate mode (``[translate]`` section); when ``None`` the
    ``transcriber`` is asked with ``task="translate"``.
    """

    transcriber: Transcriber | None = None
    responder: Responder | None = None
    synthesizer: Synthesizer | None = None
    translator: Transcriber | None = None
    providers: dict[str, str] = field(default_factory=dict)
    """Configured provider name per stage kind (for fallback reporting)."""
    context: StageContext | None = field(default=None, repr=False, compare=False)
    """What the stages share (the HTTP pool), closed with them."""

    def transcriber_for(self, stage: str) -> Transcriber | None:
        """The stage that answers ``stage`` requests ("transcriber" or "translator")."""
        if stage == "translator":
            return self.translator or self.transcriber
        return self.transcriber

    def all(self) -> list[object]:
        seen: list[object] = []
        for stage in (self.transcriber, self.responder, self.synthesizer, self.translator):
            if stage is not None and all(stage is not s for s in seen):
                seen.append(stage)
        return seen


class RecorderGuard:
    """Calls the recorder; a failure becomes one notice and the turn goes on."""

    def __init__(self, recorder: Recorder | None, emit: Callable[[Event], None]) -> None:
        self._recorder = recorder
        self._emit = emit
        self._warned = False
        self.session_id: int | None = None

    @property
    def enabled(self) -> bool:
        return self._recorder is not None

    def open_session(self, mode: str) -> None:
        if self._recorder is not None:
            self.session_id = self._call("open_session", lambda r: r.open_session(mode))

    def begin_turn(
        self, mode: str, flac: bytes | None, duration: float
    ) -> tuple[int | None, str | None]:
        if self._recorder is None or self.session_id is None:
            return None, None
        session_id = self.session_id
        result = self._call(
            "begin_turn", lambda r: r.begin_turn(session_id, mode, flac, duration=duration)
        )
        return (None, None) if result is None else result

    def update_turn(self, turn_id: int | None, **fields: Any) -> None:
        if self._recorder is not None and turn_id is not None:
            self._call("update_turn", lambda r: r.update_turn(turn_id, **fields))

    def _call(self, method: str, call: Callable[[Recorder], _T]) -> _T | None:
        assert self._recorder is not None
        try:
            return call(self._recorder)
        except Exception as exc:
            log.warning("history store %s failed", method, exc_info=True)
            if not self._warned:
                self._warned = True
                hint = getattr(exc, "hint", None) or "turns go on; check the data directory"
                self._emit(
                    Notice(
                        level="warning",
                        title="History not saved",
                        message=f"{getattr(exc, 'message', None) or exc} — {hint}",
                    )
                )
            return None


@dataclass
class TurnServices:
    """Everything shared by the turns of one engine."""

    options: EngineOptions
    stages: StageSet
    sink: AudioSink
    emit: Callable[[Event], None]
    recorder: RecorderGuard
    conversation: Conversation
    dictation: DictationBuffer
    outputs: DictationOutputs
    splitter_factory: SplitterFactory
    encode_flac: FlacEncoder
    set_speaking: Callable[[bool], None]
    set_state: Callable[[EngineState, int], None]
    """``set_state(state, turn_id)``: a turn reports its phase."""
    cue: Callable[[str], None] = lambda name: None
    """Play a cue sound (``"done"`` after a spoken reply); a no-op when cues are off."""
    metrics_log: MetricsLog | None = None
