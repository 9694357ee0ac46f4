"""The Textual application: engine lifecycle, actions, and the screens around them."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.worker import Worker, WorkerState

from voiceloop.errors import VoiceloopError
from voiceloop.events import Event, Level, Mode
from voiceloop.tui.commands import VoiceloopCommands
from voiceloop.tui.messages import EngineEvent, LevelChanged
from voiceloop.tui.protocols import EngineFactory, EngineLike, Profile, TuiDeps
from voiceloop.tui.screens.main import MainScreen
from voiceloop.tui.widgets.conversation import ConversationLog
from voiceloop.tui.widgets.dictation import DictationView
from voiceloop.tui.widgets.latency import LatencyPanel
from voiceloop.tui.widgets.meter import LevelMeter
from voiceloop.tui.widgets.state import StateIndicator
from voiceloop.tui.widgets.status import ProfileLine, TalkBadge

MODES: tuple[Mode, ...] = ("converse", "dictate", "translate")
QUIT_GRACE_S = 3.0
"""How long quitting waits for the engine to close what it opened."""


class VoiceloopApp(App[int]):
    """The voiceloop TUI. Consumes engine events; talks to nothing else directly."""

    TITLE = "voiceloop"
    CSS_PATH = "app.tcss"
    COMMANDS: ClassVar = App.COMMANDS | {VoiceloopCommands}
    BINDINGS: ClassVar = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    mode: reactive[Mode] = reactive("converse", init=False)
    hands_free: reactive[bool] = reactive(True, init=False)
    talking: reactive[bool] = reactive(False, init=False)

    def __init__(self, mode: Mode = "converse", deps: TuiDeps | None = None) -> None:
        super().__init__()
        self.deps = deps or TuiDeps()
        self.set_reactive(VoiceloopApp.mode, mode)
        self.profile: Profile = self.deps.profile
        self.engine: EngineLike | None = None
        self._quitting = False
        self._engine_worker: Worker[None] | None = None
        self._main = MainScreen()
        self._meter: LevelMeter | None = None
        self.missing_device: str | None = None
        """``microphone``, ``speaker`` or ``sound`` while the engine stopped for want of it."""

    # ----------------------------------------------------------------- lifecycle

    def get_default_screen(self) -> MainScreen:
        return self._main

    def on_mount(self) -> None:
        if not self.deps.has_key:
            from voiceloop.tui.screens.first_run import FirstRunScreen

            self.push_screen(FirstRunScreen(local_dictation=self.deps.local_dictation))
        else:
            self.start_engine()

    def start_engine(self) -> None:
        """Build the engine for the current mode and run it in a worker."""
        factory = self.deps.engine_factory
        if factory is None:
            self.notify(
                "No speech engine is connected; nothing will be heard.",
                title="No engine",
                severity="warning",
            )
            return
        self._set_missing(None)  # the device may be back: the new engine will tell
        with contextlib.suppress(NoMatches):
            self._main.query_one(StateIndicator).show("starting")
        self._engine_worker = self._run_engine(factory)

    def restart_engine(self) -> None:
        """Stop the running engine (if any) and start a fresh one with the current config."""
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
        self._engine_worker = None  # the old engine's end is not news
        self.workers.cancel_group(self, "engine")
        self.start_engine()

    @work(exclusive=True, group="engine", exit_on_error=False)
    async def _run_engine(self, factory: EngineFactory) -> None:
        # Building may load local models and open devices: seconds of blocking work,
        # so it happens on a thread while the screen stays live.
        engine = await asyncio.to_thread(factory, self.mode, self.deliver_engine_event)
        self.engine = engine
        use_clipboard = getattr(engine, "use_clipboard", None)
        if use_clipboard is not None:  # Textual owns the terminal: copy through it
            use_clipboard(self.copy_to_clipboard)
        engine.set_hands_free(self.hands_free)
        if engine.mode != self.mode:  # the user switched while it was starting
            engine.set_mode(self.mode)
        if self.talking:
            engine.push_to_talk(True)
        await engine.run()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place worker failures arrive: show them in a modal, never a traceback."""
        current = event.worker is self._engine_worker
        if current and event.state in (WorkerState.ERROR, WorkerState.SUCCESS):
            self.engine = None  # nothing to steer any more
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            what = "The speech engine stopped" if current else "A background task failed"
            self.show_fatal(event.worker.error, what=what)
        elif event.state == WorkerState.SUCCESS and current:
            # A file source ran out, or the engine stopped by itself: say so, offer restart.
            with contextlib.suppress(NoMatches):
                self._main.query_one(StateIndicator).show("idle")
            if not self._quitting:
                self.notify(
                    "Listening has stopped. Ctrl+P → Restart engine to listen again.",
                    title="Engine stopped",
                )

    def show_fatal(self, error: BaseException, *, what: str = "The speech engine stopped") -> None:
        """Open the error modal (once) for an error the session cannot carry on past."""
        from voiceloop.tui.screens.error import ErrorScreen

        if isinstance(self.screen, ErrorScreen):
            return
        from voiceloop.tui.unavailable import missing_device, stopped_reason

        missing = missing_device(error)
        self._set_missing(missing)
        label, reason = stopped_reason(error, missing)
        with contextlib.suppress(NoMatches):  # both stay on screen once the modal is closed
            self._main.query_one(StateIndicator).show("error", label=label, reason=reason)
            log = self._main.query_one(ConversationLog)
            self.call_later(log.add_note, reason, classes="failed")
        self.push_screen(ErrorScreen.from_error(error, what=what), self._after_fatal)

    def _after_fatal(self, choice: str | None) -> None:
        if choice == "restart":
            self.restart_engine()
        elif choice == "quit":
            self.exit(1)

    def _set_missing(self, missing: str | None) -> None:
        self.missing_device = missing
        with contextlib.suppress(NoMatches):
            self._badge().missing = missing or ""
        if missing is not None and self.talking:
            self.talking = False
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Talking needs the engine, which stopped for the missing device (a microphone, or
        the speaker a reply plays on): then Ctrl+T and hands-free are not offered."""
        stopped = self.missing_device is not None
        return not (stopped and action in ("talk", "hands_free"))

    def set_profile(self, profile: Profile) -> None:
        """Show a new set-up (models, voice, devices) in the header."""
        self.profile = profile
        with contextlib.suppress(NoMatches):
            self._main.query_one(ProfileLine).profile = profile

    def action_restart_engine(self) -> None:
        """Rebuild the engine from the current settings and start listening again."""
        self.restart_engine()
        self.notify("Engine restarted.", title="Engine")

    async def action_quit(self) -> None:
        """Stop the engine, give it a moment to close its stages and devices, and exit."""
        self._quitting = True
        worker, engine = self._engine_worker, self.engine
        if engine is not None:
            engine.stop()
        if worker is not None and not worker.is_finished:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(worker.wait(), QUIT_GRACE_S)
        self.exit(0)

    @property
    def engine_starting(self) -> bool:
        """True while the engine is being built (before it reports its first state)."""
        worker = self._engine_worker
        return self.engine is None and worker is not None and not worker.is_finished

    # ------------------------------------------------------------- engine events

    def deliver_engine_event(self, event: Event) -> None:
        """The engine's ``on_event`` callback (on the app's event loop; posting is thread-safe)."""
        if isinstance(event, Level):
            # About 30 a second: straight to the meter, where a newer level replaces a queued one.
            if self._meter is None:
                try:
                    self._meter = self._main.query_one(LevelMeter)
                except NoMatches:
                    return
            self._meter.post_message(LevelChanged(event.level_db))
            return
        self._main.post_message(EngineEvent(event))

    # ------------------------------------------------------------------ watchers

    def watch_mode(self, mode: Mode) -> None:
        self._main.show_mode(mode)
        if self.engine is not None and self.engine.mode != mode:
            self.engine.set_mode(mode)

    def watch_hands_free(self, on: bool) -> None:
        self._badge().hands_free = on

    def watch_talking(self, talking: bool) -> None:
        self._badge().talking = talking

    def _badge(self) -> TalkBadge:
        return self._main.query_one(TalkBadge)

    # ------------------------------------------------------------------- actions

    def action_set_mode(self, mode: str) -> None:
        """Switch to converse, dictate or translate."""
        if mode in MODES:
            self.mode = mode

    def action_next_mode(self) -> None:
        self.mode = MODES[(MODES.index(self.mode) + 1) % len(MODES)]

    def action_talk(self) -> None:
        """Push-to-talk as a toggle: terminals report key presses, not releases."""
        self.talking = not self.talking
        if self.engine is not None:
            self.engine.push_to_talk(self.talking)

    def action_interrupt(self) -> None:
        """Stop speaking and cancel the current turn (a recording in progress goes on)."""
        if self.engine is not None:
            self.engine.interrupt()

    def action_hands_free(self) -> None:
        self.hands_free = not self.hands_free
        if self.engine is not None:
            self.engine.set_hands_free(self.hands_free)
        self.notify("Hands-free on" if self.hands_free else "Hands-free off: Ctrl+T to talk")

    def action_toggle_latency(self) -> None:
        panel = self._main.query_one(LatencyPanel)
        shown = panel.display  # wide screens show it by default (see app.tcss)
        panel.set_class(not shown, "-shown")
        panel.set_class(shown, "-hidden")

    def action_help(self) -> None:
        from voiceloop.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_settings(self) -> None:
        from voiceloop.tui.screens.settings import SettingsScreen

        if self.deps.config is None:
            self.notify("No config file is connected.", title="Settings", severity="warning")
            return
        self.push_screen(SettingsScreen(self.deps.config))

    def action_history(self) -> None:
        from voiceloop.tui.screens.history import HistoryScreen

        self.push_screen(HistoryScreen(self.deps.history))

    def action_pick_devices(self) -> None:
        from voiceloop.tui.screens.pickers import DevicesScreen

        self.push_screen(DevicesScreen(self.deps.list_input_devices, self.deps.list_output_devices))

    def action_pick_model(self) -> None:
        from voiceloop.tui.screens.pickers import ModelPicker

        self.push_screen(ModelPicker(self.deps.list_models, self.profile.chat_model))

    def action_pick_voice(self) -> None:
        from voiceloop.tui.screens.pickers import VoicePicker

        self.push_screen(VoicePicker(self.deps.list_voices, self.profile.voice))

    # ------------------------------------------------------------------ settings

    def change_setting(self, section: str, field: str, value: Any, *, label: str = "") -> None:
        """Persist one setting to the config file, then apply it to the session."""
        if self.deps.config is not None:
            try:
                self.deps.config.save({section: {field: value}})
            except VoiceloopError as error:
                self.notify(error.one_line(), title=error.title, severity="error", markup=False)
                return
        self.apply_settings({section: {field: value}})
        self._update_profile(section, field, label or str(value))

    def apply_settings(self, updates: Mapping[str, Any]) -> None:
        """Hand saved changes to the running session (live, or by rebuilding the engine)."""
        if not updates:
            return
        try:
            if self.deps.apply_setting is not None:
                for section, fields in updates.items():
                    if isinstance(fields, Mapping):
                        for field, value in fields.items():
                            self.deps.apply_setting(section, field, value)
        except VoiceloopError as error:
            self.notify(error.one_line(), title=error.title, severity="error", markup=False)
            return
        if self.deps.restart_on_change and self.engine is not None:
            self.restart_engine()

    def _update_profile(self, section: str, field: str, shown: str) -> None:
        key = {
            ("llm", "model"): "chat_model",
            ("stt", "model"): "stt_model",
            ("tts", "voice"): "voice",
            ("audio", "input"): "input_device",
            ("audio", "output"): "output_device",
        }.get((section, field))
        if key is None:
            return
        self.profile = dataclasses.replace(self.profile, **{key: shown})
        self._main.query_one(ProfileLine).profile = self.profile

    # ----------------------------------------------------------------- dictation

    def dictation_edited(self, text: str) -> None:
        if self.engine is not None:
            self.engine.dictation.set_text(text)

    def action_dictation(self, action: str) -> None:
        """``copy`` all, ``save`` or ``append`` to a file, or ``clear`` the dictation."""
        view = self._main.query_one(DictationView)
        if action == "copy":
            # Outside dictation there is no buffer: copy the conversation instead.
            text = view.text if self.mode == "dictate" else self._main.log_view.transcript()
            self.copy_to_clipboard(text)
            self.notify(f"Copied {len(text)} characters to the clipboard.", title="Copied")
        elif action == "clear":
            if self.engine is not None:
                self.engine.dictation.clear()
            view.show_buffer("")
        elif action in ("save", "append"):
            from voiceloop.tui.screens.prompt import PathPrompt

            default = self.deps.dictation_file or str(Path.home() / "dictation.txt")
            title = "Save dictation to" if action == "save" else "Append dictation to"

            def write(path: str | None) -> None:
                if path:
                    self.write_text(Path(path).expanduser(), view.text, append=action == "append")

            self.push_screen(PathPrompt(title, default), write)

    def write_text(self, path: Path, text: str, *, append: bool, title: str = "Dictation") -> None:
        try:
            with path.open("a" if append else "w", encoding="utf-8") as file:
                file.write(text if text.endswith("\n") or not text else text + "\n")
        except OSError as error:
            self.notify(
                f"Could not write {path}: {error.strerror}. Pick another path.",
                title="Not saved",
                severity="error",
                markup=False,
            )
            return
        verb = "Appended to" if append else "Saved to"
        self.notify(f"{verb} {path}", title=title, markup=False)
