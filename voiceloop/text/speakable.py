"""Turn chat-model markdown into text a speech synthesizer can read aloud.

What is removed or rewritten:

- headings ``#``, blockquote ``>``, bullet (``-``, ``*``, ``+``) and numbered (``1.``, ``2)``)
  list markers and task boxes ``[ ]`` at the start of a line;
- emphasis markers ``*``, ``_``, ``**``, ``__``, ``~~`` (a lone ``*`` between spaces, as in
  ``2 * 3``, is kept), inline code backticks (the code itself is kept);
- links ``[text](url)`` → ``text``; images ``![alt](url)`` → nothing; ``<https://…>`` → the
  address; HTML tags → nothing; HTML entities are decoded;
- fenced code blocks (```` ``` ```` or ``~~~``) → nothing at all: reading code aloud helps
  no one, and the screen shows it;
- table rows → their cells joined by ", "; table separator rows and horizontal rules →
  nothing;
- emoji (pictographs, flags, skin tones, joiners, variation selectors) → nothing.

Every line break is kept as ``"\\n"``: the sentence splitter treats a line break as the end
of a speakable piece (paragraphs, list items and headings read as separate sentences).

:class:`MarkdownStream` does this incrementally for text that arrives in pieces. It only
releases text whose rewriting cannot change with later input (cuts fall after whitespace,
outside unfinished links, code spans or tags), so the output does not depend on how the
input was split. :func:`speakable` is the one-shot form.
"""

from __future__ import annotations

import html
import re

__all__ = ["MarkdownStream", "normalize_space", "speakable"]

_CJK = "\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
"""Chinese and Japanese characters and punctuation: written without spaces, so a word may
end after any of them (a stream may be cut there, emphasis may open or close there)."""
_SPAN = 300
"""Longest link text, link target, code span or tag (characters): an opening ``[``, ``(``,
backtick run or ``<`` not closed within this many characters is plain text. This keeps a
stray bracket from holding back the rest of a long line."""
_INLINE = re.compile(
    rf"""
     (?P<code>(?P<ticks>`+)(?P<codetext>.{{1,{_SPAN}}}?)(?P=ticks))
    |(?P<image>!\[[^\]]{{0,{_SPAN}}}\]\([^)]{{0,{_SPAN}}}\))
    |(?P<link>\[(?P<ltext>[^\]]{{0,{_SPAN}}})\]\([^)]{{0,{_SPAN}}}\))
    |(?P<autolink><(?P<url>(?:https?|mailto|ftp):[^>\s]{{1,{_SPAN}}})>)
    |(?P<tag><[A-Za-z/][^>]{{0,{_SPAN}}}>)
    |(?P<emph>(?:(?<=[\s(\["'“‘«„{_CJK}])|^)[*_~]+(?=\S)|(?<=\S)[*_~]+(?=\s|$|[.,;:!?)\]"'’”»{_CJK}]))
    """,
    re.X,
)
_EMOJI = re.compile(
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, symbols & pictographs ext.
    "\U00002600-\U000027bf"  # misc symbols, dingbats
    "\U00002b00-\U00002bff"  # arrows/stars used as emoji
    "\U0001f1e6-\U0001f1ff"  # regional indicators (flags)
    "\U0000fe00-\U0000fe0f"  # variation selectors
    "\U0000200d"  # zero-width joiner
    "\U000020e3"  # combining keycap
    "\U000e0020-\U000e007f"  # tag characters (subdivision flags)
    "\U00002300-\U000023ff"  # misc technical (⌚ ⏰ ...)
    "]+"
)
_MARKER = re.compile(
    r"[ \t]*(?:>[ \t]?|#{1,6}(?:[ \t]+|$)|[-*+][ \t]+|\d{1,9}[.)][ \t]+|\[[ xX]\][ \t]+)"
)
_FENCE = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")
_RULE = re.compile(r"[ \t]*([-*_=])(?:[ \t]*\1){2,}[ \t]*")
_TABLE_SEPARATOR = re.compile(r"[ \t]*\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*")
_WAIT_FOR_LINE = re.compile(r"[ \t]*(?:\||`{3}|~{3}|[-*_=]{3,}[ \t]*$)")
_WORD_END = re.compile(rf"[\s{_CJK}]")
_CLOSING_HASHES = re.compile(r"(?:^|[ \t])#+[ \t]*$")
_SPACE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")


_SPACE_BEFORE_PUNCT = re.compile(r" ([.,!?;:…]+)(?= |$)")


