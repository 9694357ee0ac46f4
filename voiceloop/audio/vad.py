"""Endpointing: turn a stream of frames into utterances.

Hands-free, speech starts once ``min_speech_ms`` of speech frames have been seen (one
non-speech frame inside that run is tolerated) and ends after ``hangover_ms`` of
non-speech; the utterance begins ``pre_roll_ms`` before the first speech frame so the
first word is whole. Push-to-talk, key down opens (with the same pre-roll) and key up
closes; an utterance with less than ``min_speech_ms`` of detected speech is dropped.
At ``max_length_s`` the utterance closes (reason ``"max_length"``) and collection goes on
at once into the next one, without a new ``SpeechStart``; a tail with no speech at all
is dropped. ``flush()`` closes what is open at the end of input (``"end_of_input"``).
Hands-free, ``early_ms`` of silence (less than the hangover) sends :class:`SpeechPaused`
with the utterance so far, so its transcription can start before the hangover is over;
``quick_ms`` of silence (less than that) sends one marked ``quick`` first.

With a ``turn_model``, the model replaces the hangover: rated after ``turn_min_silence_ms``
of silence and again at the hangover, a complete utterance closes (``"turn_complete"``), an
incomplete one at ``turn_max_silence_ms``; ``hold()`` (the transcript looks unfinished)
makes the pause wait for that cap. The pause is reported two frames before the first rating.
After ``expect_words()`` a complete rating waits, up to the hangover, for the pause's
words: ``release()`` (they look finished) or ``hold()``. A pause whose words end in a
question mark (``release(question=True)``) closes at the hangover even when the model rates
it incomplete (``"question"``). After ``defer()`` (a reply is being prepared during the
pause) a complete turn closes only once ``ready()`` says that reply is far enough along (its
first chunk being synthesized), or at ``turn_max_silence_ms``: the turn is confirmed before
its reply could play, and speech resumed meanwhile keeps the utterance whole.

``mark_onset(t)`` says a voice began at capture time ``t`` though the detector has not
heard it yet (double talk over a reply, whose first 100 ms the echo canceller takes for
echo): an utterance that opens within :data:`ONSET_KEEP_S` after it starts at ``t`` at the
latest, so its first word is not lost to a late start.

Frames in the first ``ignore_start_ms`` after opening (the first frame after ``reset``,
a key down, the end of suppression) never count as speech: key clicks and the tail of a
cue. While ``suppressed`` (half-duplex: the assistant is speaking or a cue is playing)
frames never count as speech, no utterance starts, and they are not kept for pre-roll.
"""

from __future__ import annotations

import collections
import math
from typing import Any

import numpy as np

from voiceloop.audio.base import EndpointEvent, SpeechPaused, SpeechStart, UtteranceReady
from voiceloop.audio.detectors import EnergyDetector, SileroDetector, SpeechDetector, make_detector
from voiceloop.audio.judged import (
    FRAME_S,
    Judged,
    frames_in,
    speech_frames,
    speech_run,
    utterance_of,
)
from voiceloop.audio.smartturn import TurnModel, turn_options
from voiceloop.audio.turn_gate import TurnGate
from voiceloop.frames import AudioFrame

__all__ = ["Endpointer", "EnergyDetector", "SileroDetector", "SpeechDetector", "make_detector"]

ONSET_KEEP_S = 1.2
"""How long a marked onset waits for the utterance that it starts."""


