"""A scripted engine for trying the TUI without a microphone, network or key.

``python -m voiceloop.tui --demo`` runs the app against it. It follows the engine
control surface and emits real ``voiceloop.events``; each talk-key press plays one
scripted turn for the current mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from dataclasses import dataclass, field
from typing import Literal

from voiceloop import events as ev
from voiceloop.tui.protocols import DeviceChoice, EventCallback, Profile, TuiDeps


@dataclass
class DictationBuffer:
    """A plain dictation buffer."""

    text: str = ""

    def clear(self) -> None:
        self.text = ""

    def set_text(self, text: str) -> None:
        self.text = text

    def append(self, piece: str) -> str:
        self.text = f"{self.text} {piece}".strip() if self.text else piece
        return self.text


REPLY = (
    "Sure. **Three** things make a voice assistant feel quick:\n\n"
    "1. a short pause before the turn ends,\n"
    "2. streaming the reply,\n"
    "3. speaking the first sentence while the rest is written."
)


@dataclass
class DemoEngine:
    """Plays canned turns. Levels tick at ``level_hz`` while it runs."""

    mode: ev.Mode
    on_event: EventCallback
    level_hz: float = 15.0
    delay: float = 0.05
    state: ev.EngineState = "idle"
    dictation: DictationBuffer = field(default_factory=DictationBuffer)
    hands_free: bool = True
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _turn: asyncio.Task[None] | None = None
    _turn_id: int = 0

    def _emit(self, event: ev.Event) -> None:
        self.on_event(event)

    def _set_state(self, state: ev.EngineState) -> None:
        self.state = state
        self._emit(ev.StateChanged(state=state))

    def set_mode(self, mode: ev.Mode) -> None:
        self.mode = mode
        self._emit(ev.ModeChanged(mode=mode))

    def set_hands_free(self, on: bool) -> None:
        self.hands_free = on

    def push_to_talk(self, pressed: bool) -> None:
        if pressed:
            self._set_state("hearing")
        elif self._turn is None or self._turn.done():
            self._turn = asyncio.get_running_loop().create_task(self._play_turn())

    def interrupt(self) -> None:
        if self._turn is not None and not self._turn.done():
            self._turn.cancel()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        self._set_state("listening")
        tick = 0
        while not self._stop.is_set():
            tick += 1
            level = -45 + 20 * abs(math.sin(tick / 5)) if self.state == "hearing" else -70.0
            self._emit(ev.Level(level_db=level))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), 1 / self.level_hz)
        self.interrupt()

    async def _play_turn(self) -> None:
        self._turn_id += 1
        turn = self._turn_id
        mode: ev.Mode = self.mode
        heard = ""
        status: Literal["transcribed", "answered", "interrupted"] = "transcribed"
        self._emit(ev.TurnStarted(turn_id=turn, mode=mode, duration=1.8))
        try:
            self._set_state("transcribing")
            await asyncio.sleep(self.delay)
            if mode == "dictate":
                text = "This sentence was dictated."
                self._emit(ev.TranscriptReady(turn_id=turn, text=text))
                buffer = self.dictation.append(text)
                self._emit(ev.DictationAppended(turn_id=turn, text=text, buffer=buffer))
            elif mode == "translate":
                self._emit(
                    ev.TranslationReady(
                        turn_id=turn,
                        english="Where is the station?",
                        original="¿Dónde está la estación?",
                        language="es",
                    )
                )
            else:
                self._emit(ev.TranscriptReady(turn_id=turn, text="How do you make it fast?"))
                self._set_state("thinking")
                for word in REPLY.split(" "):
                    await asyncio.sleep(self.delay / 2)
                    self._emit(ev.ReplyDelta(turn_id=turn, text=word + " "))
                    if self.state != "speaking":
                        self._set_state("speaking")
                    heard += word + " "
                status = "answered"
                self._emit(ev.ReplyDone(turn_id=turn, text=REPLY, heard=REPLY))
            metrics = {
                "utterance_closed_ms": 600,
                "transcript_ms": 820,
                "first_token_ms": 1010,
                "first_chunk_ms": 1150,
                "first_audio_ms": 1320,
                "ttfa_ms": 1410,
                "drained_ms": 4100,
            }
            self._emit(ev.TurnMetrics(turn_id=turn, metrics=metrics))
        except asyncio.CancelledError:
            status = "interrupted"
            if mode == "converse":
                self._emit(
                    ev.ReplyDone(turn_id=turn, text=REPLY, heard=heard.strip(), interrupted=True)
                )
        self._emit(ev.TurnFinished(turn_id=turn, status=status))
        self._set_state("listening")


def demo_deps() -> TuiDeps:
    """Deps for ``--demo``: the scripted engine and made-up devices, models and voices."""

    async def models() -> list[str]:
        return ["openai/gpt-oss-20b", "openai/gpt-oss-120b", "llama-3.3-70b-versatile"]

    return TuiDeps(
        engine_factory=lambda mode, on_event: DemoEngine(mode=mode, on_event=on_event),
        list_input_devices=lambda: [DeviceChoice("default", None), DeviceChoice("USB mic", 2)],
        list_output_devices=lambda: [DeviceChoice("default", None), DeviceChoice("Headset", 3)],
        list_models=models,
        list_voices=lambda: ["autumn", "diana", "hannah", "austin", "daniel", "troy"],
        profile=Profile(
            stt_model="whisper-large-v3-turbo",
            chat_model="openai/gpt-oss-20b",
            voice="autumn",
        ),
    )
