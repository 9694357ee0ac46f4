"""Whether a pause ends the turn, when an end-of-turn model decides (see
:mod:`voiceloop.audio.vad`).

The endpointer counts the pause's silence; the gate keeps what is known of the pause: the
model's last rating, what the engine learnt of its words (held: they look unfinished;
awaiting: they are on their way; question: they end in "?") and of its reply (deferred:
one is being prepared), and says why the pause ends the turn, if it does.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from voiceloop.audio.smartturn import TurnJudge, TurnModel


class TurnGate:
    """The state of one pause under an end-of-turn model. Silences are in frames."""

    def __init__(
        self,
        model: TurnModel,
        *,
        threshold: float,
        min_frames: int,
        max_frames: int,
        hangover_frames: int,
        background: bool = False,
    ) -> None:
        self.max_frames = max_frames
        self.hangover_frames = hangover_frames
        points = [min_frames]
        if min_frames < hangover_frames < max_frames:
            points.append(hangover_frames)  # a second look, once the hangover is up
        self._judge = TurnJudge(
            model, threshold=threshold, points=tuple(points), background=background
        )
        self.clear()

    def clear(self) -> None:
        """Speech again, or the utterance closed: the next pause decides anew."""
        self.held = False
        """The pause waits for the cap: its transcript looks unfinished."""
        self.awaiting = False
        """The pause's transcript is on its way: a complete rating waits for it."""
        self.complete = False
        """The last rating of this pause said complete."""
        self.deferred = False
        """A reply is being prepared for this pause: it closes when that is ready."""
        self.question = False
        """The pause's words end in "?": it closes at the hangover."""
        self._judge.reset()

    @property
    def decisions(self) -> list[float]:
        """The model's probabilities so far (metrics and tests)."""
        return self._judge.decisions

    def rate(self, silence: int, window: Callable[[], np.ndarray]) -> None:
        """One more frame of silence: the model rates ``window()`` when a rating is due."""
        complete = self._judge.step(silence, window)
        if complete is not None:
            self.complete = complete

    def verdict(self, silence: int) -> str | None:
        """Why the pause ends the turn now (under the cap), or None to wait on."""
        if self.deferred:
            return None
        hangover = silence >= self.hangover_frames
        if self.complete and not self.held and (not self.awaiting or hangover):
            return "turn_complete"
        if hangover and self.question and not self.held:
            return "question"  # the words ask: a flat voice the model rates incomplete
        if hangover and not (self._judge.rated or self.held):
            return "silence"  # the model is late: the hangover decides
        return None
