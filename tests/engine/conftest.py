from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.engine.fakes import (
    EventLog,
    FakeEndpointer,
    FakeRecorder,
    FakeResponder,
    FakeSink,
    FakeSynthesizer,
    FakeTranscriber,
    MemorySource,
    SimpleSplitter,
    fake_flac,
    make_settings,
)
from voiceloop.engine import Engine, StageSet


@dataclass
class Harness:
    engine: Engine
    source: MemorySource
    sink: FakeSink
    endpointer: FakeEndpointer
    transcriber: FakeTranscriber
    responder: FakeResponder
    synthesizer: FakeSynthesizer
    recorder: FakeRecorder
    events: EventLog

    async def run(self, timeout: float = 20.0) -> None:
        import asyncio

        await asyncio.wait_for(self.engine.run(), timeout)


def build(
    script: list[Any],
    *,
    mode: str = "converse",
    settings: Any = None,
    transcriber: FakeTranscriber | None = None,
    responder: FakeResponder | None = None,
    synthesizer: FakeSynthesizer | None = None,
    translator: FakeTranscriber | None = None,
    recorder: FakeRecorder | None = None,
    sink: FakeSink | None = None,
    realtime: bool = True,
    endpointer: FakeEndpointer | None = None,
    frame_delay: float = 0.002,
    **engine_kwargs: Any,
) -> Harness:
    transcriber = transcriber or FakeTranscriber()
    responder = responder or FakeResponder()
    synthesizer = synthesizer or FakeSynthesizer()
    recorder = recorder or FakeRecorder()
    sink = sink or FakeSink(speed=20.0)
    source = MemorySource(script, realtime=realtime, frame_delay=frame_delay)
    endpointer = endpointer or FakeEndpointer()
    events = EventLog()
    stages = StageSet(
        transcriber=transcriber,
        responder=responder,
        synthesizer=synthesizer,
        translator=translator,
        providers={"transcriber": "fake", "translator": "fake"},
    )
    engine = Engine(
        settings or make_settings(),
        mode=mode,  # type: ignore[arg-type]
        source=source,
        sink=sink,
        stages=stages,
        on_event=events,
        recorder=recorder,
        **{
            "endpointer": endpointer,
            "splitter_factory": SimpleSplitter,
            "encode_flac": fake_flac,
            **engine_kwargs,
        },
    )
    return Harness(
        engine, source, sink, endpointer, transcriber, responder, synthesizer, recorder, events
    )


@pytest.fixture
def harness():
    return build
