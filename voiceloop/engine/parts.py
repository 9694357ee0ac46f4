"""Default parts the engine drives, imported only when first needed.

Kept apart so the engine can be built with other parts (tests, embedding applications)
and so importing the engine does not import numpy or the VAD model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from voiceloop.engine.options import EngineOptions
from voiceloop.engine.services import Splitter
from voiceloop.errors import ConfigError


def default_endpointer(settings: Any, realtime: bool = True) -> Any:
    """The audio layer's ``Endpointer`` configured from ``[vad]`` and ``[turn]`` (models
    loaded here); the end-of-turn model keeps off the caller's thread for live input."""
    try:
        from voiceloop.audio import vad
    except ImportError as exc:
        raise ConfigError(
            "the voice-activity detector is not available",
            hint=f"voiceloop.audio.vad could not be imported ({exc})",
        ) from exc
    return vad.Endpointer.from_settings(
        settings.vad, turn=getattr(settings, "turn", None), background=realtime
    )


def default_splitter_factory(options: EngineOptions) -> Callable[[], Splitter]:
    """A factory of the text layer's ``SentenceSplitter`` honouring ``[tts] max_chars`` and
    ``first_chunk_min_chars``."""

    def make() -> Splitter:
        from voiceloop.text.sentences import SentenceSplitter

        return SentenceSplitter(
            max_chars=options.max_chars, first_chunk_min_chars=options.first_chunk_min_chars
        )

    return make


def default_flac_encoder() -> Callable[[Any, int], bytes]:
    from voiceloop.audio.formats import encode_flac

    return encode_flac
