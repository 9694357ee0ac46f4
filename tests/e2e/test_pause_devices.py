"""A spoken question with a pause in the middle, on the virtual microphone, is answered
once and as a whole: the pause neither ends the turn nor lets a reply to its first half
be played or stored."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from tests.e2e.bench import RATE, listening, open_bench, settings, speech, wait_for
from tests.fakegroq import Latency
from tests.fakegroq.audio import sound_regions
from voiceloop.engine import Engine
from voiceloop.events import Event, ReplyDone, TurnFinished, TurnMetrics
from voiceloop.session.engine import engine_from_settings

pytestmark = [pytest.mark.audio, pytest.mark.slow]

FIRST = "Could you tell me the quickest way to"
SECOND = "the station please?"
PAUSE_S = 0.6


def hearing(halves: list[tuple[str, float]], heard: list[str]):
    """A recognizer for the loopback server that hears what an upload holds: each stretch
    of sound in it is the half whose length it matches (one that matches neither is
    "mumble"), so an early request made at the pause gets the first half alone and only
    an upload holding both stretches gets the whole question."""

    def transcribe(pcm: np.ndarray, rate: int) -> str:
        words = []
        for region in sound_regions(pcm, rate):
            length = region.end - region.start
            text, spoken = min(halves, key=lambda h: abs(h[1] - length))
            words.append(text if abs(spoken - length) < 0.3 else "mumble")
        heard.append(" ".join(words))
        return heard[-1]

    return transcribe


ATTEMPTS = 4
MAX_STRETCH_S = 0.25
"""Less than ``hearing`` tolerates in the length of a half (0.3 s)."""


async def ask(question: np.ndarray, groq_env) -> tuple[list[Event], Engine, bool]:
    """Play ``question`` to a converse engine; (events, engine, whether the test bench
    played it cleanly: without gaps, that is, in its own length)."""
    events: list[Event] = []
    engine = engine_from_settings(
        settings(), mode="converse", on_event=events.append, input="mic.monitor", output="spk",
        recorder=None,
    )  # fmt: skip
    bench = await open_bench()
    try:
        run = asyncio.create_task(engine.run())
        await wait_for(events, listening, 15)
        await asyncio.sleep(0.3)
        reopened = bench.reopened
        asked = bench.play(question)
        await bench.played(asked)
        assert asked.start is not None and asked.end is not None
        # Late blocks on the way into ``mic`` stretch the question by the silence they
        # leave; a stream that had to open again leaves a longer one.
        stretch = asked.end - asked.start - len(question) / RATE
        clean = bench.reopened == reopened and stretch < MAX_STRETCH_S
        if not clean:
            print(f"the bench played the question {stretch * 1000:.0f} ms late; asking again")
        await wait_for(events, lambda e: isinstance(e, TurnFinished), 20)
        # Long enough for a second turn, had the pause split the question in two (the
        # longest silence waited is 2 s).
        await asyncio.sleep(3.0)
        engine.stop()
        await asyncio.wait_for(run, 10)
    finally:
        bench.close()
    return events, engine, clean


@pytest.mark.timeout(60 * ATTEMPTS)
async def test_a_question_with_a_pause_in_the_middle_is_answered_once_as_a_whole(
    pulse_bench, groq_env, tmp_path
):
    first, second = speech(FIRST, tmp_path), speech(SECOND, tmp_path)
    # The two halves must be told apart by length (see ``hearing``).
    assert abs(len(first) - len(second)) / RATE > 0.6
    question = np.concatenate([first, np.zeros(int(PAUSE_S * RATE), np.float32), second])
    heard: list[str] = []
    groq_env.transcribe = hearing(
        [(FIRST, len(first) / RATE), (SECOND.removesuffix("?"), len(second) / RATE)], heard
    )
    groq_env.latency = Latency(
        transcription=0.25, first_token=0.2, per_token=0.02, speech_base=0.15, speech_per_char=0.01
    )
    # On a loaded machine the bench itself can fail to play the question on time (a late
    # block is a gap in the speech the engine hears): only a clean playback is judged.
    for _ in range(ATTEMPTS):
        events, engine, clean = await ask(question, groq_env)
        if clean:
            break
        groq_env.requests.clear()
        heard.clear()
    else:
        pytest.fail(f"the test bench never played the question cleanly in {ATTEMPTS} tries")

    whole = f"{FIRST} {SECOND.removesuffix('?')}"
    assert [e.status for e in events if isinstance(e, TurnFinished)] == ["answered"]
    (done,) = [e for e in events if isinstance(e, ReplyDone)]
    # The loopback server's reply echoes the user text it was asked with.
    assert whole.lower() in done.text.lower(), (done.text, heard)
    history = engine.conversation.history
    assert len(history) == 1 and history[0].user == whole, history
    chats = groq_env.requests_to("chat")
    asked_with = [r.json["messages"][-1]["content"] for r in chats]
    committed = [r for r, text in zip(chats, asked_with, strict=True) if text == whole]
    assert len(committed) == 1, asked_with
    assert committed[0].abandoned is False
    # A reply asked for the first half alone (speculation at the pause) was closed before
    # its end, and nothing of it was spoken.
    for request, text in zip(chats, asked_with, strict=True):
        if request is not committed[0]:
            assert request.abandoned, f"a reply to {text!r} was streamed to its end"
    spoken = " ".join(r.json["input"] for r in groq_env.requests_to("speech"))
    assert whole.lower() in spoken.lower() and spoken.lower().count("could you") == 1, spoken
    (metrics,) = [e.metrics for e in events if isinstance(e, TurnMetrics)]
    print(
        f"heard {heard}, chat asked with {asked_with}, speculative "
        f"{metrics.get('speculative_requests')}, wasted {metrics.get('wasted_requests')}"
    )
