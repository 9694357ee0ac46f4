"""Barge-in that forgives a cough: hold the reply, then cut it or resume it.

When the user starts speaking over a reply (barge-in on), the speaker is paused at once
(silence within one block) rather than flushed. What happens next depends on the speech:

* it goes on past ``window_s`` without a pause: it carries words — the reply is cut
  (flushed, its turn cancelled) and the utterance will be answered when it closes;
* it closes (or pauses) sooner: it is transcribed; empty text or only a backchannel
  ("mm-hmm", "yeah") resumes the reply from the sample where it stopped, and the
  utterance is not answered; real words cut the reply and are answered;
* its words are those of the reply just spoken (:func:`is_echo`): it was the speaker's
  own voice that got past the echo canceller — the reply resumes, the text is neither
  answered nor kept, whatever ``behaviour`` says.

Speech that starts within :data:`ECHO_TAIL_S` of the reply's end (its last words may
still be on their way back from the room) is checked the same way: echo is dropped,
anything else is answered as usual.

Sooner still, the echo canceller reports *double talk* (``AudioFrame.double_talk``: the raw
microphone louder than the speaker's echo can be) a frame or two into a voice, before the
voice detector has decided: the reply pauses then (:meth:`InterruptionGuard.voice_heard`),
and resumes unless speech starts within :data:`CONFIRM_S` (a knock, a cough).

With ``behaviour="cut"`` a false interruption still ends the reply (but is not answered).
Sinks without ``pause()`` (files) are cut at once, as is everything when ``window_s`` is 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from voiceloop.engine.early import EarlyTranscript, EarlyTranscripts
from voiceloop.engine.overheard import BACKCHANNEL_HINT, is_backchannel, is_echo, words
from voiceloop.frames import Utterance

log = logging.getLogger(__name__)

ECHO_TAIL_S = 1.5
PLACE_TRIES, PLACE_STEP_S = 10, 0.1  # how long a decision waits for the echo path
GARBLED_WORDS, MOSTLY_ECHO = 3, 0.35  # see _decide
LOOK_BACK_S = 0.3  # before the first speech frame: the echo check's stretch starts there
RECHECK_S = 0.1  # speech held without a pause is checked again this often
DOUBTS = 2
"""Rechecks in a row that must find more than the echo before speech held as echo pauses
the reply: one 0.3 s stretch of the echo alone now and then correlates below the mark (a
word's fading end, a capture glitch on a loaded machine), and paused it for nothing. A
voice louder than the echo pauses it sooner, as double talk."""
CONFIRM_S = 0.5  # double talk with no speech start this soon was no voice: resume
ONSET_BEFORE_S = 0.25
"""Where a voice began, before the frame that made it double talk: the two louder frames
before that one, and a quieter start (an "s", an "f") that was no louder than the echo."""
SPOKEN_KEEP_S = 12.0  # pieces started this long ago may still be echoing (long sentences)
PLACING_S = 1.0
"""At a reply's start, and when it resumes after a pause long enough to lose the echo, the
canceller needs a moment (0.1-0.3 s, more on a loaded machine) to find the echo again;
speech in that time, in a room where it found one before, is held without a pause until
it has."""


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
        echo_delay: Callable[[], float | None] = lambda: None,
        echo_only: Callable[..., bool] | None = None,
        mark_onset: Callable[[float], None] = lambda at: None,
        echo_heard: Callable[[], bool] = lambda: True,
    ) -> None:
        self._mark_onset = mark_onset
        self._echo_heard = echo_heard
        self._sounding_since: float | None = None  # the reply's first piece, or last resume
        self._doubts = 0  # rechecks in a row of speech held as echo that found more
        self._echo_delay = echo_delay
        self._echo_only = echo_only
        self._speech_at: float | None = None  # capture time the held speech started
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
        self.pauses = 0
        self.resumed = 0
        self.echoes = 0
        self.cuts = 0
        self._spoken: deque[tuple[float, str]] = deque()
        self._ended_at: float | None = None  # when the last reply stopped playing
        self._tail = False  # holding speech that started after the reply ended
        self._quiet = False  # holding speech over the reply without pausing it (its echo)
        self._unconfirmed: asyncio.TimerHandle | None = None  # paused on double talk alone
        self.double_talks = 0

    def spoken(self, text: str) -> None:
        """A piece of the reply started playing."""
        now = time.monotonic()
        if self._sounding_since is None:
            self._sounding_since = now
        self._spoken.append((now, text))
        while self._spoken and now - self._spoken[0][0] > SPOKEN_KEEP_S:
            self._spoken.popleft()

    def recent_reply(self) -> list[str]:
        """The pieces of the reply played lately (the current one included)."""
        return [text for _, text in self._spoken]

    def configure(self, window_s: float, behaviour: str) -> None:
        """How long to hold a reply, and whether a false interruption resumes or cuts it."""
        self.window_s, self.behaviour = window_s, behaviour

    def _placing(self) -> bool:
        """True early in a reply while the canceller has not found its echo again, in a
        room where it found one before: speech then is most likely that echo, which it
        cannot tell yet. (With no echo found yet, headphones say, speech is speech.)"""
        started = self._sounding_since
        return (
            self._echo_only is not None
            and started is not None
            and time.monotonic() - started < PLACING_S
            and self._echo_delay() is not None
            and not self._echo_heard()
        )

    def in_echo_tail(self) -> bool:
        """True just after a reply ended, while its echo may still come back."""
        ended = self._ended_at
        return bool(self._spoken) and ended is not None and time.monotonic() - ended < ECHO_TAIL_S

    def voice_heard(self, at: float) -> None:
        """Double talk at capture time ``at`` while a reply plays: pause it now, and have
        the next utterance start where the voice began; the voice detector confirms."""
        if self._unconfirmed is not None or self.window_s <= 0:
            return
        if self.holding:
            if self._quiet:  # speech held as the reply's echo, and now a voice over it
                log.debug("double talk over speech held as echo: the reply pauses")
                self._cancel_timer()
                self.double_talks += 1
                self._pause()
            return
        pause = getattr(self._sink(), "pause", None)
        if pause is None:
            return
        log.debug("double talk: the reply pauses")
        pause()
        self.pauses += 1
        self.double_talks += 1
        self._mark_onset(at - ONSET_BEFORE_S)  # the first onset: later ones are the same voice
        self._unconfirmed = asyncio.get_running_loop().call_later(CONFIRM_S, self._no_voice)

    def _no_voice(self) -> None:
        self._unconfirmed = None
        if not self.holding:
            log.debug("double talk with no speech after it: the reply resumes")
            self._resume()

    def _confirmed(self) -> bool:
        """Drop the double-talk hold; True when the reply was paused by it."""
        if self._unconfirmed is None:
            return False
        self._unconfirmed.cancel()
        self._unconfirmed = None
        return True

    def speech_started(self, *, speaking: bool = True, at: float | None = None) -> None:
        """The user started speaking (at capture time ``at``) while a reply plays, or in
        its echo's tail."""
        paused = self._confirmed()
        if self.holding:
            self._paused_speech = False
            return
        self._speech_at = at
        if not speaking:
            self.holding = self._tail = True
            self._paused_speech = False
            self._timer = asyncio.get_running_loop().call_later(self.window_s, self._window_over)
            return
        if (
            at is not None
            and not paused
            and (self._placing() or self._heard_echo_only(at - LOOK_BACK_S))
        ):
            # By the canceller's own measure this is the speaker's sound (or it cannot
            # measure yet): no pause (no stutter) unless it turns into something else; its
            # utterance is still checked.
            self.holding = self._quiet = True
            self._paused_speech = False
            self._doubts = 0
            self._timer = asyncio.get_running_loop().call_later(RECHECK_S, self._recheck)
            return
        log.debug("speech over the reply, not the echo alone: it pauses")
        self._pause(counted=paused)

    def _pause(self, *, counted: bool = False) -> None:
        pause = getattr(self._sink(), "pause", None)
        if self.window_s <= 0 or pause is None:
            self._cut_now()
            return
        pause()
        self.pauses += 0 if counted else 1
        self._quiet = False
        self.holding = True
        self._paused_speech = False
        # The speaker's last sound before the pause is still coming back from the room:
        # the window starts once it is in.
        window = self.window_s + (self._echo_delay() or 0.0)
        self._timer = asyncio.get_running_loop().call_later(window, self._window_over)

    def _recheck(self) -> None:
        self._timer = None
        if not (self.holding and self._quiet):
            return
        # The stretch just heard: a voice starting over a long echo must not drown in it.
        if self._placing() or self._heard_echo_only(self._speech_at, last_s=LOOK_BACK_S):
            self._doubts = 0
        else:
            self._doubts += 1
        if self._doubts < DOUBTS:
            self._timer = asyncio.get_running_loop().call_later(RECHECK_S, self._recheck)
        else:
            log.debug("speech held as echo is no longer the echo alone: the reply pauses")
            self._pause()  # someone speaks over the echo now

    def hinted(self, utterance: Utterance) -> Utterance:
        """``utterance`` to transcribe: over a held reply, with :data:`BACKCHANNEL_HINT`."""
        if self.holding and not self._tail:
            return dataclasses.replace(utterance, hint=BACKCHANNEL_HINT)
        return utterance

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
            self._early.start(self.hinted(utterance), self._mode())
            early = self._early.take(utterance)
        self._check = asyncio.create_task(self._decide(utterance, early), name="barge-in-check")
        return True

    def reset(self) -> None:
        """The reply ended or was interrupted otherwise: nothing left to hold."""
        self._ended_at = time.monotonic()
        self._sounding_since = None
        if self._confirmed() and not self.holding:
            self._resume()
        if self._quiet:  # the reply ended under speech held without a pause
            self._cancel_timer()
            self._quiet, self._tail = False, True
        if self._tail:
            return  # that hold is for speech after the reply: it decides on its own
        self._cancel_timer()
        if self.holding:
            self._resume()
        if self._check is not None:
            self._check.cancel()
            self._check = None

    def close(self) -> None:
        """The engine stops: drop whatever is held."""
        self._tail = False
        self.reset()

    def _heard_echo_only(
        self,
        start: float | None,
        end: float | None = None,
        threshold: float = 0.0,
        *,
        last_s: float | None = None,
    ) -> bool:
        if self._echo_only is None or start is None:
            return False
        return self._echo_only(start, end, threshold, last_s=last_s)

    async def _decide(self, utterance: Utterance, early: EarlyTranscript | None) -> None:
        text: str | None = None
        speech_end = utterance.speech_end if utterance.speech_end is not None else utterance.end
        if self._echo_only is not None:
            # The first words of a session's first reply come back before the echo path is
            # placed: give the canceller's detector a moment (the reply stays paused).
            for _ in range(PLACE_TRIES):
                if self._echo_delay() is not None:
                    break
                await asyncio.sleep(PLACE_STEP_S)
        if self._heard_echo_only(utterance.start, speech_end):
            text = ""  # the echo canceller's own measure: nothing but the speaker's sound
            echo = True
        elif early is not None and early.task is not None:
            with contextlib.suppress(Exception):
                text = (await asyncio.shield(early.task)).text
            echo = text is not None and is_echo(text, self.recent_reply())
        else:
            echo = False
        if not echo and (text is None or 0 < len(words(text)) <= GARBLED_WORDS):
            # A few words no reply had (or no transcript), over sound mostly the
            # speaker's: what a transcriber makes of the echo's remains.
            echo = self._heard_echo_only(utterance.start, speech_end, MOSTLY_ECHO)
            text = "" if echo else text
        log.debug("speech over the reply: %r, echo: %s", text, echo)
        if self._tail:
            self.holding = self._tail = False
            if echo:
                log.debug("the reply's echo after its end (%r): dropped", text)
                self.echoes += 1
                if early is not None:
                    early.cancel()
            else:
                self._start_turn(utterance, early)
            return
        if text is not None and (echo or is_backchannel(text)):
            log.debug("false interruption (%r, echo: %s): %s", text, echo, self.behaviour)
            if early is not None:
                early.cancel()
            if echo:
                self.echoes += 1
                self._resume()
            elif self.behaviour == "cut":
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
        if self._tail:  # nothing plays: long speech is the user's, answered when it closes
            if not self._paused_speech:
                self.holding = self._tail = False
            return
        if self.holding and not self._paused_speech:
            unplaced = self._echo_only is not None and self._echo_delay() is None
            if unplaced or self._heard_echo_only(self._speech_at):
                # Still the echo, or an echo not (yet) placed: the transcript will tell;
                # the reply stays paused meanwhile.
                self._timer = asyncio.get_running_loop().call_later(0.25, self._window_over)
                return
            self._cut_now()

    def _cut_now(self) -> None:
        self._cancel_timer()
        self.cuts += 1
        self.holding = self._quiet = False
        self._cut()
        sink = self._sink()
        resume = getattr(sink, "resume", None)
        if resume is not None:
            resume()  # flushed: nothing queued, later replies must play

    def _resume(self) -> None:
        self.holding = self._quiet = False
        resume = getattr(self._sink(), "resume", None)
        if resume is not None:
            if self._sounding_since is not None:  # a reply plays on: its echo is back
                self._sounding_since = time.monotonic()
            resume()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
