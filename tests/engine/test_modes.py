"""Dictate and translate modes, mode switching, turn limits and file-like sources."""

from __future__ import annotations

import itertools

from tests.engine.conftest import build
from tests.engine.fakes import (
    FakeResponder,
    FakeSink,
    FakeTranscriber,
    Say,
    Silence,
    Until,
    make_settings,
)
from voiceloop.engine.osc52 import osc52_sequence
from voiceloop.errors import ServerError
from voiceloop.events import (
    DictationAppended,
    ModeChanged,
    Notice,
    ReplyDone,
    TranslationReady,
    TurnFinished,
)

THREE = [Say(6), Silence(5), Say(6), Silence(5), Say(6), Silence(5)]


async def test_dictation_accumulates_in_order_and_appends_to_a_file(tmp_path):
    out = tmp_path / "notes" / "dictation.txt"
    copied: list[str] = []
    # The first transcription is the slowest: results must still come in order.
    transcriber = FakeTranscriber(
        ["first line", "second line", "third line"], latency=[0.3, 0.01, 0.01]
    )
    h = build(
        THREE,
        mode="dictate",
        transcriber=transcriber,
        settings=make_settings(dictate={"output_file": str(out)}),
        clipboard=copied.append,
    )
    await h.run()
    appended = h.events.of(DictationAppended)
    assert [e.text for e in appended] == ["first line", "second line", "third line"]
    assert appended[-1].buffer == "first line second line third line"
    assert h.engine.dictation.text == "first line second line third line"
    assert out.read_text() == "first line\nsecond line\nthird line\n"
    assert copied[-1] == "first line second line third line"
    assert h.responder.requests == []  # no clean-up unless asked
    assert h.sink.played == []
    assert [e.status for e in h.events.of(TurnFinished)] == ["transcribed"] * 3
    h.engine.dictation.set_text("edited")
    assert h.engine.dictation.text == "edited"
    h.engine.dictation.clear()
    assert h.engine.dictation.text == ""


async def test_dictation_cleanup_pass_uses_the_llm_and_keeps_raw_text_on_failure():
    responder = FakeResponder(
        "So, I think we should go.",
        fail_at=0,
        error=ServerError("503"),
        fail_requests=frozenset({1}),
    )
    transcriber = FakeTranscriber(["um so i think we should go", "uh hello"])
    h = build(
        [Say(6), Silence(5), Say(6), Silence(5)],
        mode="dictate",
        transcriber=transcriber,
        responder=responder,
        settings=make_settings(dictate={"cleanup": True}),
    )
    await h.run()
    assert [e.text for e in h.events.of(DictationAppended)] == [
        "So, I think we should go.",
        "uh hello",  # the clean-up failed: the raw words are kept
    ]
    assert responder.requests[0][0].role == "system"
    assert responder.requests[0][1].content == "um so i think we should go"
    assert any(n.title == "Clean-up skipped" for n in h.events.of(Notice))