class Endpointer:
    """Frames in, :class:`SpeechStart` / :class:`UtteranceReady` events out. Not thread-safe."""

    def __init__(
        self,
        detector: SpeechDetector,
        *,
        threshold: float = 0.5,
        min_speech_ms: float = 200,
        hangover_ms: float = 600,
        pre_roll_ms: float = 400,
        max_length_s: float = 120.0,
        ignore_start_ms: float = 150,
        early_ms: float = 0,
        quick_ms: float = 0,
        turn_model: TurnModel | None = None,
        turn_threshold: float = 0.5,
        turn_min_silence_ms: float = 250,
        turn_max_silence_ms: float = 2000,
        turn_background: bool = False,
    ) -> None:
        self.detector = detector
        self.threshold = threshold
        self.min_speech_frames = frames_in(min_speech_ms)
        self.hangover_frames = frames_in(hangover_ms)
        early = frames_in(early_ms) if early_ms > 0 else 0
        self.early_frames = early if early < self.hangover_frames else 0
        self.turn_model = turn_model
        self._gate: TurnGate | None = None
        if turn_model is not None:
            min_frames = frames_in(turn_min_silence_ms)
            self._gate = TurnGate(
                turn_model,
                threshold=turn_threshold,
                min_frames=min_frames,
                max_frames=max(min_frames + 1, round(turn_max_silence_ms / 1000 / FRAME_S)),
                hangover_frames=self.hangover_frames,
                background=turn_background,
            )
            # Transcription starts a little before the model's first decision, so that
            # a turn that ends there already has its request under way.
            self.early_frames = max(1, min(early, min_frames - 2)) if early else 0
        quick = frames_in(quick_ms) if quick_ms > 0 else 0
        self.quick_frames = quick if quick < self.early_frames else 0
        self.pre_roll_frames = max(0, math.ceil(pre_roll_ms / 1000 / FRAME_S - 1e-9))
        self.max_frames = max(self.min_speech_frames + 1, int(max_length_s / FRAME_S))
        self.ignore_start_s = ignore_start_ms / 1000
        self.suppressed = False
        self.push_to_talk = False
        self.reset()

    @classmethod
    def from_settings(
        cls,
        vad: Any,
        detector: SpeechDetector | None = None,
        turn: Any = None,
        turn_model: TurnModel | None = None,
        background: bool = True,
    ) -> Endpointer:
        """Build from the ``[vad]`` settings section (engine, threshold, *_ms, max_length_s)
        and the ``[turn]`` one (see :func:`~voiceloop.audio.smartturn.turn_options`)."""
        turn_kw = turn_options(turn, turn_model, background)
        return cls(
            detector if detector is not None else make_detector(vad.engine),
            threshold=vad.threshold,
            min_speech_ms=vad.min_speech_ms,
            hangover_ms=vad.hangover_ms,
            pre_roll_ms=vad.pre_roll_ms,
            max_length_s=vad.max_length_s,
            ignore_start_ms=vad.ignore_start_ms,
            early_ms=getattr(vad, "early_transcribe_ms", 0),
            quick_ms=getattr(turn, "speculate_after_ms", 0) if turn is not None else 0,
            **turn_kw,
        )

    # -- state ----------------------------------------------------------------------

    def reset(self) -> None:
        """Drop any open utterance and history; the next frame starts a fresh stream."""
        reset = getattr(self.detector, "reset", None)
        if reset is not None:
            reset()
        ring_len = self.pre_roll_frames + 2 * self.min_speech_frames + 2
        ring_len += math.ceil(ONSET_KEEP_S / FRAME_S)  # a marked onset may lie further back
        self._ring: collections.deque[Judged] = collections.deque(maxlen=ring_len)
        self._open: list[Judged] | None = None  # frames of the open utterance
        self._started = False  # SpeechStart sent for the open utterance
        self._key_down = False
        self._silence = 0  # consecutive non-speech frames in the open utterance
        self._speech_end: float | None = None
        if self._gate is not None:
            self._gate.clear()
        self._onset: float | None = None  # see mark_onset
        self._ignore_until: float | None = None  # set from the next frame's time
        self._pending_ignore = True
        self._was_suppressed = self.suppressed

    @property
    def silence_frames(self) -> int:
        """Frames of silence since the last speech in the open utterance."""
        return self._silence

    @property
    def is_open(self) -> bool:
        """An utterance is being collected."""
        return self._open is not None

    def _pause_gate(self, speech_end: float | None = None) -> TurnGate | None:
        """The gate, if the turn model decides and ``speech_end`` is the current pause's
        (or None); else None."""
        current = speech_end is None or speech_end == self._speech_end
        return self._gate if current else None

    @property
    def _in_pause(self) -> bool:
        return self._open is not None and self._silence > 0

    def hold(self, speech_end: float | None = None) -> None:
        """The words so far look unfinished: the current pause waits up to the cap. With
        ``speech_end``, only if no speech came since (the pause is the one transcribed)."""
        if gate := self._pause_gate(speech_end):
            gate.held = gate.held or self._in_pause
            gate.awaiting = False

    def expect_words(self) -> None:
        """The current pause's transcript is on its way: a complete rating waits for it."""
        if self._in_pause and self._gate is not None:
            self._gate.awaiting = True

    def release(self, speech_end: float | None = None, *, question: bool = False) -> None:
        """The pause's words look finished (``speech_end``: of that pause, as in hold);
        with ``question`` (they end in "?") the pause closes at the hangover even if the
        model rates it incomplete."""
        if gate := self._pause_gate(speech_end):
            gate.awaiting = False
            gate.question = gate.question or (question and self._in_pause)

    def mark_onset(self, at: float) -> None:
        """A voice began at capture time ``at``: the next utterance starts there at the
        latest, if it opens within :data:`ONSET_KEEP_S` (see the module docstring)."""
        if self._open is None and not self.push_to_talk:
            self._onset = at

    def defer(self, speech_end: float | None = None) -> None:
        """A reply for the current pause is being prepared: a complete turn waits for
        :meth:`ready` (or the cap) before it closes."""
        if (gate := self._pause_gate(speech_end)) and self._in_pause:
            gate.deferred = True

    def ready(self, speech_end: float | None = None) -> list[EndpointEvent]:
        """The reply prepared for the pause is far enough along (or will not come): the
        turn closes now if it is complete; returns the events, like :meth:`feed`."""
        gate = self._pause_gate(speech_end)
        if gate is None or not gate.deferred:
            return []
        gate.deferred = False
        if self._open is None or self._silence == 0 or self.push_to_talk:
            return []
        reason = gate.verdict(self._silence)
        if reason is None:
            return []
        return self._close(reason, self._open[-1].frame.time + FRAME_S)

    def set_push_to_talk(self, enabled: bool) -> None:
        """Switch between hands-free and push-to-talk; drops an open utterance."""
        if enabled != self.push_to_talk:
            self.push_to_talk = enabled
            self._open = None
            self._started = False
            self._key_down = False
            self._ring.clear()

    def key(self, down: bool) -> list[EndpointEvent]:
        """Push-to-talk key down (open, with pre-roll) or up (close; dropped if no speech)."""
        if not self.push_to_talk or down == self._key_down:
            return []
        self._key_down = down
        if down:
            self._open = list(self._ring)[-self.pre_roll_frames :] if self.pre_roll_frames else []
            self._ring.clear()
            self._started = False
            self._silence = 0
            self._speech_end = None
            self._pending_ignore = True
            return []
        return self._close("key", self._open[-1].frame.time + FRAME_S if self._open else None)

    def toggle_key(self) -> list[EndpointEvent]:
        """Push-to-talk in toggle style: each press flips between open and closed."""
        return self.key(not self._key_down)

    # -- the stream -------------------------------------------------------------------

    def feed(self, frame: AudioFrame) -> list[EndpointEvent]:
        """Judge one frame; returns the events it caused (usually none)."""
        speech = self._judge(frame)
        judged = Judged(frame, speech)
        if self.push_to_talk:
            return self._feed_key(judged)
        if self._open is None:
            return self._feed_idle(judged)
        return self._feed_open(judged)

    def flush(self) -> list[EndpointEvent]:
        """End of input: close an open utterance (reason ``"end_of_input"``)."""
        if self._open is None:
            return []
        end = self._open[-1].frame.time + FRAME_S if self._open else None
        self._key_down = False
        return self._close("end_of_input", end)

    def _judge(self, frame: AudioFrame) -> bool:
        p = self.detector.probability(frame.pcm)
        if self._was_suppressed and not self.suppressed:
            self._pending_ignore = True
        self._was_suppressed = self.suppressed
        if self._pending_ignore:
            self._ignore_until = frame.time + self.ignore_start_s
            self._pending_ignore = False
        if self.suppressed:
            return False
        if self._ignore_until is not None and frame.time < self._ignore_until - 1e-9:
            return False
        return p >= self.threshold

    def _feed_idle(self, judged: Judged) -> list[EndpointEvent]:
        if self.suppressed:
            self._ring.clear()
            return []
        self._ring.append(judged)
        run = speech_run(self._ring)
        if run is None:
            return []
        first, count = run
        if count < self.min_speech_frames:
            return []
        ring = list(self._ring)
        begin = max(0, first - self.pre_roll_frames)
        onset, self._onset = self._onset, None
        if onset is not None and ring[first].frame.time - onset < ONSET_KEEP_S:
            before = [i for i, j in enumerate(ring) if j.frame.time <= onset]
            begin = min(begin, before[-1] if before else 0)
        self._open = ring[begin:]
        self._ring.clear()
        self._started = True
        self._silence = 0
        self._speech_end = judged.frame.time + FRAME_S
        return [SpeechStart(ring[first].frame.time)]

    def _feed_open(self, judged: Judged) -> list[EndpointEvent]:
        assert self._open is not None
        self._open.append(judged)
        end = judged.frame.time + FRAME_S
        if judged.speech:
            self._silence = 0
            self._speech_end = end
            if self._gate is not None:
                self._gate.clear()
        else:
            self._silence += 1
        if self._gate is not None:
            return self._feed_turn(self._gate, end)
        if self._silence >= self.hangover_frames:
            return self._close("silence", end)
        if len(self._open) >= self.max_frames:
            return self._split(end)
        return self._pause(end)

    def _pause(self, end: float) -> list[EndpointEvent]:
        """The pause reports: after ``quick_frames`` and after ``early_frames``."""
        assert self._open is not None
        silence = self._silence
        if self._speech_end is None or not silence:
            return []
        if silence not in (self.quick_frames, self.early_frames):
            return []
        quick = silence == self.quick_frames
        return [SpeechPaused(utterance_of(self._open, end, self._speech_end), quick)]

    def _feed_turn(self, gate: TurnGate, end: float) -> list[EndpointEvent]:
        """Open utterance with the end-of-turn model deciding when the pause is over."""
        assert self._open is not None
        silence = self._silence
        if silence >= gate.max_frames:
            return self._close("silence", end)
        if len(self._open) >= self.max_frames:
            return self._split(end)
        if silence:
            gate.rate(silence, self._turn_window)
        reason = gate.verdict(silence)
        if reason is not None:
            return self._close(reason, end)
        return self._pause(end)

    @property
    def turn_decisions(self) -> list[float]:
        """The end-of-turn model's probabilities so far (metrics and tests)."""
        return self._gate.decisions if self._gate is not None else []

    def _turn_window(self) -> np.ndarray:  # the last 8 s: what the end-of-turn model reads
        assert self._open is not None
        return np.concatenate([j.frame.pcm for j in self._open[-math.ceil(8.0 / FRAME_S) :]])

    def _feed_key(self, judged: Judged) -> list[EndpointEvent]:
        if self._open is None:
            if not self.suppressed:
                self._ring.append(judged)
            return []
        self._open.append(judged)
        events: list[EndpointEvent] = []
        if judged.speech:
            self._speech_end = judged.frame.time + FRAME_S
            if not self._started and speech_frames(self._open or ()) >= self.min_speech_frames:
                self._started = True
                first = next(j for j in self._open if j.speech)
                events.append(SpeechStart(first.frame.time))
        if len(self._open) >= self.max_frames:
            events += self._split(judged.frame.time + FRAME_S)
        return events

    def _split(self, end: float) -> list[EndpointEvent]:
        """Max length reached: close this utterance and go on with a new one at once."""
        # No new SpeechStart: the speech goes on, and the next piece may turn out to be
        # silence only (then it is dropped and a SpeechStart would be left unmatched).
        return self._close("max_length", end, keep_open=True)

    def _close(
        self, reason: str, end: float | None, *, keep_open: bool = False
    ) -> list[EndpointEvent]:
        frames = self._open or []
        speech = speech_frames(frames)
        self._open = [] if keep_open else None
        self._ring.clear()
        speech_end = self._speech_end
        self._speech_end = None
        self._silence = 0
        if self._gate is not None:
            self._gate.clear()
        self._started = keep_open and not self.push_to_talk
        # Hands-free, an utterance only opens after min_speech of speech, so the only
        # piece without enough is the tail after a max-length split: keep it if it holds
        # any speech at all (the last words). Push-to-talk needs min_speech in the piece.
        needed = self.min_speech_frames if self.push_to_talk else 1
        if not frames or speech < needed:
            return []
        return [UtteranceReady(utterance_of(frames, end, speech_end), reason)]
