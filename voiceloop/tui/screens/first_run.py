"""First run, or no API key: what works now, how to add a key, and a place to paste one."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import SecretStr
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Footer, Input, Label, Static

from voiceloop.errors import VoiceloopError
from voiceloop.tui.typed_app import voiceloop_app

if TYPE_CHECKING:
    from voiceloop.tui.app import VoiceloopApp


class FirstRunScreen(Screen[None]):
    """Shown when no API key is configured."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+q", "app.quit", "Quit"),
        Binding("f1", "app.help", "Help"),
        Binding("f2", "converse", "Converse", show=False),
        Binding("f3", "local", "Local dictation", show=False),
    ]

    def __init__(self, *, local_dictation: bool) -> None:
        super().__init__(id="first-run")
        self.local_dictation = local_dictation

    @property
    def vapp(self) -> VoiceloopApp:
        return voiceloop_app(self.app)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="first-run-body"):
            yield Label("Welcome to voiceloop", classes="dialog-title")
            yield Static(
                "voiceloop listens, answers and speaks using a speech and chat service. "
                "It needs an API key for that (Groq by default; any OpenAI-compatible "
                "server works).",
                markup=False,
            )
            if self.local_dictation:
                now = (
                    "Works now without a key: local dictation (speech to text on this "
                    "machine). Press F3 or the button below."
                )
            else:
                now = "Without a key nothing can be transcribed yet: no local engine is installed."
            yield Static(now, id="works-now", markup=False)
            yield Static(
                "To add a key: set GROQ_API_KEY in your environment, put groq_api_key in the "
                "config file, or paste it here (saved to the config file, readable only by you).",
                markup=False,
            )
            yield Input(placeholder="paste your API key", password=True, id="api-key")
            yield Static("", id="key-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Save key", id="save-key", variant="primary")
                if self.local_dictation:
                    yield Button("Local dictation (F3)", id="local")
                yield Button("Quit", id="quit", variant="error")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._check_and_save(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-key":
            self._check_and_save(self.query_one(Input).value)
        elif event.button.id == "local":
            self.action_local()
        elif event.button.id == "quit":
            self.app.exit(0)

    def action_converse(self) -> None:
        """Conversation needs a key: say so where the key goes."""
        text = "Conversation needs an API key: paste it above and press Enter"
        self._status(text + (" (or F3 for local dictation now)." if self.local_dictation else "."))
        self.query_one(Input).focus()

    def action_local(self) -> None:
        if not self.local_dictation:
            return
        self.vapp.mode = "dictate"
        self.dismiss()
        self.vapp.start_engine()

    def _status(self, text: str) -> None:
        self.query_one("#key-status", Static).update(text)

    def _check_and_save(self, key: str) -> None:
        self.run_worker(self.save_key(key), group="key", exclusive=True, exit_on_error=False)

    async def save_key(self, key: str) -> None:
        """Check the key with the service, save it, and start with it at once."""
        key = key.strip()
        if not key:
            self.notify("Paste a key first.", title="No key", severity="warning")
            return
        config = self.vapp.deps.config
        if config is None:
            self.notify("No config file; set GROQ_API_KEY instead.", title="Not saved")
            return
        use_key = self.vapp.deps.use_key
        profile = None
        try:
            if use_key is not None:
                self._status("Checking the key with the service…")
                profile = await use_key(key)
            # The Groq key every stage uses unless it has its own.
            config.save({"groq_api_key": SecretStr(key)})
        except VoiceloopError as error:
            line = error.one_line()
            self._status(f"Key not saved — {error.title}: {line}")
            self.notify(line, title=f"Key not saved: {error.title}", severity="error", markup=False)
            return
        self.query_one(Input).value = ""
        self._status("")
        self.notify("Key checked and saved. Starting…", title="Ready")
        self.vapp.deps.has_key = True
        if profile is not None:
            self.vapp.set_profile(profile)
        self.dismiss()
        self.vapp.start_engine()
