"""Default parts the engine drives, imported only when first needed.

Kept apart so the engine can be built with other parts (tests, embedding applications)
and so importing the engine does not import numpy or the VAD model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from voiceloop.engine.options import EngineOptions
from voiceloop.engine.services import Splitter, SplitterFactory


def default_endpointer(settings: Any, realtime: bool = True) -> Any:
    """The audio layer's ``Endpointer`` configured from ``[vad]`` and ``[turn]`` (models
    loaded here); the end-of-turn model keeps off the caller's thread for live input."""
    from voiceloop.audio import vad

    return vad.Endpointer.from_settings(settings.vad, turn=settings.turn, background=realtime)


def default_splitter_factory(options: EngineOptions) -> SplitterFactory:
    """A factory of the text layer's ``SentenceSplitter`` honouring ``[tts] max_chars`` and
    ``first_chunk_*`` fields, with the abbreviations of the reply's language."""

    def make(*, language: str | None = None) -> Splitter:
        from voiceloop.text.sentences import SentenceSplitter

        return SentenceSplitter(
            max_chars=options.max_chars,
            first_chunk_min_chars=options.first_chunk_min_chars,
            first_chunk_min_words=options.first_chunk_min_words,
            first_chunk_max_words=options.first_chunk_max_words,
            language=language,
        )

    return make


def default_flac_encoder() -> Callable[[Any, int], bytes]:
    from voiceloop.audio.formats import encode_flac

    return encode_flac


def lazy_flac_encoder() -> Callable[[Any, int], bytes]:
    """:func:`default_flac_encoder`, loaded on the first utterance rather than at start-up."""
    encoder: Callable[[Any, int], bytes] | None = None

    def encode(pcm: Any, sample_rate: int) -> bytes:
        nonlocal encoder
        if encoder is None:
            encoder = default_flac_encoder()
        return encoder(pcm, sample_rate)

    return encode
