"""Replies in other languages are spoken sentence by sentence, with that language's rules."""

from __future__ import annotations

import pytest

from tests.engine.conftest import build
from tests.engine.fakes import FakeResponder, FakeSink, FakeTranscriber, Say, Silence, make_settings
from voiceloop.engine.services import EngineOptions
from voiceloop.engine.startup import default_splitter_factory

GERMAN = [
    "Das ist z. B. ein kurzer Satz.",
    "Siehe Nr. 5 im Katalog.",
    "Am 3. Oktober kam Dr. Müller, d. h. recht spät.",
    "Danach gingen alle nach Hause.",
]
CHINESE = ["你好！", "今天天气很好，我们去公园散步吧。", "你觉得怎么样？", "好的。"]


def one_utterance() -> list:
    return [Silence(3), Say(6), Silence(5)]


@pytest.mark.parametrize(
    ("detected", "configured", "sentences"),
    [
        ("german", None, GERMAN),  # Whisper's verbose_json names the language
        ("de", None, GERMAN),
        ("english", "de", GERMAN),  # [stt] language wins over a detection
        ("chinese", None, CHINESE),
        (None, "zh", CHINESE),
    ],
)
async def test_reply_is_spoken_sentence_by_sentence_in_its_language(
    detected: str | None, configured: str | None, sentences: list[str]
) -> None:
    reply = ("" if sentences is CHINESE else " ").join(sentences)
    settings = make_settings(stt={"language": configured})
    options = EngineOptions.from_settings(settings)
    responder = FakeResponder(reply, first_token=0.05, delay=0.02, chunk=3)
    h = build(
        one_utterance(),
        settings=settings,
        responder=responder,
        transcriber=FakeTranscriber(["hallo"], language=detected),  # type: ignore[arg-type]
        sink=FakeSink(speed=50.0),
        splitter_factory=default_splitter_factory(options),
    )
    await h.run()

    assert [p.text for p in h.sink.played] == sentences
    # the first sentence was on its way to the speaker while the reply was still streaming
    assert responder.finished_at is not None
    assert h.sink.queued[0][1] < responder.finished_at


async def test_english_rules_would_cut_the_german_reply_wrongly() -> None:
    """The language matters: with English rules "z. B." and "3. Oktober" end sentences."""
    splitter = default_splitter_factory(EngineOptions.from_settings(make_settings()))(language="en")
    chunks = splitter.push(" ".join(GERMAN)) + splitter.flush()
    assert chunks != GERMAN
