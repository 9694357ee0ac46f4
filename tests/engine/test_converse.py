"""Converse turns: sentence-streamed speech, prefetch, recorder, metrics, context."""

from __future__ import annotations

import asyncio
import json

from tests.engine.conftest import build
from tests.engine.fakes import (
    FakeResponder,
    FakeSink,
    FakeSynthesizer,
    FakeTranscriber,
    Say,
    Silence,
    make_settings,
)
from voiceloop.engine import metrics as m
from voiceloop.events import (
    ReplyDelta,
    ReplyDone,
    SpeakingChunk,
    StateChanged,
    TranscriptReady,
    TurnFinished,
    TurnMetrics,
    TurnStarted,
)

SENTENCES = [
    "The sky is blue.",
    "Light scatters in the air.",
    "Short waves scatter most.",
    "So blue wins.",
    "At sunset the path is longer.",
]
REPLY = " ".join(SENTENCES)


def one_utterance() -> list:
    return [Silence(3), Say(6), Silence(5)]


async def test_reply_is_spoken_sentence_by_sentence_before_the_reply_ends():
    responder = FakeResponder(REPLY, first_token=0.05, delay=0.02, chunk=5)
    h = build(one_utterance(), responder=responder, sink=FakeSink(speed=50.0))
    await h.run()

    assert [p.text for p in h.sink.played] == SENTENCES
    first_queued = h.sink.queued[0][1]
    assert responder.finished_at is not None
    # The reply streams for ~0.5 s; the first sentence is queued after ~4 deltas.
    assert first_queued < responder.finished_at - 0.2
    done = h.events.of(ReplyDone)[0]
    assert done.text == REPLY and done.heard == REPLY and not done.interrupted
    assert "".join(e.text for e in h.events.of(ReplyDelta)) == REPLY
    assert [e.text for e in h.events.of(SpeakingChunk)] == SENTENCES
    assert h.events.of(TurnFinished)[0].status == "answered"
    assert h.engine.state == "idle"
    states = [e.state for e in h.events.of(StateChanged)]
    assert states[:1] == ["listening"]
    for expected in ("hearing", "transcribing", "thinking", "speaking"):
        assert expected in states
    # history: the user's words and the reply, after the system prompt
    history = h.engine.conversation.history
    assert history[0].user == "hello there" and history[0].assistant == REPLY


async def test_prefetch_is_ordered_bounded_and_gapless():
    # Later sentences synthesize faster than earlier ones: order must still hold.
    latencies = {s: 0.08 - 0.015 * i for i, s in enumerate(SENTENCES)}
    synth = FakeSynthesizer(latency=lambda t: latencies[t], seconds_per_char=0.06, parts=3)
    responder = FakeResponder(REPLY, chunk=200)  # the whole reply at once
    h = build(one_utterance(), responder=responder, synthesizer=synth, sink=FakeSink(speed=4.0))
    await h.run()

    played = [p for p in h.sink.played if p.text]
    assert [p.text for p in played] == SENTENCES
    # prefetch=2: at most 3 pieces hold a slot (one playing, two synthesizing)
    assert synth.max_active <= 3
    assert synth.max_active >= 2  # they did overlap
    # gapless: every chunk starts exactly when the previous one ends
    for before, after in zip(h.sink.played, h.sink.played[1:], strict=False):
        assert after.start - before.end < 0.002, (before, after)
    # synthesis of sentence n+1 starts before sentence n has finished playing
    pieces: list[list] = []
    for record in h.sink.played:
        if record.text:
            pieces.append([])
        pieces[-1].append(record)
    starts = dict(synth.started)
    for n in range(len(SENTENCES) - 1):
        assert starts[SENTENCES[n + 1]] < pieces[n][-1].end


async def test_prefetch_zero_is_sequential():
    synth = FakeSynthesizer(latency=0.01)
    h = build(
        one_utterance(),
        synthesizer=synth,
        responder=FakeResponder(REPLY, chunk=200),
        settings=make_settings(tts={"prefetch": 0}),
    )
    await h.run()
    assert synth.max_active == 1
    assert [p.text for p in h.sink.played] == SENTENCES


async def test_utterance_is_recorded_before_any_network_call_and_encoded_once():
    h = build(one_utterance())
    await h.run()
    ((turn_id, flac, recorded_at),) = h.recorder.begun
    call = h.transcriber.calls[0]
    utterance, task = call.args
    assert recorded_at <= call.start
    assert utterance.flac is flac  # the very bytes handed to the store are uploaded
    assert task == "transcribe"
    row = h.recorder.turns[turn_id]
    assert row["status"] == "answered"
    assert row["transcript"] == "hello there"
    assert row["reply"] == row["reply_heard"] == "Hi. How are you? Fine."
    assert row["providers"] == {"stt": "fake"} and row["models"] == {"stt": "m"}
    assert row["timings"]["ttfa_ms"] > 0 and row["timings"]["interrupted"] is False
    assert h.events.of(TurnStarted)[0].audio_path == f"/tmp/rec/{turn_id}.flac"
    assert h.events.of(TurnStarted)[0].turn_id == turn_id
    assert h.events.of(TranscriptReady)[0].turn_id == turn_id


