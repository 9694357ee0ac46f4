"""The engine's knobs, read once from settings into plain values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voiceloop.config import Settings


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """What the loop needs to know from the configuration, nothing more."""

    system_prompt: str
    context_budget_chars: int
    prefetch: int
    max_chars: int
    first_chunk_min_chars: int
    first_chunk_min_words: int
    first_chunk_max_words: int
    barge_in: bool
    false_interruption_s: float
    false_interruption: str
    cues: bool
    translate_show_original: bool
    translate_speak: bool
    dictate_output_file: Path | None
    dictate_clipboard: bool
    dictate_cleanup: bool
    language: str | None
    """``[stt] language``: the language spoken, hence of the replies (None: detected)."""
    speculate: bool
    speculate_min_requests: int

    @classmethod
    def from_settings(cls, settings: Settings) -> EngineOptions:
        """Read the ``[llm]``, ``[tts]``, ``[audio]``, ``[translate]``, ``[dictate]`` and
        ``[turn]`` fields."""
        output_file = settings.dictate.output_file
        return cls(
            system_prompt=settings.llm.system_prompt,
            context_budget_chars=settings.llm.context_budget_chars,
            prefetch=max(0, settings.tts.prefetch),
            max_chars=settings.tts.max_chars,
            first_chunk_min_chars=settings.tts.first_chunk_min_chars,
            first_chunk_min_words=settings.tts.first_chunk_min_words,
            first_chunk_max_words=settings.tts.first_chunk_max_words,
            barge_in=settings.audio.barge_in,
            false_interruption_s=settings.audio.false_interruption_s,
            false_interruption=settings.audio.false_interruption,
            cues=settings.audio.cues,
            translate_show_original=settings.translate.show_original,
            translate_speak=settings.translate.speak,
            dictate_output_file=Path(output_file).expanduser() if output_file else None,
            dictate_clipboard=settings.dictate.clipboard,
            dictate_cleanup=settings.dictate.cleanup,
            language=settings.stt.language or None,
            speculate=settings.turn.speculate,
            speculate_min_requests=settings.turn.speculate_min_requests,
        )
