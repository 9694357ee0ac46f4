"""The TUI says Listening only once the engine's VAD runs, not while it is loading."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from tests.fakegroq.server import FakeGroq
from tests.tui.test_real_engine import real_deps, wait_for
from voiceloop.engine import loop as engine_loop
from voiceloop.tui.app import VoiceloopApp
from voiceloop.tui.widgets.state import StateIndicator

pytestmark = pytest.mark.slow


async def test_listening_shows_only_when_the_vad_is_ready(
    groq_env: FakeGroq, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ready = threading.Event()
    loading = threading.Event()
    real = engine_loop.default_endpointer

    def slow_endpointer(*args, **kwargs):  # type: ignore[no-untyped-def]
        loading.set()
        assert ready.wait(30), "the test never released the VAD"
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_loop, "default_endpointer", slow_endpointer)
    # Every state the indicator took, with what it showed: a file source is read faster
    # than real time, so "listening" may last less than one poll of the screen.
    shown: list[tuple[str, str]] = []
    watch = StateIndicator.watch_state

    def record(self: StateIndicator, old: str, new: str) -> None:
        watch(self, old, new)
        shown.append((new, str(self.render())))

    monkeypatch.setattr(StateIndicator, "watch_state", record)
    app = VoiceloopApp(deps=real_deps(tmp_path, monkeypatch, (4.0, 1.0)))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, loading.is_set)
        indicator = app.query_one(StateIndicator)
        for _ in range(5):  # the model is still loading: not a word about listening
            await pilot.pause(0.1)
            assert indicator.state != "listening"
            assert "Listening" not in str(indicator.render())
        assert "listening" not in [state for state, _ in shown]
        ready.set()
        await wait_for(pilot, lambda: "listening" in [state for state, _ in shown], 30)
        assert any(state == "listening" and "Listening" in text for state, text in shown)
        await asyncio.sleep(0)
