"""A scripted engine for TUI tests: records the calls, emits real voiceloop events."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from voiceloop import events as ev
from voiceloop.tui.demo import DictationBuffer
from voiceloop.tui.protocols import DeviceChoice, EventCallback, Profile, TuiDeps

FIXED_NOW = datetime(2026, 1, 2, 9, 30, 0)


class FakeEngine:
    """Runs until stopped (or raises ``fail_with``); tests push events with :meth:`emit`."""

    def __init__(self, mode: ev.Mode, on_event: EventCallback) -> None:
        self.mode: ev.Mode = mode
        self.on_event = on_event
        self.state: ev.EngineState = "idle"
        self.dictation = DictationBuffer()
        self.calls: list[tuple[str, Any]] = []
        self.fail_with: BaseException | None = None
        self.on_interrupt: Callable[[], None] | None = None
        self.started = asyncio.Event()
        self._stopped = asyncio.Event()

    def emit(self, *events: ev.Event) -> None:
        for event in events:
            if isinstance(event, ev.StateChanged):
                self.state = event.state
            self.on_event(event)

    async def run(self) -> None:
        self.calls.append(("run", None))
        self.started.set()
        if self.fail_with is not None:
            raise self.fail_with
        self.emit(ev.StateChanged(state="listening"))
        await self._stopped.wait()

    def stop(self) -> None:
        self.calls.append(("stop", None))
        self._stopped.set()

    def use_clipboard(self, copy: Callable[[str], object]) -> None:
        self.calls.append(("use_clipboard", copy))

    def set_mode(self, mode: ev.Mode) -> None:
        self.calls.append(("set_mode", mode))
        self.mode = mode
        self.emit(ev.ModeChanged(mode=mode))

    def interrupt(self) -> None:
        self.calls.append(("interrupt", None))
        if self.on_interrupt is not None:
            self.on_interrupt()

    def set_hands_free(self, on: bool) -> None:
        self.calls.append(("hands_free", on))

    def push_to_talk(self, pressed: bool) -> None:
        self.calls.append(("push_to_talk", pressed))

    def called(self, name: str) -> list[Any]:
        return [arg for call, arg in self.calls if call == name]


@dataclass
class Harness:
    """Deps wired to fakes, and what the app did with them."""

    engines: list[FakeEngine] = field(default_factory=list)
    applied: list[tuple[str, str, Any]] = field(default_factory=list)
    fail_engine_with: BaseException | None = None

    @property
    def engine(self) -> FakeEngine:
        return self.engines[-1]

    def factory(self, mode: ev.Mode, on_event: EventCallback) -> FakeEngine:
        engine = FakeEngine(mode, on_event)
        engine.fail_with = self.fail_engine_with
        self.engines.append(engine)
        return engine

    def deps(self, config_path: Path | None = None, **overrides: Any) -> TuiDeps:
        from voiceloop.tui.config_file import TomlConfigFile

        async def models() -> list[str]:
            await asyncio.sleep(0.01)
            return ["openai/gpt-oss-20b", "openai/gpt-oss-120b", "qwen/qwen3-32b"]

        values: dict[str, Any] = dict(
            engine_factory=self.factory,
            list_input_devices=lambda: [DeviceChoice("default", None), DeviceChoice("USB mic", 2)],
            list_output_devices=lambda: [DeviceChoice("default", None), DeviceChoice("Headset", 5)],
            list_models=models,
            list_voices=lambda: ["autumn", "diana", "troy"],
            config=TomlConfigFile(config_path) if config_path else None,
            apply_setting=lambda s, f, v: self.applied.append((s, f, v)),
            profile=Profile(
                stt_model="whisper-large-v3-turbo", chat_model="openai/gpt-oss-20b", voice="autumn"
            ),
            clock=lambda: FIXED_NOW,
        )
        values.update(overrides)
        return TuiDeps(**values)


def converse_turn(turn_id: int, question: str, reply_parts: list[str]) -> list[ev.Event]:
    """The events of one answered converse turn, in engine order."""
    reply = "".join(reply_parts)
    return [
        ev.StateChanged(state="transcribing"),
        ev.TurnStarted(turn_id=turn_id, mode="converse", duration=1.5),
        ev.TranscriptReady(turn_id=turn_id, text=question),
        ev.StateChanged(state="thinking"),
        *[ev.ReplyDelta(turn_id=turn_id, text=part) for part in reply_parts],
        ev.StateChanged(state="speaking"),
        ev.ReplyDone(turn_id=turn_id, text=reply, heard=reply),
        ev.TurnMetrics(
            turn_id=turn_id,
            metrics={
                "utterance_closed_ms": 600,
                "transcript_ms": 850,
                "first_token_ms": 1100,
                "first_chunk_ms": 1250,
                "first_audio_ms": 1400,
                "ttfa_ms": 1490,
                "drained_ms": 3900,
            },
        ),
        ev.TurnFinished(turn_id=turn_id, status="answered"),
        ev.StateChanged(state="listening"),
    ]
