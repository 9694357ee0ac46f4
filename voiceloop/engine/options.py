"""The engine's knobs, read once from settings into plain values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_SYSTEM_PROMPT = (
    "You are a helpful voice assistant. Your replies are spoken aloud: answer briefly, "
    "in plain sentences, without lists, tables or markdown."
)


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """What the loop needs to know from the configuration, nothing more."""

    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    context_budget_chars: int = 12_000
    prefetch: int = 2
    max_chars: int = 200
    first_chunk_min_chars: int = 15
    barge_in: bool | None = None
    """None: on exactly when the source cancels the speaker's echo."""
    false_interruption_s: float = 1.0
    false_interruption: str = "resume"
    cues: bool = False
    translate_show_original: bool = False
    translate_speak: bool = False
    dictate_output_file: Path | None = None
    dictate_clipboard: bool = False
    dictate_cleanup: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> EngineOptions:
        """Read the ``[llm]``, ``[tts]``, ``[audio]``, ``[translate]`` and ``[dictate]`` fields.

        Missing sections or fields keep their defaults, so partial settings objects
        (e.g. in tests) work.
        """

        def get(section: str, name: str, default: Any) -> Any:
            value = getattr(getattr(settings, section, None), name, None)
            return default if value is None else value

        output_file = get("dictate", "output_file", None)
        return cls(
            system_prompt=get("llm", "system_prompt", DEFAULT_SYSTEM_PROMPT),
            context_budget_chars=int(get("llm", "context_budget_chars", 12_000)),
            prefetch=max(0, int(get("tts", "prefetch", 2))),
            max_chars=int(get("tts", "max_chars", 200)),
            first_chunk_min_chars=int(get("tts", "first_chunk_min_chars", 15)),
            barge_in=_optional_bool(getattr(getattr(settings, "audio", None), "barge_in", None)),
            false_interruption_s=float(get("audio", "false_interruption_s", 1.0)),
            false_interruption=str(get("audio", "false_interruption", "resume")),
            cues=bool(get("audio", "cues", False)),
            translate_show_original=bool(get("translate", "show_original", False)),
            translate_speak=bool(get("translate", "speak", False)),
            dictate_output_file=Path(output_file).expanduser() if output_file else None,
            dictate_clipboard=bool(get("dictate", "clipboard", False)),
            dictate_cleanup=bool(get("dictate", "cleanup", False)),
        )


def _optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)
