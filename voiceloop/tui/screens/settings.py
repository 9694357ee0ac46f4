"""Settings: the common options of each stage, validated and saved to the config file (0600)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import SecretStr
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import (
    Button,
    Footer,
    Input,
    Label,
    Select,
    Static,
    Switch,
    TabbedContent,
    TabPane,
)

from voiceloop.config import SECTIONS
from voiceloop.errors import VoiceloopError
from voiceloop.tui.protocols import ConfigFileLike
from voiceloop.tui.typed_app import voiceloop_app

if TYPE_CHECKING:
    from voiceloop.tui.app import VoiceloopApp

Kind = Literal["text", "secret", "int", "float", "bool", "choice"]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    section: str
    name: str
    label: str
    kind: Kind = "text"
    choices: tuple[str, ...] = ()

    @property
    def default(self) -> Any:
        """The value the settings model uses when the file does not set one."""
        field = SECTIONS[self.section].model_fields[self.name]
        value = field.get_default(call_default_factory=True)
        return None if isinstance(value, SecretStr) else value

    @property
    def widget_id(self) -> str:
        return f"{self.section}-{self.name}".replace("_", "-")


TABS: tuple[tuple[str, tuple[FieldSpec, ...]], ...] = (
    (
        "Speech to text",
        (
            FieldSpec("stt", "provider", "Provider"),
            FieldSpec("stt", "base_url", "Base URL (empty: Groq)"),
            FieldSpec("stt", "api_key", "API key", "secret"),
            FieldSpec("stt", "model", "Model"),
            FieldSpec("stt", "language", "Language (empty: detect)"),
            FieldSpec("translate", "model", "Translation model"),
            FieldSpec("translate", "show_original", "Show the original", "bool"),
            FieldSpec("translate", "speak", "Speak translations", "bool"),
        ),
    ),
    (
        "Chat",
        (
            FieldSpec("llm", "provider", "Provider"),
            FieldSpec("llm", "base_url", "Base URL (empty: Groq)"),
            FieldSpec("llm", "api_key", "API key", "secret"),
            FieldSpec("llm", "model", "Model"),
            FieldSpec("llm", "system_prompt", "System prompt"),
            FieldSpec("llm", "temperature", "Temperature (empty: server default)", "float"),
            FieldSpec(
                "llm",
                "reasoning_effort",
                "Reasoning effort",
                "choice",
                ("low", "medium", "high", "none", "default"),
            ),
        ),
    ),
    (
        "Voice",
        (
            FieldSpec("tts", "provider", "Provider"),
            FieldSpec("tts", "base_url", "Base URL (empty: Groq)"),
            FieldSpec("tts", "api_key", "API key", "secret"),
            FieldSpec("tts", "model", "Model"),
            FieldSpec("tts", "voice", "Voice"),
            FieldSpec("tts", "fallback", "Fall back to the local voice", "bool"),
            FieldSpec("tts", "first_chunk_interjections", 'Speak "Sure," alone first', "bool"),
        ),
    ),
    (
        "Audio",
        (
            FieldSpec("audio", "cues", "Listening cues", "bool"),
            FieldSpec("audio", "echo_cancellation", "Echo cancellation", "bool"),
            FieldSpec("audio", "noise_suppression", "Noise suppression", "bool"),
            FieldSpec("audio", "barge_in", "Barge-in (interrupt by voice)", "bool"),
            FieldSpec("audio", "false_interruption_s", "Hold on speech over a reply (s)", "float"),
            FieldSpec("audio", "false_interruption", "After a cough", "choice", ("resume", "cut")),
            FieldSpec("vad", "engine", "Voice detection", "choice", ("silero", "energy")),
            FieldSpec("vad", "threshold", "Detection threshold", "float"),
            FieldSpec("vad", "hangover_ms", "Pause that ends a turn (ms)", "int"),
            FieldSpec("turn", "enabled", "End-of-turn model", "bool"),
            FieldSpec("turn", "threshold", "End-of-turn threshold", "float"),
            FieldSpec("turn", "min_silence_ms", "Pause after a finished sentence (ms)", "int"),
            FieldSpec("turn", "max_silence_ms", "Longest pause mid-sentence (ms)", "int"),
            FieldSpec("turn", "speculate", "Start the reply during the pause", "bool"),
            FieldSpec("turn", "speculate_after_ms", "Pause before it starts (ms)", "int"),
        ),
    ),
    (
        "Other",
        (
            FieldSpec("dictate", "output_file", "Dictation file"),
            FieldSpec("dictate", "clipboard", "Copy dictation automatically", "bool"),
            FieldSpec("store", "enabled", "Keep history", "bool"),
            FieldSpec(
                "store",
                "keep_audio",
                "Keep recordings",
                "choice",
                ("forever", "days", "none"),
            ),
        ),
    ),
)

FIELDS: tuple[FieldSpec, ...] = tuple(spec for _, specs in TABS for spec in specs)


def _widget(spec: FieldSpec, value: Any) -> Input | Switch | Select[str]:
    wid = spec.widget_id
    if spec.kind == "bool":
        return Switch(bool(value), id=wid)  # styled to one line in app.tcss
    if spec.kind == "choice":
        chosen = value if value in spec.choices else spec.choices[0]
        options = [(c, c) for c in spec.choices]
        return Select(options, value=chosen, id=wid, allow_blank=False, compact=True)
    if spec.kind == "secret":
        placeholder = "set — type to replace" if value else "not set"
        return Input("", password=True, placeholder=placeholder, id=wid, compact=True)
    input_type: Literal["integer", "number", "text"] = (
        "integer" if spec.kind == "int" else "number" if spec.kind == "float" else "text"
    )
    text = "" if value is None else str(value)
    return Input(text, type=input_type, id=wid, compact=True)


def parse_value(spec: FieldSpec, raw: Any) -> Any:
    """Turn a widget value into the config value (``None`` clears the key)."""
    if spec.kind in ("bool", "choice"):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    if spec.kind == "int":
        return int(text)
    if spec.kind == "float":
        return float(text)
    return text


class SettingsScreen(Screen[None]):
    """Tabs of fields; Ctrl+S validates and saves, Esc leaves without saving."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", priority=True),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, config: ConfigFileLike) -> None:
        super().__init__(id="settings")
        self.config = config
        self.current: dict[str, dict[str, Any]] = {}

    @property
    def vapp(self) -> VoiceloopApp:
        return voiceloop_app(self.app)

    def compose(self) -> ComposeResult:
        try:
            self.current = {k: dict(v) for k, v in self.config.load().items()}
        except VoiceloopError as error:
            self.current = {}
            self.notify(error.one_line(), title=error.title, severity="error", markup=False)
        yield Label("Settings — Ctrl+S saves, Esc goes back", classes="dialog-title")
        with TabbedContent():
            for title, specs in TABS:
                with TabPane(title), VerticalScroll(classes="settings-form"):
                    for spec in specs:
                        value = self.current.get(spec.section, {}).get(spec.name, spec.default)
                        with Horizontal(classes="field"):
                            yield Label(spec.label, classes="field-label")
                            yield _widget(spec, value)
        yield Static("", id="settings-error", markup=False)
        with Horizontal(classes="dialog-buttons"):
            yield Button("Save (^s)", id="save", variant="primary")
            yield Button("Back (esc)", id="back")
        yield Footer()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.app.pop_screen()

    def collect(self) -> dict[str, dict[str, Any]]:
        """The fields that differ from the file, as ``{section: {field: value}}``."""
        updates: dict[str, dict[str, Any]] = {}
        for spec in FIELDS:
            widget = self.query_one(f"#{spec.widget_id}")
            assert isinstance(widget, (Input, Switch, Select))  # as _widget() made it
            raw = widget.value
            if spec.kind == "secret" and not str(raw).strip():
                continue  # an empty key field keeps the stored key
            try:
                value = parse_value(spec, raw)
            except ValueError:
                raise ValueError(f"{spec.label}: not a valid number") from None
            if spec.kind == "secret":
                value = SecretStr(value)
            stored = self.current.get(spec.section, {}).get(spec.name, spec.default)
            if value != stored:
                updates.setdefault(spec.section, {})[spec.name] = value
        return updates

    def action_save(self) -> None:
        error_line = self.query_one("#settings-error", Static)
        try:
            updates = self.collect()
            self.config.validate(updates)
            self.config.save(updates)
        except ValueError as error:
            error_line.update(str(error))
            self.notify(str(error), title="Not saved", severity="error", markup=False)
            return
        except VoiceloopError as error:
            error_line.update(error.one_line())
            self.notify(error.one_line(), title=error.title, severity="error", markup=False)
            return
        error_line.update("")
        for section, fields in updates.items():
            for name, value in fields.items():
                if not isinstance(value, SecretStr):
                    self.current.setdefault(section, {})[name] = value
        self.vapp.apply_settings(updates)
        for spec in FIELDS:
            if spec.kind == "secret":
                self.query_one(f"#{spec.widget_id}", Input).value = ""
        count = sum(len(f) for f in updates.values())
        self.notify(f"{count} change(s) saved." if count else "Nothing changed.", title="Settings")
