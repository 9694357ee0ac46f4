"""The reply started during the pause, before the turn is confirmed.

When the transcript asked at a pause is back, the words look finished and no turn is
running, the chat request goes out at once; its text deltas are kept, not shown, spoken
or stored. When the utterance closes with no speech since that pause and the final
transcript is the one the request was made for, the turn streams the kept deltas (and
the rest as they come) as if it had asked itself; the request's failure becomes the
turn's. When the speaker goes on, the request is closed at once and counted as wasted.

The first spoken chunk is synthesized during the pause too: as soon as the kept deltas
make one (cut as the turn would cut it), its speech request goes out and the audio is
buffered (:mod:`voiceloop.engine.presynth`); a committed turn plays it at once, a dropped
one closes it unheard. A turn that commits before the first chunk is known synthesizes it
itself.

The turn need not be confirmed long before its reply could play: while a speculative
reply is being prepared, the endpointer defers a complete turn's close (``defer``) until
the reply is *ready* — its first chunk is known and being synthesized (or, with nothing
to synthesize it, its first words are in), or the request is over — and then closes it
at once (``ready``). A speaker who goes on within that time keeps one utterance, at no
cost to the time to first audio: the first synthesis is under way either way, and the
turn takes over in time to synthesize the next chunks as it always did.

Each request counts against the user's rate limit: none is made while the responder
reports fewer than ``min_remaining`` requests left (``x-ratelimit-remaining-requests``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from voiceloop.engine.presynth import Presynthesis
from voiceloop.frames import Transcript, Utterance
from voiceloop.stages import StageReport, set_current_report
from voiceloop.text.unfinished import looks_unfinished

if TYPE_CHECKING:
    from voiceloop.engine.services import SpeechEndpointer, Splitter, TurnServices
    from voiceloop.stages import Synthesizer

log = logging.getLogger(__name__)

_END = object()


class SpeculativeReply:
    """One chat request made at a pause; its deltas wait in a queue for the turn."""

    def __init__(
        self,
        utterance: Utterance,
        user_text: str,
        deltas: AsyncIterator[str],
        *,
        language: str | None = None,
        speech: tuple[Synthesizer, Splitter] | None = None,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.utterance = utterance
        self.on_ready = on_ready
        """Called once, when the reply is far enough along to confirm its turn (see the
        module's docstring)."""
        self.user_text = user_text
        self.language = language  # the reply's, as its chunks were cut
        self.report = StageReport()
        self.presynthesis: Presynthesis | None = None
        self.committed = False  # the turn has it: the first chunk is the turn's to speak
        self._speech = speech
        self._deltas = deltas
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._error: BaseException | None = None
        self.task = asyncio.create_task(self._pump(), name="speculative-reply")

    @property
    def requests(self) -> int:
        """Requests made for it: the chat request, and the first chunk's synthesis."""
        return 1 + (self.presynthesis is not None)

    async def _pump(self) -> None:
        set_current_report(self.report)  # usage lands in this request's own report
        try:
            async for delta in self._deltas:
                self._queue.put_nowait(delta)
                if delta:
                    self._first_chunk(delta)
                    if self._speech is None:
                        self._ready()  # the first chunk is being synthesized, or nothing is
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._error = exc
        else:
            self._first_chunk(None)
        finally:
            self._queue.put_nowait(_END)
            self._ready()
            aclose = getattr(self._deltas, "aclose", None)
            if aclose is not None:
                try:
                    await aclose()
                except Exception:
                    log.debug("closing a speculative reply failed", exc_info=True)

    async def stream(self) -> AsyncIterator[str]:
        """The reply's deltas, kept ones first; raises what the request raised."""
        try:
            while True:
                item = await self._queue.get()
                if item is _END:
                    if self._error is not None:
                        raise self._error
                    return
                yield item
        finally:
            self.cancel()

    def _first_chunk(self, delta: str | None) -> None:
        """Feed the splitter (None: the stream ended); synthesize its first chunk."""
        if self._speech is None or self.committed:
            return
        synthesizer, splitter = self._speech
        chunks = splitter.flush() if delta is None else splitter.push(delta)
        if chunks:
            self._speech = None
            self.presynthesis = Presynthesis(synthesizer, chunks[0])
            self._ready()

    def _ready(self) -> None:
        on_ready, self.on_ready = self.on_ready, None
        if on_ready is not None and not self.committed:
            on_ready()

    def cancel(self) -> None:
        """Close the request (a no-op once it has finished)."""
        self.task.cancel()

    def drop(self) -> None:
        """Close the request and any synthesis of its first chunk."""
        self.on_ready = None
        self.cancel()
        if self.presynthesis is not None:
            self.presynthesis.cancel()


class Speculator:
    """At most one speculative reply at a time, with per-turn counts of what it cost."""

    def __init__(self, services: TurnServices) -> None:
        self._services = services
        self.enabled = services.options.speculate
        self.min_remaining = services.options.speculate_min_requests
        self.pending: SpeculativeReply | None = None
        self.throttled = False  # the last chance was passed up for the rate limit
        self.on_endpoint: Callable[[Any], None] | None = None
        """Gets the endpointer's events when a pending reply being ready closes the turn."""
        self._endpointer: Any = None
        self._requests = 0
        self._wasted = 0

    def paused(
        self,
        endpointer: SpeechEndpointer | None,
        utterance: Utterance,
        transcript: Transcript,
        mode: str,
        busy: bool,
    ) -> None:
        """The transcript of a pause is back: words that look unfinished keep the pause
        open (the endpointer's ``hold``); finished ones let it end (``release``; one ending in
        "?" at the hangover at the latest) and, in conversation, get a reply."""
        unfinished = looks_unfinished(transcript.text, transcript.language)
        if unfinished:
            hold = getattr(endpointer, "hold", None)
            if hold is not None:
                hold(utterance.speech_end)
        else:
            release = getattr(endpointer, "release", None)
            if release is not None:
                # words ending in "?" end the turn at the hangover whatever the voice sounds like
                question = transcript.text.rstrip().endswith("?")
                release(utterance.speech_end, question=question)
        if not unfinished and mode == "converse" and self.start(utterance, transcript, busy=busy):
            defer = getattr(endpointer, "defer", None)
            if defer is not None:
                self._endpointer = endpointer
                defer(utterance.speech_end)

    def asked(self, endpointer: SpeechEndpointer | None) -> None:
        """The pause's transcript was asked for: the endpointer waits for its words before
        a voice that only sounds finished ends the turn (``expect_words``)."""
        expect = getattr(endpointer, "expect_words", None)
        if expect is not None:
            expect()

    def watch(self, endpointer: SpeechEndpointer | None) -> None:
        """After each frame: speech back inside the open utterance drops the reply at once."""
        if self.pending is None:
            return
        silence = getattr(endpointer, "silence_frames", None)
        if silence == 0 and getattr(endpointer, "is_open", False):
            self.cancel()

    def start(self, utterance: Utterance, transcript: Transcript, *, busy: bool) -> bool:
        """The transcript of a pause is back: ask for the reply if the turn looks done."""
        text = transcript.text.strip()
        responder = self._services.stages.responder
        if not self.enabled or busy or responder is None or not text:
            return False
        if looks_unfinished(text, transcript.language):
            return False
        remaining = getattr(getattr(responder, "rate_limits", None), "remaining_requests", None)
        self.throttled = remaining is not None and remaining < self.min_remaining
        if self.throttled:
            return False
        self.cancel()
        try:
            deltas = responder.respond(self._services.conversation.messages(text))
        except Exception:
            log.debug("a speculative reply could not start", exc_info=True)
            return False
        language = self._services.options.language or transcript.language
        self.pending = spec = SpeculativeReply(
            utterance, text, deltas, language=language, speech=self._speech(language)
        )
        spec.on_ready = lambda: self._ready(spec)
        self._requests += 1
        return True

    def _speech(self, language: str | None) -> tuple[Synthesizer, Splitter] | None:
        """What synthesizes the first chunk during the pause, unless the speech server's
        rate limit runs low too."""
        synthesizer = self._services.stages.synthesizer
        if synthesizer is None:
            return None
        limits = getattr(synthesizer, "rate_limits", None)
        remaining = getattr(limits, "remaining_requests", None)
        if remaining is not None and remaining < self.min_remaining:
            return None
        return synthesizer, self._services.splitter_factory(language=language)

    def _ready(self, spec: SpeculativeReply) -> None:
        """The pending reply is far enough along: the endpointer closes a complete turn."""
        ready = getattr(self._endpointer, "ready", None)
        if spec is not self.pending or ready is None:
            return
        for event in ready(spec.utterance.speech_end):
            if self.on_endpoint is not None:
                self.on_endpoint(event)

    def take(self, utterance: Utterance) -> SpeculativeReply | None:
        """The reply for ``utterance`` if no speech came after its pause; else it is
        dropped. The caller checks the final transcript with :meth:`matches`."""
        spec, self.pending = self.pending, None
        if spec is None:
            return None
        paused = spec.utterance
        if paused.start == utterance.start and paused.speech_end == utterance.speech_end:
            spec.committed = True
            return spec
        self._drop(spec)
        return None

    def matches(self, spec: SpeculativeReply, user_text: str) -> bool:
        """Whether the turn can use ``spec``; one it cannot is dropped."""
        if spec.user_text == user_text:
            self._requests += spec.requests - 1
            return True
        self._drop(spec)
        return False

    def cancel(self) -> None:
        """The speaker went on: drop the pending reply at once."""
        if self.pending is not None:
            self._drop(self.pending)
            self.pending = None

    def counts(self) -> dict[str, int]:
        """``speculative_requests`` and ``wasted_requests`` since the last call."""
        out = {"speculative_requests": self._requests, "wasted_requests": self._wasted}
        self._requests = self._wasted = 0
        return out

    def _drop(self, spec: SpeculativeReply) -> None:
        spec.drop()
        self._requests += spec.requests - 1
        self._wasted += spec.requests
