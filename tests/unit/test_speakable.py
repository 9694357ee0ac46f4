"""Markdown and emoji stripping for speech."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.text.speakable import MarkdownStream, normalize_space, speakable


@pytest.mark.parametrize(
    ("raw", "spoken"),
    [
        ("# Heading\nBody", "Heading\nBody"),
        ("### Closed heading ###\nC# and F# stay", "Closed heading\nC# and F# stay"),
        ("Some **bold**, __strong__, *em* and _em_ text.", "Some bold, strong, em and em text."),
        ("~~gone~~ stays", "gone stays"),
        ("Run `pip install x` now.", "Run pip install x now."),
        ("Use ``a`b`` here", "Use a`b here"),
        ("Read [the docs](https://example.com/a.b) first.", "Read the docs first."),
        ("Look ![a cat](cat.png) here", "Look here"),
        ("Go to <https://example.com> now", "Go to https://example.com now"),
        ("- one\n* two\n+ three", "one\ntwo\nthree"),
        ("1. first\n2) second\n10. tenth", "first\nsecond\ntenth"),
        ("- [ ] todo\n- [x] done", "todo\ndone"),
        ("> quoted\n> > nested", "quoted\nnested"),
        ("| a | b |\n|---|:-:|\n| 1 | 2 |", "a, b\n1, 2"),
        ("Before\n---\nAfter", "Before\nAfter"),
        ("Text\n```python\nprint('x')\n# not a heading\n```\nAfter", "Text\nAfter"),
        ("~~~\ncode\n~~~\nok", "ok"),
        ("A <b>bold</b> move<br/>done", "A bold move done"),
        ("Fish &amp; chips", "Fish & chips"),
        ("Great job 👍🏽! 🇺🇸 Flags ❤️ and 👨‍👩‍👧 family.", "Great job! Flags and family."),
        ("2 * 3 = 6 and snake_case stays", "2 * 3 = 6 and snake_case stays"),
        ("#hashtag is text", "#hashtag is text"),
        ("-5 degrees", "-5 degrees"),
        ("  lots   of\tspace  ", "lots of space"),
        ("Para one.\n\n\nPara two.", "Para one.\nPara two."),
    ],
)
def test_speakable_rules(raw: str, spoken: str) -> None:
    assert speakable(raw) == spoken


def test_unclosed_fence_speaks_nothing_after_it() -> None:
    assert speakable("Intro\n```\nx = 1\ny = 2") == "Intro"


def test_normalize_space() -> None:
    assert normalize_space("  a \u00a0 b\t c ") == "a b c"
    assert normalize_space("done 😀 .") == "done 😀."


TOKENS = st.sampled_from(
    [
        "hello",
        "world",
        "**bold**",
        "_em_",
        "`code.py`",
        "[link text](https://ex.com/a.b)",
        "![img](x.png)",
        "<b>",
        "</b>",
        "😀",
        "👍🏽",
        "3.5",
        "$1,000.50",
        "Dr.",
        "e.g.",
        "a.b@c.org",
        "2 * 3",
        "snake_case",
        "[literal",
        "<",
        "end.",
        "what?",
        "...",
        "\n",
        "\n- ",
        "\n1. ",
        "\n# ",
        "\n> ",
        "\n```\ncode line\n```\n",
        "\n| a | b |\n",
        "\n---\n",
        "###",
        "#",
        "lorem ipsum dolor sit amet " * 6,  # long runs: stray brackets give up after a while
        "`",
        "]",
        "(",
        ")",
        "](",
    ]
)


@settings(max_examples=200, deadline=None)
@given(
    tokens=st.lists(TOKENS, max_size=25),
    seps=st.lists(st.sampled_from([" ", "", "  "]), min_size=25, max_size=25),
    cuts=st.lists(st.integers(0, 2000), max_size=20),
)
def test_stream_output_does_not_depend_on_the_split(tokens, seps, cuts) -> None:
    text = "".join(t + s for t, s in zip(tokens, seps, strict=False))
    whole = MarkdownStream()
    expected = whole.feed(text) + whole.finish()
    stream = MarkdownStream()
    points = sorted({min(c, len(text)) for c in cuts})
    pieces, prev = [], 0
    for p in [*points, len(text)]:
        pieces.append(stream.feed(text[prev:p]))
        prev = p
    pieces.append(stream.finish())
    assert "".join(pieces) == expected


def test_heading_closing_hashes_are_held_until_the_line_ends() -> None:
    text = "## Title ## \nC# is a language ##\n"
    for cut in range(len(text) + 1):
        stream = MarkdownStream()
        out = stream.feed(text[:cut]) + stream.feed(text[cut:]) + stream.finish()
        assert " ".join(out.split()) == "Title C# is a language ##", cut
