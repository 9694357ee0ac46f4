"""Barge-in that forgives a cough: hold the reply, then cut it or resume it.

When the user starts speaking over a reply (barge-in on), the speaker is paused at once
(silence within one block) rather than flushed. What happens next depends on the speech:

* it goes on past ``window_s`` without a pause: it carries words — the reply is cut
  (flushed, its turn cancelled) and the utterance will be answered when it closes;
* it closes (or pauses) sooner: it is transcribed; empty text or only a backchannel
  ("mm-hmm", "yeah") resumes the reply from the sample where it stopped, and the
  utterance is not answered; real words cut the reply and are answered.

With ``behaviour="cut"`` a false interruption still ends the reply (but is not answered).
Sinks without ``pause()`` (files) are cut at once, as is everything when ``window_s`` is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from typing import Any

from voiceloop.engine.early import EarlyTranscript, EarlyTranscripts
from voiceloop.frames import Utterance

log = logging.getLogger(__name__)

BACKCHANNELS = frozenset(
    {"mm", "mmm", "hmm", "hm", "mhm", "mm-hmm", "mm-mm", "uh-huh", "uh", "huh", "um", "ah"}
    | {"oh", "yeah", "yep", "yes", "ok", "okay", "right", "sure", "aha"}
)


def is_backchannel(text: str) -> bool:
    """True for text with no words, or only acknowledgements ("Mm-hmm.", "yeah, okay")."""
    words = re.findall(r"[a-z]+(?:-[a-z]+)*", text.lower())
    return all(word in BACKCHANNELS for word in words)


class InterruptionGuard:
    """Decides whether speech over a reply interrupts it. See the module docstring.

    ``cut()`` flushes the speaker and cancels the speaking turn; ``start_turn(utterance,
    early)`` answers an utterance (with its transcript already made)."""

    def __init__(
        self,
        early: EarlyTranscripts,
        cut: Callable[[], object],
        start_turn: Callable[[Utterance, EarlyTranscript | None], None],
        sink: Callable[[], Any],
        mode: Callable[[], Any],
    ) -> None:
        self._sink = sink
        self._early = early
        self._cut = cut
        self._start_turn = start_turn
        self._mode = mode
        self.window_s = 1.0
        self.behaviour = "resume"
        self.holding = False
        self._paused_speech = False
        self._timer: asyncio.TimerHandle | None = None
        self._check: asyncio.Task[None] | None = None
        self.resumed = 0
        self.cuts = 0

    def configure(self, window_s: float, behaviour: str) -> None:
        """How long to hold a reply, and whether a false interruption resumes or cuts it."""
        self.window_s, self.behaviour = window_s, behaviour

    def speech_started(self) -> None:
        """The user started speaking while a reply plays."""
        if self.holding:
            self._paused_speech = False
            return
        pause = getattr(self._sink(), "pause", None)
        if self.window_s <= 0 or pause is None:
            self._cut_now()
            return
        pause()
        self.holding = True
        self._paused_speech = False
        self._timer = asyncio.get_running_loop().call_later(self.window_s, self._window_over)

    def speech_paused(self) -> None:
        """The user went quiet: let the utterance close before deciding."""
        if self.holding:
            self._paused_speech = True

    def utterance_ready(self, utterance: Utterance) -> bool:
        """The utterance closed; True when this guard takes it over (it is holding)."""
        if not self.holding:
            return False
        self._cancel_timer()
        early = self._early.take(utterance)
        if early is None:
            self._early.start(utterance, self._mode())
            early = self._early.take(utterance)
        self._check = asyncio.create_task(self._decide(utterance, early), name="barge-in-check")
        return True

    def reset(self) -> None:
        """The reply ended or was interrupted otherwise: nothing left to hold."""
        self._cancel_timer()
        if self.holding:
            self._resume()
        if self._check is not None:
            self._check.cancel()
            self._check = None

    async def _decide(self, utterance: Utterance, early: EarlyTranscript | None) -> None:
        text: str | None = None
        if early is not None and early.task is not None:
            with contextlib.suppress(Exception):
                text = (await asyncio.shield(early.task)).text
        if text is not None and is_backchannel(text):
            log.debug("false interruption (%r): %s", text, self.behaviour)
            if early is not None:
                early.cancel()
            if self.behaviour == "cut":
                self._cut_now()
            else:
                self.resumed += 1
                self._resume()
            return
        # Words (or no transcript to tell): the user meant it.
        self._cut_now()
        self._start_turn(utterance, early)

    def _window_over(self) -> None:
        self._timer = None
        if self.holding and not self._paused_speech:
            self._cut_now()

    def _cut_now(self) -> None:
        self._cancel_timer()
        self.cuts += 1
        if self.holding:
            self.holding = False
        self._cut()
        sink = self._sink()
        resume = getattr(sink, "resume", None)
        if resume is not None:
            resume()  # flushed: nothing queued, later replies must play

    def _resume(self) -> None:
        self.holding = False
        resume = getattr(self._sink(), "resume", None)
        if resume is not None:
            resume()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
