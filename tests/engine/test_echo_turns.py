"""The assistant's own voice, transcribed over its reply or just after it, is no user turn."""

from __future__ import annotations

from tests.engine.fakes import MemorySource, Say, Silence, Until
from tests.engine.test_bargein import REPLY, SENTENCES
from tests.engine.test_false_interruptions import harness
from voiceloop.engine.interruptions import MOSTLY_ECHO
from voiceloop.engine.overheard import is_echo
from voiceloop.events import ReplyDone, TranscriptReady, TurnFinished


def users(h) -> list[str]:
    return [x.user for x in h.engine.conversation._history]


async def test_the_replys_own_words_over_it_resume_it_and_are_neither_answered_nor_kept():
    h = harness(["tell me about the sky", "the sky is"], [Say(6), Silence(5)])
    await h.run()
    assert len(h.sink.pauses) == 1 and len(h.sink.resumes) == 1 and h.sink.flushes == []
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]
    done = h.events.of(ReplyDone)[0]
    assert not done.interrupted and done.heard == REPLY
    assert len(h.responder.requests) == 1
    assert users(h) == ["tell me about the sky"]
    assert [e.text for e in h.events.of(TranscriptReady)] == ["tell me about the sky"]
    assert h.engine._guard.echoes == 1


async def test_echo_resumes_even_when_false_interruptions_cut():
    h = harness(
        ["tell me about the sky", "The sky is blue. Light"],
        [Say(6), Silence(5)],
        false_interruption="cut",
    )
    await h.run()
    assert h.sink.flushes == [] and len(h.sink.resumes) == 1
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]


async def test_the_user_repeating_a_word_of_the_reply_among_others_still_cuts_it():
    h = harness(["tell me about the sky", "why is the sky green"], [Say(6), Silence(5)])
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["interrupted", "answered"]
    assert h.responder.requests[1][-1].content == "why is the sky green"


def _script_after_the_reply(texts: list[str]):
    h = None

    def replied() -> bool:
        return h is not None and h.events.count(ReplyDone) >= 1

    h = harness(texts, [])
    h.source.script[3:] = [Until(replied), Say(6), Silence(30)]
    return h


async def test_the_replys_echo_just_after_its_end_is_dropped():
    h = _script_after_the_reply(["tell me about the sky", "short waves scatter most"])
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]
    assert len(h.responder.requests) == 1 and users(h) == ["tell me about the sky"]


async def test_a_question_just_after_the_reply_is_answered():
    h = _script_after_the_reply(["tell me about the sky", "and the sea"])
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered", "answered"]
    assert users(h) == ["tell me about the sky", "and the sea"]


def test_is_echo() -> None:
    spoken = SENTENCES
    for text in ["The sky is blue.", "sky is blue light", "Short waves", "Light scatters in air"]:
        assert is_echo(text, spoken), text
    assert is_echo("Sky?", spoken)  # a word of the reply alone: its echo, most likely
    for text in ["", "Stop.", "what about the sea", "why is the sky green", "is it"]:
        assert not is_echo(text, spoken), text
    assert not is_echo("the sky is blue", [])


class _Path:
    delay_s = 0.05


def _mostly_echo(self, start, end=None, threshold=0.0, **_):
    """The canceller's measure: sound mostly the speaker's, never the echo alone."""
    return threshold == MOSTLY_ECHO


async def test_a_few_strange_words_over_sound_mostly_echo_are_its_remains(monkeypatch):
    monkeypatch.setattr(MemorySource, "path", _Path(), raising=False)
    monkeypatch.setattr(MemorySource, "echo_only", _mostly_echo, raising=False)
    h = harness(["tell me about the sky", "Let's see."], [Say(6), Silence(5)])
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]
    assert len(h.sink.pauses) == 1 and len(h.sink.resumes) == 1
    assert users(h) == ["tell me about the sky"]


async def test_a_request_over_sound_mostly_echo_still_cuts_the_reply(monkeypatch):
    monkeypatch.setattr(MemorySource, "path", _Path(), raising=False)
    monkeypatch.setattr(MemorySource, "echo_only", _mostly_echo, raising=False)
    h = harness(["tell me about the sky", "stop, what about the sea"], [Say(6), Silence(5)])
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["interrupted", "answered"]
