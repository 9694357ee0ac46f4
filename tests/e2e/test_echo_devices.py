"""Open speakers on the bench: the room feeds what the app's speaker plays back into its
microphone, -8 dB and 45 ms after the speaker's own DAC stamps (see ``DuplexBench.room``).
With the default settings (echo cancellation on, barge-in off) a long reply plays to its
end and its echo, also the tail heard after the reply ends, never becomes a turn. The
echo is real: the app finds it in its own microphone, at the room's delay.

Speech to text is the local Whisper (tiny.en): the echo's transcript must be what a real
transcriber makes of the assistant's voice, not a canned answer."""

from __future__ import annotations

import pytest

from tests.e2e.bench import open_bench
from tests.e2e.room import (
    ECHO_DB,
    after_the_reply,
    ask,
    check_echo_delay,
    check_room,
    echo_figures,
    engine_for,
    on_a_sound_bench,
    pauses_timed,
    reply_start,
    statuses,
    transcripts,
)
from tests.e2e.test_interrupt_devices import PACING, REPLY
from voiceloop.engine import Engine
from voiceloop.events import Event, ReplyDone

pytestmark = [pytest.mark.audio, pytest.mark.slow, pytest.mark.usefixtures("spoken_replies")]


@pytest.mark.timeout(180)
async def test_with_default_settings_a_long_reply_plays_whole_and_its_echo_is_no_turn(
    pulse_bench, groq_env, tmp_path
):
    groq_env.chat_reply = REPLY
    groq_env.latency = PACING

    async def scenario() -> tuple[list[Event], Engine, float]:
        events: list[Event] = []
        engine = engine_for(events)
        assert engine.barge_in, "barge-in is on by default"
        engine._source.record = []
        bench = await open_bench(echo_db=ECHO_DB, room=engine._sink)
        paused_at = pauses_timed(engine._sink, bench)
        try:
            await after_the_reply(engine, events, await ask(engine, events, bench, tmp_path))
        finally:
            bench.close()
        print(f"turns: {statuses(events)}, transcripts: {transcripts(events)}, "
              f"bench overflows/reopened: {bench.overflows}/{bench.reopened}, room missed "
              f"{bench.room_missed:.1%}")  # fmt: skip
        start = reply_start(bench)
        if start is not None:
            print(f"paused at {[round(t - start, 2) for t in paused_at]} s into the reply")
        check_room(bench)
        delay, suppression = echo_figures(engine)
        guard = engine._guard
        print(f"echo delay {delay * 1000:.0f} ms, suppression {suppression:.1f} dB, "
              f"paused {guard.pauses}, echo held {guard.echoes}, resumed {guard.resumed}, "
              f"cuts {guard.cuts}")  # fmt: skip
        check_echo_delay(delay)
        return events, engine, suppression

    events, engine, suppression = await on_a_sound_bench(scenario)
    assert statuses(events) == ["answered"], f"it interrupted itself: {statuses(events)}"
    (done,) = [e for e in events if isinstance(e, ReplyDone)]
    assert not done.interrupted and done.heard == REPLY
    assert len(transcripts(events)) == 1, f"its echo became a turn: {transcripts(events)}"
    assert [x.user for x in engine.conversation._history] == [transcripts(events)[0]]
    # AEC3 takes 20+ dB off a steady room (benchmarks/duplex.py); the sound server's
    # stamps here drift by tens of ms, and 2-16 dB is what is left of it.
    assert suppression > 0.0
