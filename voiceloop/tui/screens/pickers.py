"""Pickers for devices, chat model and voice. A choice applies live and is saved."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, LoadingIndicator, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from voiceloop.errors import VoiceloopError
from voiceloop.tui.protocols import DeviceChoice
from voiceloop.tui.typed_app import voiceloop_app

if TYPE_CHECKING:
    from voiceloop.tui.app import VoiceloopApp


class _Picker(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss", "Close")]

    def __init__(self) -> None:
        super().__init__(classes="dialog-screen picker")

    @property
    def vapp(self) -> VoiceloopApp:
        return voiceloop_app(self.app)


def _options(labels: Sequence[str], current: str) -> list[Option]:
    return [
        Option(("✓ " if label == current else "  ") + label, id=str(i))
        for i, label in enumerate(labels)
    ]


class DevicesScreen(_Picker):
    """Microphone on the left, speaker on the right; Enter picks."""

    def __init__(
        self,
        inputs: Callable[[], Sequence[DeviceChoice]] | None,
        outputs: Callable[[], Sequence[DeviceChoice]] | None,
    ) -> None:
        super().__init__()
        self._lists = {"input": inputs, "output": outputs}
        self.choices: dict[str, list[DeviceChoice]] = {"input": [], "output": []}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Devices — Enter picks, Tab switches, Esc closes", classes="dialog-title")
            with Horizontal(id="device-lists"):
                for kind in ("input", "output"):
                    with Vertical():
                        yield Label("Microphone" if kind == "input" else "Speaker")
                        yield OptionList(id=f"{kind}-devices")

    def on_mount(self) -> None:
        profile = self.vapp.profile
        for kind, lister in self._lists.items():
            widget = self.query_one(f"#{kind}-devices", OptionList)
            try:
                choices = list(lister()) if lister is not None else []
            except VoiceloopError as error:
                widget.add_option(Option(f"{error.title}: {error.message}", disabled=True))
                continue
            self.choices[kind] = choices
            current = profile.input_device if kind == "input" else profile.output_device
            if not choices:
                widget.add_option(Option("no devices found", disabled=True))
            labels = [c.label for c in choices]
            widget.add_options(_options(labels, current))
            if current in labels:
                widget.highlighted = labels.index(current)
        self.query_one("#input-devices", OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        kind = "input" if event.option_list.id == "input-devices" else "output"
        choice = self.choices[kind][int(event.option.id or 0)]
        self.vapp.change_setting("audio", kind, choice.value, label=choice.label)
        self.notify(f"{'Microphone' if kind == 'input' else 'Speaker'}: {choice.label}")
        self.dismiss()


class _ListPicker(_Picker):
    """A titled list of names from a (possibly slow) source."""

    title_text = ""
    section = ""
    field = ""

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current
        self.names: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"{self.title_text} — Enter picks, Esc closes", classes="dialog-title")
            yield LoadingIndicator()
            yield Static("", id="picker-error", markup=False)
            yield OptionList(id="picker-list")

    def show_names(self, names: Sequence[str]) -> None:
        self.names = list(names)
        self.query_one(LoadingIndicator).display = False
        widget = self.query_one(OptionList)
        widget.clear_options()
        widget.add_options(_options(self.names, self.current))
        if self.current in self.names:
            widget.highlighted = self.names.index(self.current)
        widget.focus()

    def show_error(self, text: str) -> None:
        self.query_one(LoadingIndicator).display = False
        self.query_one("#picker-error", Static).update(text)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        name = self.names[int(event.option.id or 0)]
        self.vapp.change_setting(self.section, self.field, name)
        self.notify(f"{self.title_text}: {name}")
        self.dismiss()


class ModelPicker(_ListPicker):
    """Chat models, as the server lists them (GET /models), fetched in a worker."""

    title_text = "Chat model"
    section = "llm"
    field = "model"

    def __init__(self, lister: Callable[[], Awaitable[Sequence[str]]] | None, current: str) -> None:
        super().__init__(current)
        self.lister = lister

    def on_mount(self) -> None:
        if self.lister is None:
            self.show_error("No model list is available for this server.")
            return
        self.load()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # Worker messages do not bubble: hand failures to the app's one error handler.
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.vapp.show_fatal(event.worker.error, what="A background task failed")

    @work(exclusive=True, group="models", exit_on_error=False)
    async def load(self) -> None:
        assert self.lister is not None
        try:
            names = await self.lister()
        except VoiceloopError as error:
            self.show_error(f"{error.title}: {error.one_line()}")
            return
        self.show_names(sorted(names))


class VoicePicker(_ListPicker):
    title_text = "Voice"
    section = "tts"
    field = "voice"

    def __init__(self, lister: Callable[[], Sequence[str]] | None, current: str) -> None:
        super().__init__(current)
        self.lister = lister

    def on_mount(self) -> None:
        try:
            names = list(self.lister()) if self.lister is not None else []
        except VoiceloopError as error:
            self.show_error(f"{error.title}: {error.one_line()}")
            return
        if not names:
            self.show_error("This speech model offers no list of voices.")
            return
        self.show_names(names)
