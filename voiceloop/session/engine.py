"""Building a complete engine from settings: stages, audio in and out, history store.

Used by the headless CLI and the TUI. The stages come from a
:class:`~voiceloop.session.builder.Session`, which the engine closes when it ends. Audio
endpoints are
given as *specs*: an existing audio file is read with ``FileSource``; an output that
looks like a file path (an audio suffix or a directory part) is written with
``FileSink``; anything else names a device (index or part of its name), ``None`` the
configured ``[audio] input`` / ``output`` device.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from voiceloop.events import Event, Mode, Notice
from voiceloop.session.builder import Session
from voiceloop.session.serving import local_instead_notice

if TYPE_CHECKING:
    from voiceloop.audio.base import AudioSink, FrameSource
    from voiceloop.config import Settings
    from voiceloop.engine.loop import Engine
    from voiceloop.engine.services import Recorder
    from voiceloop.errors import VoiceloopError
    from voiceloop.store import Store

log = logging.getLogger(__name__)

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".mp3", ".m4a", ".opus", ".aiff", ".aif"}


class _Default(enum.Enum):
    STORE = "the configured history store"


_DEFAULT = _Default.STORE


def engine_from_settings(
    settings: Settings,
    *,
    mode: Mode,
    on_event: Callable[[Event], None],
    input: str | int | None = None,
    output: str | int | None = None,
    recorder: Recorder | Literal[_Default.STORE] | None = _DEFAULT,
    metrics_path: Path | None = None,
    max_turns: int | None = None,
    realtime_file: bool = False,
    engine_class: type[Engine] | None = None,
    **engine_kwargs: Any,
) -> Engine:
    """Build an engine for ``mode`` from ``settings``.

    Raises :class:`~voiceloop.errors.ConfigError` when a stage the mode needs cannot be
    built, :class:`~voiceloop.errors.StoreError` when history is on and the data dir is
    unusable, and audio errors for unknown devices. ``recorder=None`` disables history.
    The engine closes what is built here (stages, store) when :meth:`Engine.run` ends.
    Other keywords go to the :class:`Engine` (e.g. ``clipboard=`` for a TUI's own copy).
    """
    if engine_class is None:
        from voiceloop.engine.loop import Engine

        engine_class = Engine

    session = Session(settings)
    stages, unavailable = session.build(mode)
    closers: list[Callable[[], object]] = [session.aclose]
    if recorder is _DEFAULT:
        recorder = open_store(settings)
        if recorder is not None:
            closers.append(recorder.close)
    source = open_source(input if input is not None else settings.audio.input, realtime_file)
    if output is None and is_audio_file(input) and not speaks(settings, mode):
        from voiceloop.engine.nullsink import NullSink

        sink: AudioSink = NullSink()  # nothing to hear, and no sound device needed
    else:
        sink = open_sink(output if output is not None else settings.audio.output, realtime_file)
    if getattr(settings.audio, "echo_cancellation", False) and speaks(settings, mode):
        from voiceloop.audio.echo import cancel_echo

        source = cancel_echo(source, sink, noise_suppression=bool(settings.audio.noise_suppression))
    notices = startup_notices(settings, mode, unavailable)
    local_notice = local_instead_notice(settings, stages.providers)
    if local_notice is not None:
        notices.insert(0, local_notice)
    return engine_class(
        settings,
        mode=mode,
        source=source,
        sink=sink,
        stages=stages,
        on_event=on_event,
        recorder=recorder,
        metrics_path=metrics_path,
        max_turns=max_turns,
        startup_notices=notices,
        closers=closers,
        **engine_kwargs,
    )


def open_store(settings: Settings) -> Store | None:
    """The history store when ``[store] enabled``, else ``None``."""
    if not getattr(settings.store, "enabled", True):
        return None
    from voiceloop.store import Store

    return Store.from_settings(settings)


def is_audio_file(spec: str | int | None) -> bool:
    return isinstance(spec, str) and Path(spec).expanduser().is_file()


def looks_like_file(spec: str | int | None) -> bool:
    if not isinstance(spec, str):
        return False
    path = Path(spec).expanduser()
    return path.suffix.lower() in AUDIO_SUFFIXES or "/" in spec or path.is_file()


def device_spec(spec: str | int | None) -> str | int | None:
    if isinstance(spec, str) and spec.strip().isdigit():
        return int(spec)
    return spec


def open_source(spec: str | int | None, realtime_file: bool = False) -> FrameSource:
    """A ``FileSource`` for an existing file, else a ``Microphone`` for the device spec
    (the one opened at launch when it was opened for this spec)."""
    if is_audio_file(spec):
        from voiceloop.audio.capture import FileSource

        return FileSource(Path(str(spec)).expanduser(), realtime=realtime_file)
    from voiceloop.audio.early import take_early

    early = take_early(device_spec(spec))
    if early is not None:
        from voiceloop.audio.kept import KeptMicrophone

        return KeptMicrophone(early)
    from voiceloop.audio.capture import Microphone

    return Microphone(device_spec(spec))


def speaks(settings: Settings, mode: Mode) -> bool:
    """Whether ``mode`` plays speech with these settings."""
    return mode == "converse" or (mode == "translate" and bool(settings.translate.speak))


def open_sink(spec: str | int | None, realtime: bool = False) -> AudioSink:
    """A ``FileSink`` for a file path (paced like a speaker when ``realtime``), else a
    ``Speaker`` for the device spec."""
    if looks_like_file(spec):
        from voiceloop.audio.filesink import FileSink

        return FileSink(Path(str(spec)).expanduser(), realtime=realtime)
    from voiceloop.audio.playback import Speaker

    return Speaker(device_spec(spec))


def startup_notices(
    settings: Settings, mode: Mode, unavailable: Mapping[str, VoiceloopError]
) -> list[Notice]:
    """Warnings about missing stages that this mode's options would use."""
    wanted: dict[str, str] = {}
    if mode == "converse":
        wanted["synthesizer"] = "replies will be shown but not spoken"
    if mode == "translate" and getattr(settings.translate, "speak", False):
        wanted["synthesizer"] = "translations will not be spoken"
    if mode == "translate" and getattr(settings.translate, "show_original", False):
        wanted["transcriber"] = "the original-language text will not be shown"
    if mode == "dictate" and getattr(settings.dictate, "cleanup", False):
        wanted["responder"] = "dictation is kept as transcribed, without clean-up"
    notices = []
    for stage, consequence in wanted.items():
        error = unavailable.get(stage)
        if error is not None:
            notices.append(
                Notice(
                    level="warning",
                    title=f"No {stage}",
                    message=f"{error.one_line()} — {consequence}",
                )
            )
    return notices
