"""The engine says "listening" only when it is true: once the microphone is open, so that
what the user says from then on is heard."""

from __future__ import annotations

import asyncio

import pytest

from tests.engine.conftest import build
from tests.engine.fakes import Say, Silence
from voiceloop.errors import DeviceError
from voiceloop.events import StateChanged, TranscriptReady


def states(h) -> list[str]:
    return [e.state for e in h.events.of(StateChanged)]


async def test_listening_comes_after_the_microphone_has_opened():
    h = build([Silence(3), Say(6), Silence(5)], mode="dictate", max_turns=1)
    before_open: list[list[str]] = []

    async def start() -> None:
        await asyncio.sleep(0.2)  # a sound server slow to open the stream
        before_open.append(states(h))

    h.source.start = start  # type: ignore[attr-defined]
    await h.run()
    assert before_open == [[]], "listening was said before the microphone was open"
    assert states(h)[0] == "listening"
    assert len(h.events.of(TranscriptReady)) == 1


async def test_a_microphone_that_cannot_open_is_never_said_to_listen():
    h = build([Silence(3), Say(6), Silence(5)], mode="dictate", max_turns=1)

    async def start() -> None:
        raise DeviceError("Cannot open input device 'mic': busy", kind="input")

    h.source.start = start  # type: ignore[attr-defined]
    with pytest.raises(DeviceError):
        await h.run()
    assert "listening" not in states(h)
    assert h.source.closed
