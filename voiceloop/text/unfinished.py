"""Does a transcript look like the speaker has more to say?

A sentence that stops on a conjunction, an article, a preposition or a filler ("book a
table for", "and", "um"), or on a trailing ellipsis or comma, is rarely finished: the
end of turn waits longer for it. Word lists per language; other languages are judged by
punctuation alone.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        """and or but because if when while which whose than as a an the my your his
        her its our their every to of for at with from into onto between without um
        uh er erm hmm"""
    ),
    "de": _words(
        """und oder aber denn weil wenn als dass ob der die das ein eine einen einem
        einer zu von für in auf an mit aus nach bei über unter ähm äh also"""
    ),
    "fr": _words(
        """et ou mais donc car parce si quand que qui le la les un une des du de à au
        aux pour dans sur avec sans chez par euh ben"""
    ),
    "es": _words(
        """y o pero porque si cuando que quien el la los las un una unos unas de del a
        al para por en con sin sobre eh este pues"""
    ),
}
_LANGUAGES = {"english": "en", "german": "de", "french": "fr", "spanish": "es"}
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def looks_unfinished(text: str, language: str | None = "en") -> bool:
    """True when ``text`` ends where a sentence rarely ends (see the module docstring)."""
    stripped = text.strip()
    if not stripped:
        return False
    if stripped.endswith(("...", "…", ",", ";", "-", "–", "—")):
        return True
    if stripped[-1] in "?!":
        return False
    if stripped[-1] == ".":
        # Transcribers punctuate a pause as a full stop; a full stop after a word that
        # cannot end a sentence is still unfinished.
        stripped = stripped[:-1]
    words = _WORD.findall(stripped.lower())
    if not words:
        return False
    code = (language or "en").lower()
    code = _LANGUAGES.get(code, code[:2])
    return words[-1] in _WORDS.get(code, frozenset())
