"""Cut a streamed reply into speakable chunks, sentence by sentence.

:class:`SentenceSplitter` takes the text deltas of a chat stream and returns each chunk
as soon as it is certain, so synthesis of the first sentence can start while the model is
still writing the second. Chunks are speakable text (see :mod:`voiceloop.text.speakable`):
markdown and emoji removed, whitespace normalised, never empty, never longer than
``max_chars``.

Where a chunk ends:

- at a sentence end: ``.``, ``!``, ``?`` (with any closing quotes or brackets) followed by
  whitespace, and at every line break (paragraphs, list items, headings);
- not inside numbers, addresses or names: a ``.`` followed by anything but whitespace
  (``3.5``, ``$1,000.50``, ``example.com/a.b``, ``v1.2.3``, ``a@b.org``) never ends one;
- not after an abbreviation: titles and the like (``Dr.``, ``Mr.``, ``e.g.``, ``vs.``, ...)
  never end a sentence; ``No.``/``Fig.`` do not before a digit; ``etc.``, ``U.S.``,
  ``a.m.`` and other dotted initialisms end one only when the next word is capitalised; and
  no ``.`` ends a sentence when the next word starts in lower case;
- an ellipsis (``...`` or ``…``) ends a sentence only when followed by a capitalised word,
  a line break or the end of the text: ``Wait... what?`` is one sentence,
  ``I see... The point is`` two.

Clause boundaries are ``,`` ``;`` ``:`` followed by whitespace, a dash ``—`` ``–`` or a
spaced ``-``, and the space before a word that opens a clause (``because``, ``but``,
``although``, ``whereas``, ``unless``) when another word follows it. The very first chunk
may end early, at a clause boundary, once it holds ``first_chunk_min_chars`` and
``first_chunk_min_words`` (or, with ``first_chunk_interjections``, when it is a single
interjection before a comma: ``Sure,`` ``Well,``, a phrase said on its own anyway): it
cuts the time to the first audio, since synthesis time grows with the text. When no
boundary arrives within ``first_chunk_max_words`` words, the first chunk is a whole
sentence like the others. An early cut is never made inside a name or a
number: not between two capitalised words (``Paris, Texas``, ``Star Wars: A New Hope``,
``John Smith, Jr.``), not between two digits (``5 - 10``), and not right after an
abbreviation that leads into what follows (``e.g.,``).

A sentence longer than ``max_chars`` is cut at its last clause boundary that leaves at
least ``clause_min_chars`` and at most ``max_chars``, else at its last word boundary within
``max_chars``, else (one overlong word) into ``max_chars`` pieces.

Every rule looks only at the text itself (a decision that needs the next character waits
for it), so the chunks do not depend on how the stream was cut into deltas. Markdown is
rewritten a whole word at a time, so a chunk is released once the word after it is
complete: ``"Hello there. How"`` releases ``"Hello there."`` when the space after
``How`` arrives (a few milliseconds of a streamed reply).
"""

from __future__ import annotations

import re

from voiceloop.text.languages import LanguageRules, rules_for
from voiceloop.text.speakable import MarkdownStream, normalize_space

__all__ = ["SentenceSplitter", "split_text"]

_TERMINATORS = ".!?…"
_WIDE_TERMINATORS = "。！？｡"  # scripts without spaces: an end whatever follows
_CLOSERS = "\"')]}’”»」』）】》〉〕"
_CLAUSE_MARKS = ",;:"
_WIDE_CLAUSE_MARKS = "，、；："
_OPENERS = "\"'([{‘“«「『（【《〈〔"
_DASHES = "—–"
_HSPACE = " \t"
CLAUSE_OPENERS = rules_for("en").clause_openers
"""Words that open an English clause: a sentence may be cut just before them."""
_KEEP_BEHIND = 32  # characters kept before a chunk start, for abbreviation look-behind
_LOOK_BEHIND = 24  # characters an abbreviation (``i. d. R.``) may span