def normalize_space(text: str) -> str:
    """Collapse runs of horizontal whitespace to one space and strip the ends; drop a
    space left before closing punctuation where something (an emoji, a tag) was removed."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACE.sub(" ", text).strip())


def _inline_sub(m: re.Match[str]) -> str:
    if m.group("code") is not None:
        return m.group("codetext").strip()
    if m.group("link") is not None:
        return _inline(m.group("ltext"))
    if m.group("autolink") is not None:
        return m.group("url")
    if m.group("emph") is not None or m.group("image") is not None:
        return ""
    return " "  # an HTML tag: keep words on either side apart


def _inline(text: str) -> str:
    """Rewrite inline markdown of a piece that holds no unfinished construct."""
    return _EMOJI.sub("", html.unescape(_INLINE.sub(_inline_sub, text)))


def _closing(text: str, what: str, start: int, final: bool) -> int | None:
    """Index of ``what`` closing a construct whose content starts at ``start`` (at most
    ``_SPAN`` characters on); -1 when there is none (plain text); None when it could
    still arrive."""
    limit = start + _SPAN + len(what)
    end = text.find(what, start, limit)
    if end >= 0:
        return end
    return -1 if final or len(text) >= limit else None


def _safe_cut(text: str, final: bool) -> int:
    """Length of the longest prefix of ``text`` (one line, no newline) that can be rewritten
    now: it ends just after whitespace (or a Chinese or Japanese character) and leaves no
    link, code span or tag half-open."""
    if final:
        return len(text)
    if "[" not in text and "`" not in text and "<" not in text:
        last = _WORD_END.search(text[::-1])  # the last word end, found at C speed
        return len(text) - last.start() if last else 0
    cut, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == "`":
            run = len(text[i:]) - len(text[i:].lstrip("`"))
            if i + run >= n:
                return cut
            end = _closing(text, "`" * run, i + run + 1, final)
            if end is None:
                return cut
            i = i + run if end < 0 else end + run
            continue
        if c == "[":
            close = _closing(text, "]", i + 1, final)
            if close is None or close + 1 >= n:
                return cut
            if close < 0:
                i += 1
                continue
            if text[close + 1] == "(":
                paren = _closing(text, ")", close + 2, final)
                if paren is None:
                    return cut
                i = close + 1 if paren < 0 else paren + 1
                continue
            i = close + 1
            continue
        if c == "<":
            if i + 1 >= n:
                return cut
            if text[i + 1].isalpha() or text[i + 1] == "/":
                end = _closing(text, ">", i + 2, final)
                if end is None:
                    return cut
                i = i + 1 if end < 0 else end + 1
                continue
        if c.isspace() or _WORD_END.match(c):
            cut = i + 1
        i += 1
    return cut


class MarkdownStream:
    """Incremental markdown → speakable text. ``feed()`` pieces, then ``finish()``.

    Output is speakable text with ``"\\n"`` at every line break; concatenating everything
    returned equals the one-shot result for the same input, however it was split.
    """

    def __init__(self) -> None:
        self._line = ""  # the current, incomplete raw line
        self._started = False  # the current line's block markers are decided and stripped
        self._heading = False  # the current line is an ATX heading
        self._in_fence: str | None = None  # the fence that opened the current code block

    def feed(self, text: str) -> str:
        out: list[str] = []
        pending = self._line + text
        while "\n" in pending:
            line, pending = pending.split("\n", 1)
            out.append(self._take(line, final=True))
            out.append("\n")
            self._started = False
        out.append(self._take(pending, final=False))
        return "".join(out)

    def finish(self) -> str:
        out = self._take(self._line, final=True)
        self._line, self._started, self._in_fence = "", False, None
        return out

    def _take(self, line: str, *, final: bool) -> str:
        """Rewrite what can be rewritten of the current line; keep the rest in ``_line``."""
        if not self._started:
            rest = self._start_line(line, final)
            if rest is None:
                self._line = "" if final else line
                return ""
            line = rest
        if final and self._heading:
            line = _CLOSING_HASHES.sub("", line)  # "## Title ##"
        cut = _safe_cut(line, final)
        closing = _CLOSING_HASHES.search(line[:cut]) if self._heading and not final else None
        if closing:  # hold back what may be a heading's closing hashes until the line ends
            cut = closing.start() + (line[closing.start()] in " \t")
        self._line = line[cut:]
        return _inline(line[:cut])

    def _start_line(self, line: str, final: bool) -> str | None:
        """Decide what kind of line this is. Returns the text after the block markers, or
        None when the line is dropped or cannot be decided yet."""
        if self._in_fence is not None:
            if not final:
                return None
            m = _FENCE.match(line)
            fence = m.group(1) if m else ""
            closes = fence[:1] == self._in_fence[0] and len(fence) >= len(self._in_fence)
            if closes and m is not None and not line[m.end() :].strip():
                self._in_fence = None
            return None
        if _WAIT_FOR_LINE.match(line) and not final:
            return None
        fence = _FENCE.match(line)
        if fence:
            self._in_fence = fence.group(1)
            return None
        if _RULE.fullmatch(line) or (
            line.lstrip().startswith("|") and _TABLE_SEPARATOR.fullmatch(line)
        ):
            return None
        if line.lstrip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            self._started = True
            return ", ".join(c for c in cells if c)
        rest = line
        heading = False
        while True:
            m = _MARKER.match(rest)
            if not m or not m.group(0):
                break
            heading = heading or m.group(0).lstrip(" \t").startswith("#")
            rest = rest[m.end() :]
        rest = rest.lstrip(" \t")
        # The first word must be complete: "1" may yet become "1. ", "#" may become "# ".
        if not final and not _WORD_END.search(rest):
            return None
        self._started, self._heading = True, heading
        return rest


def speakable(text: str) -> str:
    """Speakable form of a whole text: markdown and emoji removed, whitespace normalised.

    Lines are kept apart with ``"\\n"`` (empty lines dropped); within a line, runs of
    whitespace become one space.
    """
    stream = MarkdownStream()
    raw = stream.feed(text) + stream.finish()
    lines = (normalize_space(line) for line in raw.split("\n"))
    return "\n".join(line for line in lines if line)
