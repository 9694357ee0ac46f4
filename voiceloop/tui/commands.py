"""Every voiceloop action in the command palette (Ctrl+P)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from voiceloop.tui.typed_app import voiceloop_app

COMMANDS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    # (name, help, app action, args)
    ("Mode: converse", "Talk with the assistant (F2)", "set_mode", ("converse",)),
    ("Mode: dictate", "Speech to editable text (F3)", "set_mode", ("dictate",)),
    ("Mode: translate", "Foreign speech to English (F4)", "set_mode", ("translate",)),
    ("Talk", "Start or stop talking, push-to-talk as a toggle (Ctrl+T)", "talk", ()),
    ("Interrupt", "Stop speaking and cancel the turn (Esc)", "interrupt", ()),
    ("Hands-free on/off", "Let voice detection open and close turns (F5)", "hands_free", ()),
    ("Latency panel", "Show or hide the per-turn timings (F6)", "toggle_latency", ()),
    ("Devices", "Pick the microphone and speaker (F7)", "pick_devices", ()),
    ("Chat model", "Pick the chat model (F8)", "pick_model", ()),
    ("Voice", "Pick the speaking voice (F9)", "pick_voice", ()),
    ("Settings", "Edit and save the configuration (F10)", "settings", ()),
    ("History", "Past sessions and turns (Ctrl+R)", "history", ()),
    ("Copy all", "Copy the dictation, or the conversation (Ctrl+Y)", "dictation", ("copy",)),
    ("Dictation: save", "Save the dictation to a file (Ctrl+S)", "dictation", ("save",)),
    ("Dictation: append", "Append the dictation to a file (Ctrl+O)", "dictation", ("append",)),
    ("Dictation: clear", "Empty the dictation (Ctrl+L)", "dictation", ("clear",)),
    (
        "Restart engine",
        "Rebuild the engine from the settings and listen again",
        "restart_engine",
        (),
    ),
    ("Help", "Keys and what each state means (F1)", "help", ()),
)


class VoiceloopCommands(Provider):
    """Offers the actions of :data:`COMMANDS`."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = voiceloop_app(self.app)
        return [
            (name, help_text, partial(getattr(app, f"action_{action}"), *args))
            for name, help_text, action, args in COMMANDS
        ]

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