NEVER_END = rules_for("en").never_end
"""English abbreviations after which a sentence never ends."""
BEFORE_NUMBER = rules_for("en").before_number
"""English abbreviations that do not end a sentence when a number follows (``No. 5``)."""
MAY_END = rules_for("en").may_end
"""English abbreviations that end a sentence only before a capitalised word."""
_INITIALISM = re.compile(r"(?:[a-z]\.){2,}")
_ABBREV_TAIL = re.compile(r"(?:[^\W\d_]|\.)*$")
_ORDINAL = re.compile(r"(?:^|[^\w.,])\d{1,2}$")


def _prefixes(phrases: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """``{"z.": ("b.",), ...}``: the first words of each abbreviation of several words,
    with what must follow them."""
    out: dict[str, list[str]] = {}
    for phrase in phrases:
        words = phrase.split()
        for k in range(1, len(words)):
            out.setdefault(" ".join(words[:k]), []).append(" ".join(words[k:]))
    return {head: tuple(rests) for head, rests in out.items()}


class SentenceSplitter:
    """Streaming splitter: ``push()`` each delta, ``flush()`` at the end of the stream.

    ``flush()`` also resets the splitter, so one instance can serve several replies.
    ``language`` (a code such as ``"de"`` or Whisper's name such as ``"german"``) picks the
    abbreviations and clause words of :mod:`voiceloop.text.languages`; None means English.
    """

    def __init__(
        self,
        max_chars: int = 200,
        first_chunk_min_chars: int = 15,
        clause_min_chars: int = 60,
        *,
        first_chunk_min_words: int = 1,
        first_chunk_max_words: int | None = None,
        first_chunk_interjections: bool = False,
        language: str | None = None,
        markdown: bool = True,
    ) -> None:
        if max_chars < 1:
            raise ValueError(f"max_chars must be at least 1, got {max_chars}")
        self.rules: LanguageRules = rules_for(language)
        self._heads = _prefixes(self.rules.never_end | self.rules.may_end)
        self._opener_prefixes = frozenset(
            w[:k] for w in self.rules.clause_openers for k in range(len(w) + 1)
        )
        self.max_chars = max_chars
        self.first_chunk_min_chars = first_chunk_min_chars
        self.first_chunk_min_words = first_chunk_min_words
        self.first_chunk_max_words = first_chunk_max_words
        self.first_chunk_interjections = first_chunk_interjections
        self.clause_min_chars = clause_min_chars
        self.markdown = markdown
        self._reset()

    def _reset(self) -> None:
        self._md: MarkdownStream | _Plain = MarkdownStream() if self.markdown else _Plain()
        self._buf = ""  # speakable text; chunks not yet emitted start at _start
        self._start = 0
        self._scan = 0  # every position before this one has been classified
        self._cands: list[tuple[int, bool]] = []  # (cut position, is clause boundary)
        self._emitted = False

    def push(self, delta: str) -> list[str]:
        """Add a delta; return the chunks it completed (often none)."""
        self._buf += self._md.feed(delta)
        return self._drain(final=False)

    def flush(self) -> list[str]:
        """End of stream: return every remaining chunk, then start afresh."""
        self._buf += self._md.finish()
        out = self._drain(final=True)
        self._boundary(len(self._buf), "end", out)
        self._reset()
        return out

    # -- scanning ----------------------------------------------------------------------

    def _drain(self, *, final: bool) -> list[str]:
        out: list[str] = []
        i = self._scan
        while i < len(self._buf):
            step = self._classify(i, final)
            if step is None:
                break
            kind, cut, i = step
            if kind:
                self._boundary(cut, kind, out)
        self._scan = i
        drop = self._start - _KEEP_BEHIND
        if drop > 0:
            self._buf = self._buf[drop:]
            self._start -= drop
            self._scan -= drop
            self._cands = [(c - drop, clause) for c, clause in self._cands]
        return out

    def _classify(self, i: int, final: bool) -> tuple[str, int, int] | None:
        """What position ``i`` is: ``(kind, cut, next position)``, kind in "end", "clause",
        "word" or "" (nothing); None when the answer needs text not received yet."""
        buf, n = self._buf, len(self._buf)
        c = buf[i]
        if c == "\n":
            return "end", i, i + 1
        if c in _HSPACE:
            return self._space(i, final)
        if c in _WIDE_TERMINATORS:
            j = i
            while j < n and (buf[j] in _WIDE_TERMINATORS or buf[j] in _TERMINATORS):
                j += 1
            k = j
            while k < n and buf[k] in _CLOSERS:
                k += 1
            if k == n and not final:
                return None  # a closing quote may follow
            if k > j and k < n and not buf[k].isspace() and buf[k] not in _OPENERS:
                return "", 0, k  # 「こんにちは。」と言った: a quotation inside the sentence
            return "end", k, k
        if c in _WIDE_CLAUSE_MARKS:
            return "clause", i + 1, i + 1
        if c in _TERMINATORS:
            j = i
            while j < n and buf[j] in _TERMINATORS:
                j += 1
            k = j
            while k < n and buf[k] in _CLOSERS:
                k += 1
            if k < n and buf[k] not in _HSPACE and buf[k] != "\n":
                return "", 0, k  # 3.5, example.com, "?x": not an end
            m = k
            while m < n and buf[m] in _HSPACE:
                m += 1
            if m == n and not final:
                return None
            following = buf[m] if m < n else "\n"
            ends = self._ends_sentence(i, j, following, m, final)
            if ends is None:
                return None
            return ("end" if ends else ""), k, k
        if c in _CLAUSE_MARKS or c in _DASHES or c == "-":
            if i + 1 == n:
                return None if not final else ("", 0, n)
            spaced_after = buf[i + 1] in _HSPACE
            if c in _DASHES or (spaced_after and (c != "-" or (i > 0 and buf[i - 1] in _HSPACE))):
                if not self._emitted and not final and not self._next_word_known(i + 1):
                    return None  # an early first cut depends on the next word
                return "clause", i + 1, i + 1
        return "", 0, i + 1

    def _next_word_known(self, i: int) -> bool:
        """Whether the word after position ``i`` (past blanks) has been received whole."""
        buf, n = self._buf, len(self._buf)
        while i < n and buf[i] in _HSPACE + _OPENERS:
            i += 1
        while i < n and buf[i].isalpha():
            i += 1
        return i < n

    def _space(self, i: int, final: bool) -> tuple[str, int, int] | None:
        """A word boundary, or a clause boundary before a clause-opening word."""
        buf, n = self._buf, len(self._buf)
        j = i + 1
        while j < n and buf[j].isalpha():
            j += 1
        word = buf[i + 1 : j]
        if j == n:
            if not final and word in self._opener_prefixes:
                return None  # "... the sky looks blue bec" may yet open a clause
            return "word", i, i + 1
        opens = word in self.rules.clause_openers and buf[j] in _HSPACE
        return ("clause" if opens else "word"), i, i + 1

    def _ends_sentence(self, i: int, j: int, following: str, m: int, final: bool) -> bool | None:
        """Whether the terminator run ``buf[i:j]`` ends a sentence, given the next
        non-blank character (``"\\n"`` for a line break or the end of the text) at ``m``;
        None when that depends on text not received yet."""
        run = self._buf[i:j]
        if following == "\n":
            return True
        if "…" in run or ".." in run:
            return following.isupper()
        if "!" in run or "?" in run:
            return True
        if following.islower():
            return False
        rules, buf = self.rules, self._buf
        start = max(0, i - _LOOK_BEHIND)
        tail = _ABBREV_TAIL.search(buf, start, j)
        token = tail.group().lower() if tail else ""
        if token in self._heads:
            ahead = buf[m : m + _LOOK_BEHIND].lower()
            for rest in self._heads[token]:
                if ahead.startswith(rest):
                    return False
                if len(ahead) < len(rest) and rest.startswith(ahead) and not final:
                    return None
        words = buf[start:j].lower().split()
        if token:
            words[-1:] = [token]
        phrases = [" ".join(words[-k:]) for k in range(1, min(len(words), 4) + 1)]
        if any(p in rules.never_end for p in phrases):
            return False
        if token in rules.before_number and following.isdigit():
            return False
        if any(p in rules.may_end for p in phrases) or _INITIALISM.fullmatch(token):
            return following.isupper()
        return not (rules.ordinal_dot and run == "." and _ORDINAL.search(buf, start, i))

    # -- chunking ----------------------------------------------------------------------

    def _text(self, cut: int) -> str:
        return normalize_space(self._buf[self._start : cut])

    def _emit(self, text: str, out: list[str]) -> None:
        if text:
            out.append(text)
            self._emitted = True

    def _boundary(self, cut: int, kind: str, out: list[str]) -> None:
        """Handle a boundary candidate at ``cut`` found in text order."""
        text = self._text(cut)
        while len(text) > self.max_chars:
            self._cut_long(cut, out)
            text = self._text(cut)
        early = not self._emitted and kind == "clause" and self._early_cut(text, cut)
        if kind == "end" or early:
            self._emit(text, out)
            self._start, self._cands = cut, []
        else:
            self._cands.append((cut, kind == "clause"))

    def _early_cut(self, text: str, cut: int) -> bool:
        """Whether the first chunk may end at the clause boundary ``cut``: long enough, not
        too long, and not inside a name, a number or an abbreviation's phrase."""
        words = len(text.split())
        if len(text) < self.first_chunk_min_chars:
            return False
        if words < self.first_chunk_min_words and not self._interjection(text):
            return False
        if self.first_chunk_max_words is not None and words > self.first_chunk_max_words:
            return False
        before = self._buf[self._start : cut].rstrip(_HSPACE + _CLAUSE_MARKS + _DASHES + "-")
        after = self._buf[cut:].lstrip(_HSPACE + _DASHES + "-")
        if not before or not after:
            return True
        if before[-1].isdigit() and after[0].isdigit():
            return False  # 5 - 10, 1, 000
        last = before.split()[-1].lstrip(_OPENERS)
        if last.lower() in self.rules.never_end:
            return False  # e.g., viz.
        nxt = after.split()[0].lstrip(_OPENERS) if after.split() else ""
        return not (last[:1].isupper() and nxt[:1].isupper() and nxt != "I")

    def _interjection(self, text: str) -> bool:
        """``text`` is one interjection and its comma (``Sure,``), allowed to stand alone."""
        word = text.strip()
        if not self.first_chunk_interjections or not word.endswith(",") or " " in word:
            return False
        return word[:-1].lstrip(_OPENERS).lower() in self.rules.interjections

    def _cut_long(self, limit: int, out: list[str]) -> None:
        """The text up to ``limit`` is too long: emit a piece of it."""
        best_clause = best_word = None
        for cut, clause in self._cands:
            size = len(self._text(cut))
            if 0 < size <= self.max_chars:
                best_word = cut
                if clause and size >= self.clause_min_chars:
                    best_clause = cut
        chosen = best_clause if best_clause is not None else best_word
        if chosen is not None:
            self._emit(self._text(chosen), out)
            self._start = chosen
            self._cands = [(c, cl) for c, cl in self._cands if c > chosen]
            return
        text = self._text(limit)  # a single word longer than max_chars
        for k in range(0, len(text), self.max_chars):
            self._emit(text[k : k + self.max_chars], out)
        self._start, self._cands = limit, []


class _Plain:
    """Text that is not markdown, passed through as it is."""

    def feed(self, text: str) -> str:
        return text

    def finish(self) -> str:
        return ""


def split_text(
    text: str, max_chars: int, language: str | None = None, *, markdown: bool = True
) -> list[str]:
    """Split a whole text into speakable chunks of at most ``max_chars``: at sentence ends,
    then clause boundaries, then word boundaries (no early first chunk). ``markdown=False``
    keeps the text as it is (a transcript), only its whitespace normalised."""
    splitter = SentenceSplitter(
        max_chars=max_chars,
        first_chunk_min_chars=max_chars + 1,
        clause_min_chars=min(60, max(1, max_chars // 3)),
        language=language,
        markdown=markdown,
    )
    return splitter.push(text) + splitter.flush()
