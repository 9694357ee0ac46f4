"""The main screen: state, meter, mode, the conversation log or dictation, and latency."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.notifications import SeverityLevel
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Header

from voiceloop import events as ev
from voiceloop.tui.messages import EngineEvent
from voiceloop.tui.typed_app import voiceloop_app
from voiceloop.tui.widgets.conversation import ConversationLog
from voiceloop.tui.widgets.dictation import DictationView
from voiceloop.tui.widgets.latency import LatencyPanel
from voiceloop.tui.widgets.meter import LevelMeter
from voiceloop.tui.widgets.state import StateIndicator
from voiceloop.tui.widgets.status import ModeBadge, ProfileLine, TalkBadge

if TYPE_CHECKING:
    from voiceloop.tui.app import VoiceloopApp


FLOOR = -100.0
"""Meter level shown while nothing is being captured."""

STAGE_NAMES = {
    "stt": "speech-to-text",
    "transcriber": "speech-to-text",
    "translate": "translation",
    "llm": "chat",
    "responder": "chat",
    "tts": "speech",
    "synthesizer": "speech",
}


class MainScreen(Screen[None]):
    """Where the conversation happens. Routes engine events to the widgets."""

    # Textual declares this as an instance attribute, so it cannot be a ClassVar.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012
    """Wide terminals show the latency panel beside the conversation from the start."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "app.help", "Help"),
        Binding("f2", "app.set_mode('converse')", "Converse"),
        Binding("f3", "app.set_mode('dictate')", "Dictate"),
        Binding("f4", "app.set_mode('translate')", "Translate"),
        Binding("ctrl+t", "app.talk", "Talk", priority=True),
        Binding("space", "app.talk", "Talk", show=False),
        Binding("escape", "app.interrupt", "Stop", priority=True),
        Binding("f5", "app.hands_free", "Hands-free", show=False),
        Binding("f6", "app.toggle_latency", "Latency", show=False),
        Binding("f7", "app.pick_devices", "Devices", show=False),
        Binding("f8", "app.pick_model", "Model", show=False),
        Binding("f9", "app.pick_voice", "Voice", show=False),
        Binding("f10", "app.settings", "Settings", show=False),
        Binding("ctrl+r", "app.history", "History", show=False),
        Binding("ctrl+y", "app.dictation('copy')", "Copy all", show=False, priority=True),
        Binding("ctrl+s", "app.dictation('save')", "Save", show=False, priority=True),
        Binding("ctrl+o", "app.dictation('append')", "Append", show=False, priority=True),
        Binding("ctrl+l", "app.dictation('clear')", "Clear", show=False, priority=True),
    ]

    @property
    def vapp(self) -> VoiceloopApp:
        return voiceloop_app(self.app)

    def compose(self) -> ComposeResult:
        yield Header(icon="◉")
        with Horizontal(id="status-bar"):
            yield StateIndicator(id="state")
            yield LevelMeter(id="meter")
            yield ModeBadge(id="mode")
            yield TalkBadge(id="talk")
        yield ProfileLine(id="profile")
        with Horizontal(id="body"):
            with ContentSwitcher(initial="log", id="main-pane"):
                yield ConversationLog(id="log")
                yield DictationView(id="dictation")
            yield LatencyPanel(id="latency")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(ProfileLine).profile = self.vapp.profile
        self.show_mode(self.vapp.mode)
        self.query_one(TalkBadge).hands_free = self.vapp.hands_free
        if self.vapp.engine_starting:
            self.query_one(StateIndicator).show("starting")

    def show_mode(self, mode: str) -> None:
        self.query_one(ModeBadge).mode = mode
        pane = "dictation" if mode == "dictate" else "log"
        self.query_one(ContentSwitcher).current = pane
        self.sub_title = mode

    @property
    def log_view(self) -> ConversationLog:
        return self.query_one(ConversationLog)

    @on(DictationView.Edited)
    def _dictation_edited(self, message: DictationView.Edited) -> None:
        self.vapp.dictation_edited(message.text)

    @on(DictationView.Action)
    def _dictation_action(self, message: DictationView.Action) -> None:
        self.vapp.action_dictation(message.action)

    async def on_engine_event(self, message: EngineEvent) -> None:
        try:
            await self.apply_event(message.event)
        except Exception as error:  # a display bug must not take the session down
            self.log.error("could not show engine event", message.event, error)

    async def apply_event(self, event: ev.Event) -> None:
        """Show one engine event."""
        app = self.vapp
        now = app.deps.clock()
        match event:
            case ev.StateChanged(state=state):
                self.query_one(StateIndicator).show(state)
                if state in ("idle", "error"):
                    self.query_one(LevelMeter).level_db = FLOOR  # no stale level when closed
            case ev.SpeakingChunk(turn_id=turn_id):
                for reply in self.log_view.replies():
                    reply.set_class(reply.turn_id == turn_id, "speaking")
            case ev.ModeChanged(mode=mode):
                app.mode = mode
            case ev.TurnStarted(turn_id=turn_id, mode=mode) if mode != "dictate":
                await self.log_view.add_user(turn_id, now)
            case ev.TranscriptReady(turn_id=turn_id, text=text):
                await self.log_view.set_user_text(turn_id, now, text)
            case ev.TranslationReady():
                await self.log_view.add_translation(
                    event.turn_id, now, event.english, event.original, event.language
                )
            case ev.DictationAppended(buffer=buffer):
                self.query_one(DictationView).show_buffer(buffer)
            case ev.ReplyDelta(turn_id=turn_id, text=text):
                await (await self.log_view.reply(turn_id, now)).append(text)
            case ev.ReplyDone():
                reply = await self.log_view.reply(event.turn_id, now)
                await reply.finish(event.text, interrupted=event.interrupted, heard=event.heard)
            case ev.TurnMetrics(turn_id=turn_id, metrics=metrics):
                self.query_one(LatencyPanel).add(turn_id, metrics)
            case ev.TurnFailed():
                await self._turn_failed(event)
            case ev.TurnFinished(turn_id=turn_id, status=status):
                await self._turn_finished(turn_id, status)
            case ev.FallbackUsed(stage=stage, reason=reason, provider=provider):
                what = STAGE_NAMES.get(stage, stage)
                app.notify(
                    f"{reason}. Using {provider} for {what} for now.",
                    title=f"{what.capitalize()}: fallback",
                    severity="warning",
                    markup=False,
                )
            case ev.StageWaiting(stage=stage, seconds=seconds):
                what = STAGE_NAMES.get(stage, stage)
                app.notify(
                    f"No answer from {what} after {seconds:.0f} s; still waiting.",
                    title="Still waiting",
                    severity="information",
                    timeout=min(5.0, seconds),
                    markup=False,
                )
            case ev.CaptureOverflow(dropped=dropped):
                app.notify(
                    f"{dropped} audio frames were lost; the machine may be busy.",
                    title="Audio dropped",
                    severity="warning",
                )
            case ev.Notice(level=level, title=title, message=text):
                severity: SeverityLevel = "information" if level == "info" else level
                app.notify(text, title=title, severity=severity, markup=False)
            case _:
                pass

    async def _turn_failed(self, event: ev.TurnFailed) -> None:
        text = event.message + (f"\n{event.hint}" if event.hint else "")
        self.vapp.notify(text, title=event.title, severity="error", timeout=10, markup=False)
        await self.log_view.add_note(f"✗ {event.title}: {event.message}", classes="failed")

    async def _turn_finished(self, turn_id: int, status: str) -> None:
        # Whatever happened, leave no half-open reply behind so the next turn starts clean.
        for reply in self.log_view.replies():
            reply.remove_class("speaking")
            if reply.turn_id == turn_id and not reply.done:
                await reply.finish(reply.text, interrupted=status == "interrupted")
        for user in self.log_view.user_turns():
            if user.turn_id == turn_id and user.has_class("pending"):
                user.set_text("" if status != "failed" else "(not transcribed)")
