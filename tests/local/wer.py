"""Word error rate: Levenshtein distance over normalised words."""

from __future__ import annotations

import re
from collections.abc import Iterable

_NOT_WORD = re.compile(r"[^a-z0-9']+")


def normalise(text: str) -> list[str]:
    """Lower case, punctuation to spaces, apostrophes dropped: comparable words."""
    return [w.replace("'", "") for w in _NOT_WORD.split(text.lower()) if w.strip("'")]


def edit_distance(reference: list[str], hypothesis: list[str]) -> int:
    """Minimum substitutions + insertions + deletions turning ``hypothesis`` into ``reference``."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, start=1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, start=1):
            current.append(
                min(
                    previous[j] + 1,  # deletion
                    current[j - 1] + 1,  # insertion
                    previous[j - 1] + (ref_word != hyp_word),  # substitution or match
                )
            )
        previous = current
    return previous[-1]


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> float:
    """Total word errors over total reference words, for (reference, hypothesis) pairs."""
    errors = words = 0
    for reference, hypothesis in pairs:
        ref = normalise(reference)
        errors += edit_distance(ref, normalise(hypothesis))
        words += len(ref)
    return errors / words if words else 0.0
