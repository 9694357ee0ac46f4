"""Speech over a reply that is most likely its echo is held without pausing the reply: at
the start of a reply, in a room whose echo the canceller found before, until it finds it
again (0.1-0.3 s), and through a single stretch of it that looks like more than the echo.
Before, each paused the reply for nothing: a stutter."""

from __future__ import annotations

import asyncio

from voiceloop.engine import interruptions
from voiceloop.engine.interruptions import InterruptionGuard


class Sink:
    def __init__(self) -> None:
        self.paused = False

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        self.paused = False


class Canceller:
    """What the guard asks the echo canceller: is the echo heard, is this stretch echo."""

    def __init__(self, *, found_before: bool = True) -> None:
        self.found = found_before  # an echo path was found in an earlier reply
        self.heard = False
        self.echo = False

    def echo_only(self, *args: object, **kwargs: object) -> bool:
        return self.heard and self.echo


def guard(sink: Sink, canceller: Canceller | None) -> InterruptionGuard:
    return InterruptionGuard(
        early=None,  # type: ignore[arg-type]  # no utterance closes in these tests
        cut=lambda: None,
        start_turn=lambda u, e: None,
        sink=lambda: sink,
        mode=lambda: "converse",
        echo_delay=lambda: 0.05 if canceller and (canceller.found or canceller.heard) else None,
        echo_only=canceller.echo_only if canceller else None,
        echo_heard=(lambda: canceller.heard) if canceller else (lambda: True),
    )


async def test_speech_before_the_echo_is_found_waits_and_its_echo_never_pauses() -> None:
    sink, canceller = Sink(), Canceller()
    g = guard(sink, canceller)
    g.spoken("Rivers carry water.")
    g.speech_started(at=10.0)
    await asyncio.sleep(0.25)
    assert g.holding and not sink.paused, "paused before the canceller could tell"
    canceller.heard = canceller.echo = True  # found: and it was the echo
    await asyncio.sleep(0.25)
    assert g.holding and not sink.paused and g.pauses == 0
    g.close()


async def test_speech_the_canceller_then_finds_is_no_echo_pauses_the_reply() -> None:
    sink, canceller = Sink(), Canceller()
    g = guard(sink, canceller)
    g.spoken("Rivers carry water.")
    g.speech_started(at=10.0)
    assert not sink.paused
    canceller.heard = True  # found, and this is not the echo: a voice
    await asyncio.sleep(0.25)
    assert sink.paused and g.pauses == 1
    g.close()


async def test_the_wait_lasts_only_the_replys_first_moments(monkeypatch) -> None:
    monkeypatch.setattr(interruptions, "PLACING_S", 0.15)
    sink, canceller = Sink(), Canceller()
    g = guard(sink, canceller)
    g.spoken("Rivers carry water.")
    g.speech_started(at=10.0)
    assert not sink.paused
    await asyncio.sleep(0.35)  # the echo not found again by then: speech is speech
    assert sink.paused
    g.close()
    # Later in a reply, with no echo heard, speech pauses it at once, as before.
    g = guard(sink := Sink(), Canceller())
    g.spoken("Rivers carry water.")
    await asyncio.sleep(0.2)
    g.speech_started(at=11.0)
    assert sink.paused
    g.close()


async def test_after_a_pause_that_lost_the_echo_its_return_does_not_pause_again() -> None:
    # Paused for 3 s (a slow transcript): the canceller no longer hears an echo when the
    # reply resumes, and the echo's first words came back as speech and paused it again.
    sink, canceller = Sink(), Canceller()
    canceller.heard = canceller.echo = True
    g = guard(sink, canceller)
    g.spoken("Rivers carry water.")
    await asyncio.sleep(interruptions.PLACING_S)  # well into the reply
    g.voice_heard(at=10.0)  # a cough: paused, and no speech follows
    assert sink.paused
    canceller.heard = False  # lost in the silence
    await asyncio.sleep(interruptions.CONFIRM_S + 0.1)
    assert not sink.paused and g.pauses == 1
    g.speech_started(at=11.0)
    assert g.holding and not sink.paused, "the resumed reply's echo paused it"
    canceller.heard = True  # found again: the echo alone
    await asyncio.sleep(0.3)
    assert not sink.paused and g.pauses == 1
    g.close()


async def test_where_no_echo_was_ever_found_speech_pauses_the_reply_at_once() -> None:
    # Headphones, or the session's first reply: "Stop" as the reply starts stops it.
    sink = Sink()
    g = guard(sink, Canceller(found_before=False))
    g.spoken("Rivers carry water.")
    g.speech_started(at=10.0)
    assert sink.paused
    g.close()


async def test_without_a_canceller_speech_pauses_the_reply_at_once() -> None:
    sink = Sink()
    g = guard(sink, None)
    g.spoken("Rivers carry water.")
    g.speech_started(at=10.0)
    assert sink.paused
    g.close()


class Verdicts:
    """The canceller's verdicts on the stretch just heard, one per check."""

    def __init__(self, *verdicts: bool) -> None:
        self.verdicts = list(verdicts)

    def __call__(self, *args: object, **kwargs: object) -> bool:
        return self.verdicts.pop(0) if len(self.verdicts) > 1 else self.verdicts[0]


def held(sink: Sink, verdicts: Verdicts) -> InterruptionGuard:
    g = InterruptionGuard(
        early=None,  # type: ignore[arg-type]  # no utterance closes in these tests
        cut=lambda: None,
        start_turn=lambda u, e: None,
        sink=lambda: sink,
        mode=lambda: "converse",
        echo_delay=lambda: 0.05,
        echo_only=verdicts,
    )
    g.spoken("Rivers carry water.")
    g.speech_started(at=10.0)
    assert g.holding and not sink.paused  # the first verdict: the echo
    return g


async def test_one_stretch_of_echo_that_looks_like_more_does_not_pause_the_reply() -> None:
    # A word's fading end (or a capture glitch) now and then correlates below the mark.
    sink = Sink()
    g = held(sink, Verdicts(True, True, False, True, True, False, True))
    await asyncio.sleep(0.75)
    assert not sink.paused and g.pauses == 0
    g.close()


async def test_speech_over_the_echo_that_goes_on_pauses_the_reply() -> None:
    sink = Sink()
    g = held(sink, Verdicts(True, True, False, False))
    await asyncio.sleep(0.2)
    assert not sink.paused
    await asyncio.sleep(0.6)
    assert sink.paused and g.pauses == 1
    g.close()