async def test_metrics_are_emitted_and_written_as_jsonl(tmp_path):
    path = tmp_path / "metrics.jsonl"
    h = build(one_utterance() + one_utterance(), metrics_path=path)
    await h.run()
    metrics = [e.metrics for e in h.events.of(TurnMetrics)]
    assert len(metrics) == 2
    for entry in metrics:
        for key in (
            m.UTTERANCE_CLOSED,
            m.TRANSCRIPT,
            m.FIRST_TOKEN,
            m.FIRST_CHUNK,
            m.FIRST_AUDIO,
            m.TTFA,
            m.DRAINED,
        ):
            assert key in entry, key
        assert (
            entry[m.UTTERANCE_CLOSED]
            <= entry[m.TRANSCRIPT]
            <= entry[m.FIRST_TOKEN]
            <= entry[m.FIRST_CHUNK]
            <= entry[m.FIRST_AUDIO]
            <= entry[m.TTFA] + 0.5
            <= entry[m.DRAINED] + 0.5
        )
        # 2 frames of hangover before the endpointer closes (fake endpointer: 3 quiet
        # frames counted from the first quiet one)
        assert 50 < entry[m.UTTERANCE_CLOSED] < 120
        assert entry["interrupted"] is False and entry["retries"] == 0
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["turn_id"] for line in lines] == [e["turn_id"] for e in metrics]
    assert all("ts" in line for line in lines)


async def test_history_is_sent_with_the_next_question():
    transcriber = FakeTranscriber(["first q", "second q"])
    responder = FakeResponder(lambda msgs: f"Answer to {msgs[-1].content}.")
    h = build(one_utterance() + one_utterance(), transcriber=transcriber, responder=responder)
    await h.run()
    second = responder.requests[1]
    assert [(x.role, x.content) for x in second] == [
        ("system", "Be brief."),
        ("user", "first q"),
        ("assistant", "Answer to first q."),
        ("user", "second q"),
    ]


async def test_without_a_synthesizer_the_reply_is_text_only():
    h = build(one_utterance())
    h.engine._stages.synthesizer = None
    await h.run()
    assert h.sink.played == []
    assert h.events.of(ReplyDone)[0].heard == "Hi. How are you? Fine."


async def test_a_slow_first_token_says_the_turn_still_waits_for_the_chat(monkeypatch):
    from voiceloop.engine import turn as turn_module
    from voiceloop.events import StageWaiting

    monkeypatch.setattr(turn_module, "WAITING_AFTER_S", 0.1)
    responder = FakeResponder(REPLY, first_token=0.35, chunk=50)
    h = build(one_utterance(), responder=responder, sink=FakeSink(speed=50.0))
    await h.run()
    waiting = [e for e in h.events.of(StageWaiting) if e.stage == "responder"]
    assert waiting and waiting[0].seconds == 0.1
    assert h.events.of(ReplyDone)[0].text == REPLY  # the reply still arrives whole
    assert h.events.of(TurnFinished)[0].status == "answered"


async def test_a_turn_cancelled_while_waiting_for_the_first_token_closes_the_stream():
    responder = FakeResponder(REPLY, first_token=5.0)
    h = build(one_utterance(), responder=responder, sink=FakeSink(speed=50.0))
    run = asyncio.create_task(h.run())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if responder.requests:
            break
    await asyncio.sleep(0.05)
    assert h.engine.interrupt()
    await asyncio.wait_for(run, 5)
    assert h.events.of(TurnFinished)[0].status == "interrupted"
    assert responder.closed == 1


async def test_slow_speech_says_the_turn_still_waits_for_it(monkeypatch):
    from voiceloop.engine import turn as turn_module
    from voiceloop.events import StageWaiting

    monkeypatch.setattr(turn_module, "WAITING_AFTER_S", 0.1)
    h = build(
        one_utterance(),
        responder=FakeResponder("One sentence only."),
        synthesizer=FakeSynthesizer(latency=0.35),
        sink=FakeSink(speed=50.0),
    )
    await h.run()
    waiting = [e for e in h.events.of(StageWaiting) if e.stage == "synthesizer"]
    assert waiting and waiting[0].seconds == 0.1
    assert [p.text for p in h.sink.played] == ["One sentence only."]