async def test_dictation_file_error_is_a_notice_and_keeps_the_text(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    h = build(
        [Say(6), Silence(5)],
        mode="dictate",
        settings=make_settings(dictate={"output_file": str(blocker / "sub.txt")}),
    )
    await h.run()
    assert h.engine.dictation.text == "hello there"
    assert h.events.of(Notice)[0].title == "Dictation output"


async def test_translation_with_the_original_asks_both_in_parallel():
    translator = FakeTranscriber(["good morning"], latency=0.25, translate_prefix="")
    transcriber = FakeTranscriber(["bonjour"], latency=0.25)
    h = build(
        [Say(6), Silence(5)],
        mode="translate",
        transcriber=transcriber,
        translator=translator,
        settings=make_settings(translate={"show_original": True}),
    )
    await h.run()
    (event,) = h.events.of(TranslationReady)
    assert event.english == "good morning"
    assert event.original == "bonjour"
    assert event.language == "fr"
    assert translator.calls[0].args[1] == "translate"
    assert transcriber.calls[0].args[1] == "transcribe"
    # concurrency: the second request started before the first one finished
    t, o = translator.calls[0], transcriber.calls[0]
    assert abs(t.start - o.start) < 0.05
    assert max(t.end, o.end) - min(t.start, o.start) < 0.4  # not 0.5 s in sequence
    row = h.recorder.turns[event.turn_id]
    assert row["translation"] == "good morning" and row["original"] == "bonjour"
    assert h.sink.played == []  # not spoken unless asked


async def test_translation_can_be_spoken_and_works_without_the_original():
    translator = FakeTranscriber(["It is raining. Take an umbrella."], translate_prefix="")
    h = build(
        [Say(6), Silence(5)],
        mode="translate",
        translator=translator,
        settings=make_settings(translate={"speak": True}),
    )
    await h.run()
    (event,) = h.events.of(TranslationReady)
    assert event.original is None
    assert h.transcriber.calls == []  # the original was not asked for
    assert [p.text for p in h.sink.played] == ["It is raining.", "Take an umbrella."]
    assert h.events.count(ReplyDone) == 0


async def test_a_failing_original_transcript_does_not_lose_the_translation():
    translator = FakeTranscriber(["hello"], translate_prefix="")
    transcriber = FakeTranscriber(fail={0: ServerError("boom", hint="later")})
    h = build(
        [Say(6), Silence(5)],
        mode="translate",
        transcriber=transcriber,
        translator=translator,
        settings=make_settings(translate={"show_original": True}),
    )
    await h.run()
    assert h.events.of(TranslationReady)[0].english == "hello"
    assert h.events.of(TurnFinished)[0].status == "transcribed"
    assert any(n.title == "Original transcript unavailable" for n in h.events.of(Notice))


async def test_mode_switch_applies_to_the_next_utterance():
    h = None

    def switched() -> bool:
        assert h is not None
        if h.events.count(TurnFinished) >= 1:
            h.engine.set_mode("dictate")
            return True
        return False

    h = build([Say(6), Silence(5), Until(switched), Say(6), Silence(5)])
    await h.run()
    assert h.engine.mode == "dictate"
    assert [e.mode for e in h.events.of(ModeChanged)] == ["dictate"]
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered", "transcribed"]
    assert h.events.count(DictationAppended) == 1


async def test_turn_limit_ends_the_run():
    h = build([*THREE, Silence(10000)], max_turns=2)
    await h.run(timeout=10)
    assert h.events.count(TurnFinished) == 2
    assert h.source.closed and h.sink.closed


async def test_a_file_source_queues_turns_and_ends_after_the_last_one():
    # Not real time: no half-duplex suppression, no barge-in, every utterance answered.
    h = build(THREE, realtime=False, settings=make_settings(audio={"barge_in": True}))
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"] * 3
    assert True not in h.endpointer.suppressed_log
    # replies never overlapped
    plays = sorted(h.sink.played, key=lambda p: p.start)
    for a, b in itertools.pairwise(plays):
        assert b.start >= a.end - 1e-6


async def test_utterance_cut_by_end_of_input_is_still_a_turn():
    h = build([Say(6)], realtime=False)
    await h.run()
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]


async def test_stop_ends_a_live_run():
    h = None

    def stop() -> bool:
        assert h is not None
        h.engine.stop()
        return True

    h = build([Silence(5), Until(stop), Silence(100_000)])
    await h.run(timeout=5)
    assert h.engine.state == "idle"


def test_osc52_sequence_encodes_base64():
    assert osc52_sequence("hi") == "\x1b]52;c;aGk=\x07"


async def test_cues_play_when_listening_and_after_a_reply_and_are_never_heard():
    from voiceloop.audio.cues import load_cue

    listening, done = load_cue("listening"), load_cue("done")
    h = build(
        [Silence(80), Say(6), Silence(5), Silence(150)],
        settings=make_settings(audio={"cues": True}),
        sink=FakeSink(speed=20.0),
    )
    await h.run()
    cue_lengths = [round((p.end - p.start) * 20.0, 3) for p in h.sink.played if not p.text]
    assert cue_lengths == [round(listening.duration, 3), round(done.duration, 3)]
    # suppressed while each cue played, and released afterwards
    assert h.endpointer.suppressed_log.count(True) >= 2
    assert h.endpointer.suppressed is False
    assert [e.status for e in h.events.of(TurnFinished)] == ["answered"]


async def test_no_cues_from_a_file_source():
    h = build([Say(6), Silence(5)], realtime=False, settings=make_settings(audio={"cues": True}))
    await h.run()
    assert all(p.text for p in h.sink.played)


async def test_push_to_talk_with_the_real_endpointer():
    from voiceloop.audio.vad import Endpointer, EnergyDetector

    h = None
    pressed: list[bool] = []

    def press(down: bool):
        def action() -> bool:
            assert h is not None
            h.engine.push_to_talk(down)
            pressed.append(down)
            return True

        return action

    script = [Silence(20), Until(press(True)), Say(15), Until(press(False)), Silence(30)]
    h = build(script, mode="dictate", endpointer=Endpointer(EnergyDetector(), ignore_start_ms=0))
    h.engine.set_hands_free(False)
    await h.run()
    assert pressed == [True, False]
    assert isinstance(h.engine._endpointer, Endpointer)  # the real one was used
    assert [e.text for e in h.events.of(DictationAppended)] == ["hello there"]
    (call,) = h.transcriber.calls
    utterance = call.args[0]
    # the key bounded the utterance: 15 voiced frames, plus pre-roll from before the press
    assert 15 * 512 <= len(utterance.pcm) <= (15 + 14) * 512
