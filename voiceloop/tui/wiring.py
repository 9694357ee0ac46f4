"""Fill the TUI's seams from ``Settings`` and the real engine.

Kept apart from the app so that the app and its tests see only :class:`TuiDeps`.
Anything not available leaves its seam empty, and the app hides or explains the
feature instead of failing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from voiceloop.config import Settings, config_path
from voiceloop.events import Mode
from voiceloop.tui.config_file import TomlConfigFile
from voiceloop.tui.protocols import (
    DeviceChoice,
    EngineFactory,
    EngineLike,
    EventCallback,
    Profile,
    TuiDeps,
)

DeviceLister = Callable[[], list[DeviceChoice]]


def local_stt_installed() -> bool:
    """Whether the local speech-to-text engine can be loaded (dictation without a key)."""
    import importlib.util

    return importlib.util.find_spec("faster_whisper") is not None


def profile_from_settings(settings: Settings) -> Profile:
    def device(value: str | int | None) -> str:
        return "default" if value is None else str(value)

    from voiceloop.session.serving import FALLBACK_PROVIDER, effective_provider

    # The engines that will actually serve, e.g. the local ones when there is no key.
    stt = settings.stt.model
    if effective_provider(settings, "stt") == FALLBACK_PROVIDER:
        stt = f"local {settings.local.stt_model or 'tiny.en'}"
    voice = settings.tts.voice
    if effective_provider(settings, "tts") == FALLBACK_PROVIDER:
        piper = settings.local.tts_voice
        voice = f"local {Path(piper).stem if piper else 'joe'}"
    return Profile(
        stt_model=stt,
        chat_model=settings.llm.model if settings.has_chat_backend() else "none (no key)",
        voice=voice,
        input_device=device(settings.audio.input),
        output_device=device(settings.audio.output),
    )


def apply_to_settings(settings: Settings, section: str, field: str, value: Any) -> None:
    """Set one value on the live settings (validated by the model)."""
    if field == "api_key" and value is None:
        return  # an empty key field keeps the stored key
    target = getattr(settings, section, None)
    if target is None:
        setattr(settings, section, value)
    else:
        setattr(target, field, value)


def deps_from_settings(
    settings: Settings, base: TuiDeps | None = None, *, config_file: Path | None = None
) -> TuiDeps:
    """``base`` with every unset seam filled from ``settings`` and the real engine."""
    base = base or TuiDeps()
    changes: dict[str, Any] = {
        "has_key": base.has_key and settings.has_chat_backend(),
        "local_dictation": base.local_dictation or local_stt_installed(),
    }
    if base.profile == Profile():
        changes["profile"] = profile_from_settings(settings)
    if base.config is None:
        changes["config"] = TomlConfigFile(config_file or config_path())
    if base.apply_setting is None:
        changes["apply_setting"] = lambda s, f, v: apply_to_settings(settings, s, f, v)
        changes["restart_on_change"] = True
    if base.engine_factory is None:
        changes["engine_factory"] = engine_factory(settings)
    if base.history is None and settings.store.enabled:
        from voiceloop.tui.history_source import StoreHistory

        changes["history"] = StoreHistory.from_settings(settings)
    if base.list_models is None:
        changes["list_models"] = model_lister(settings)
    if base.list_voices is None:
        changes["list_voices"] = lambda: voices_for(settings)
    if base.use_key is None:
        changes["use_key"] = key_user(settings)
    if base.dictation_file is None and settings.dictate.output_file:
        changes["dictation_file"] = str(settings.dictate.output_file)
    if base.list_input_devices is None or base.list_output_devices is None:
        inputs, outputs = device_listers()
        changes.setdefault("list_input_devices", base.list_input_devices or inputs)
        changes.setdefault("list_output_devices", base.list_output_devices or outputs)
    return dataclasses.replace(base, **changes)


def engine_factory(settings: Settings) -> EngineFactory:
    """``(mode, on_event) -> Engine`` built from ``settings`` as they are at each call."""
    from voiceloop.session.engine import engine_from_settings

    def build(mode: Mode, on_event: EventCallback) -> EngineLike:
        return engine_from_settings(settings, mode=mode, on_event=on_event)

    return build


def device_listers() -> tuple[DeviceLister, DeviceLister]:
    """Callables listing input and output devices, from the audio layer."""

    def listing(kind: str) -> list[DeviceChoice]:
        from voiceloop.audio import devices

        found = devices.list_devices()
        choices = [DeviceChoice("default", None)]
        for device in found:
            channels = getattr(device, f"max_{kind}_channels", 0)
            if channels:
                choices.append(DeviceChoice(str(device.name), device.name))
        return choices

    return (lambda: listing("input")), (lambda: listing("output"))


ORPHEUS_ENGLISH_VOICES = ("autumn", "diana", "hannah", "austin", "daniel", "troy")
"""The voices of Groq's default speech model (canopylabs/orpheus-v1-english)."""


def voices_for(settings: Settings) -> list[str]:
    """Voices to offer: the known set of the default model, plus the configured one."""
    voices = list(ORPHEUS_ENGLISH_VOICES) if "orpheus" in settings.tts.model else []
    if settings.tts.voice and settings.tts.voice not in voices:
        voices.insert(0, settings.tts.voice)
    return voices


def key_user(settings: Settings) -> Callable[[str], Awaitable[Profile]]:
    """An async callable that checks a key (``GET /models``), puts it in ``settings`` and
    returns the set-up it gives."""

    async def use(key: str) -> Profile:
        from pydantic import SecretStr

        from voiceloop.logs import add_secret
        from voiceloop.session.builder import Session

        secret = SecretStr(key)
        add_secret(secret)  # masked in logs from the first request that carries it
        # The shared key goes to the Groq root (stages with a base_url of their own keep
        # their own key).
        root = settings.groq_base_url.rstrip("/") + "/openai/v1"
        async with Session(settings) as session:
            await session.client_at(root, secret).models()
        settings.groq_api_key = secret
        return profile_from_settings(settings)

    return use


def model_lister(settings: Settings) -> Callable[[], Awaitable[list[str]]]:
    """An async callable returning the chat server's model ids (``GET /models``)."""

    async def models() -> list[str]:
        from voiceloop.capabilities import stage_capabilities
        from voiceloop.errors import ConfigError
        from voiceloop.session.builder import Session

        section = settings.llm
        if not stage_capabilities(section, settings).lists_models:
            raise ConfigError(
                f"the chat provider {section.provider!r} has no model list",
                hint="type the model in Settings (F10) instead",
            )
        async with Session(settings) as session:
            models = await session.client(section).models()
        return [m.id for m in models if m.active is not False]

    return models
