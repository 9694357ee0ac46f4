"""Streaming sentence splitting for speech."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.text.sentences import SentenceSplitter, split_text
from voiceloop.text.speakable import speakable


def run(text: str, pieces: list[str] | None = None, **kwargs) -> list[str]:
    splitter = SentenceSplitter(**kwargs)
    out: list[str] = []
    for piece in pieces if pieces is not None else [text]:
        out += splitter.push(piece)
    return out + splitter.flush()


def char_by_char(text: str, **kwargs) -> list[str]:
    return run(text, list(text), **kwargs)


@pytest.mark.parametrize(
    ("text", "chunks"),
    [
        ("It costs 3.5 dollars. Then more.", ["It costs 3.5 dollars.", "Then more."]),
        ("It costs $1,000.50 today. Yes.", ["It costs $1,000.50 today.", "Yes."]),
        (
            "Dr. Smith lives in the U.S. today. He is fine.",
            ["Dr. Smith lives in the U.S. today.", "He is fine."],
        ),
        ("I moved to the U.S. Then I left.", ["I moved to the U.S.", "Then I left."]),
        ("Apples, pears, etc. are fruit. Good.", ["Apples, pears, etc. are fruit.", "Good."]),
        ("Use e.g. Python, i.e. a language.", ["Use e.g. Python, i.e. a language."]),
        ("Mr. and Mrs. Brown vs. Ms. Green.", ["Mr. and Mrs. Brown vs. Ms. Green."]),
        (
            "See Fig. 3 and No. 5 here. No. Really.",
            ["See Fig. 3 and No. 5 here.", "No.", "Really."],
        ),
        ("Meet at 5 p.m. Then go.", ["Meet at 5 p.m.", "Then go."]),
        ("Meet at 5 p.m. tomorrow.", ["Meet at 5 p.m. tomorrow."]),
        (
            "See https://example.com/a.b for more. Or mail a.b@ex.org now.",
            ["See https://example.com/a.b for more.", "Or mail a.b@ex.org now."],
        ),
        ("Install v1.2.3 from setup.py today.", ["Install v1.2.3 from setup.py today."]),
        ("Wait... what? Fine.", ["Wait... what?", "Fine."]),
        ("Wait… what?", ["Wait… what?"]),
        ("I see... The point is this.", ["I see...", "The point is this."]),
        ('He said "Stop." Then left.', ['He said "Stop."', "Then left."]),
        ("Really?! (Yes.) Ok.", ["Really?!", "(Yes.)", "Ok."]),
        ("one\ntwo\n\nthree", ["one", "two", "three"]),
        ("Trailing without end", ["Trailing without end"]),
        ("", []),
        ("  \n\n 😀 \n", []),
    ],
)
def test_sentence_rules(text: str, chunks: list[str]) -> None:
    whole = {"first_chunk_min_chars": 1000}  # sentence ends only, no early first chunk
    assert run(text, **whole) == chunks
    assert char_by_char(text, **whole) == chunks


def test_markdown_is_stripped_from_chunks() -> None:
    text = (
        "# Plan\n- **First** step: read [docs](https://x.io/a.b).\n"
        "- Second 🚀\n```\nrm -rf /\n```\nDone!"
    )
    assert run(text) == ["Plan", "First step: read docs.", "Second", "Done!"]


def test_chunk_is_released_as_soon_as_it_is_certain() -> None:
    s = SentenceSplitter()
    assert s.push("Hello there") == []
    assert s.push(".") == []  # could still be "there.com" or an ellipsis
    assert s.push(" ") == []  # the next word could be lower case ("etc. and")
    # markdown is rewritten a whole word at a time ("How**" could still close emphasis)
    assert s.push("How") == []
    assert s.push(" are") == ["Hello there."]
    assert s.push(" you?") == []
    assert s.flush() == ["How are you?"]


def test_decimal_at_buffer_end_waits() -> None:
    s = SentenceSplitter()
    assert s.push("It costs 3.") == []
    assert s.push("5 now. ") == []
    assert s.push("And ") == ["It costs 3.5 now."]


def test_early_first_chunk_at_clause() -> None:
    text = "Well, after thinking about everything you said today, I agree. Later, maybe, we talk."
    chunks = run(text)
    assert chunks[0] == "Well, after thinking about everything you said today,"
    assert chunks[1:] == ["I agree.", "Later, maybe, we talk."]
    s = SentenceSplitter()
    assert s.push(text[:60]) == ["Well, after thinking about everything you said today,"]
    # only the first chunk is released early
    assert (
        run("Short one. " + text)[1]
        == "Well, after thinking about everything you said today, I agree."
    )


def test_early_first_chunk_before_a_clause_opening_word() -> None:
    text = "The sky looks blue because air scatters short wavelengths. Clouds are white."
    assert run(text) == [
        "The sky looks blue",
        "because air scatters short wavelengths.",
        "Clouds are white.",
    ]
    assert char_by_char(text) == run(text)
    # the word must open a clause (another word follows) and the chunk be long enough
    assert run("It is nothing but. Then more.") == ["It is nothing but.", "Then more."]
    assert run("Yes but no more of it.")[0] == "Yes but no more of it."
    assert run("The weather is bright but cold today.")[0] == "The weather is bright"
    # "butter" is not "but"; a space at the end of a delta waits for the next word
    assert run("The weather is bright butter today.") == ["The weather is bright butter today."]
    s = SentenceSplitter()
    assert s.push("The sky looks blue ") == []
    assert s.push("be") == []
    assert s.push("cause it ") == ["The sky looks blue"]


def test_early_first_chunk_can_be_turned_off() -> None:
    text = "The sky looks blue because air scatters light, mostly blue. Next."
    chunks = run(text, first_chunk_min_chars=200)
    assert chunks == ["The sky looks blue because air scatters light, mostly blue.", "Next."]


def test_long_sentence_breaks_at_clause_then_word_then_hard() -> None:
    clause = "a" * 10 + " word" * 12 + ", " + "b" * 5 + " more" * 20 + "."
    chunks = run(clause, max_chars=100, first_chunk_min_chars=1000, clause_min_chars=30)
    assert chunks[0].endswith(",") and all(len(c) <= 100 for c in chunks)
    words = "word " * 60
    chunks = run(words, max_chars=50)
    assert all(len(c) <= 50 for c in chunks) and chunks[0] == ("word " * 10).strip()
    hard = "x" * 120
    assert run(hard, max_chars=50) == ["x" * 50, "x" * 50, "x" * 20]


def test_split_text_for_tts() -> None:
    text = "First sentence here. " + "Second one is long, with a clause, " * 10 + "end."
    chunks = split_text(text, 80)
    assert chunks[0] == "First sentence here."
    assert all(0 < len(c) <= 80 for c in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")
    assert split_text("Short, sweet, and done.", 200) == ["Short, sweet, and done."]
    with pytest.raises(ValueError):
        SentenceSplitter(max_chars=0)


def test_flush_resets() -> None:
    s = SentenceSplitter()
    s.push("Half a sent")
    assert s.flush() == ["Half a sent"]
    assert s.push("New reply. ") == []
    assert s.flush() == ["New reply."]


# --- properties ------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "hello",
        "world",
        "the",
        "Model",
        "a",
        "x" * 70,
        "3.5",
        "$1,000.50",
        "1,000",
        "42",
        "Dr.",
        "e.g.",
        "i.e.",
        "etc.",
        "U.S.",
        "p.m.",
        "No.",
        "vs.",
        "https://example.com/a.b",
        "a.b@c.org",
        "setup.py",
        "v1.2.3",
        "**bold**",
        "_em_",
        "`x.y`",
        "[txt](http://u.v/w)",
        "😀",
        "👍🏽",
        "...",
        "…",
        "—",
        "-",
        '"quoted"',
        "(paren)",
        "<b>tag</b>",
        "\n```\nx = 1. Y\n```\n",
        "\n# Head\n",
        "[stray",
    ]
)
ENDS = st.sampled_from(
    ["", "", "", ".", "!", "?", ",", ";", ":", "...", ".\n", "\n\n", "\n- ", '."']
)


@st.composite
def texts(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        parts.append(draw(WORDS) + draw(ENDS) + draw(st.sampled_from([" ", " ", "  ", ""])))
    return "".join(parts)


@st.composite
def splits(draw, text: str) -> list[str]:
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=30))))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), text=texts(), max_chars=st.sampled_from([20, 50, 80, 200]))
def test_chunking_properties(data, text: str, max_chars: int) -> None:
    kwargs = {"max_chars": max_chars, "first_chunk_min_chars": 15, "clause_min_chars": 10}
    one_shot = run(text, **kwargs)
    pieces = data.draw(splits(text))
    streamed = run(text, pieces, **kwargs)
    # (c) the same chunks however the text was cut into deltas (early first chunk included:
    # it is decided from the text alone, never from when a delta arrived)
    assert streamed == one_shot
    # (a) nothing lost, duplicated or reordered: the speakable text, chunk by chunk
    assert squash("".join(streamed)) == squash(speakable(text))
    # (b) never empty, never too long, never multi-line
    assert all(0 < len(c) <= max_chars and "\n" not in c for c in streamed)
    assert all(c == c.strip() for c in streamed)


def test_stray_bracket_does_not_hold_back_a_long_line() -> None:
    s = SentenceSplitter()
    out = s.push("[note " + "This is filler text. " * 20)
    assert out and out[0] == "[note This is filler text."
    out += s.push("end ") + s.flush()
    assert all(len(c) <= 200 for c in out)


def test_link_targets_never_split_or_spoken() -> None:
    text = "See [the docs](https://x.y/a. B) here. Next."
    assert run(text) == ["See the docs here.", "Next."]
    assert char_by_char(text) == ["See the docs here.", "Next."]


SHORT_FIRST = {"first_chunk_min_chars": 1, "first_chunk_min_words": 2, "first_chunk_max_words": 12}


@pytest.mark.parametrize(
    ("text", "chunks"),
    [
        # a few words at a comma, a colon, a dash or before a clause-opening word
        (
            "Of course, I can help with that. More.",
            ["Of course,", "I can help with that.", "More."],
        ),
        (
            "Here is how: mix the flour. Then bake.",
            ["Here is how:", "mix the flour.", "Then bake."],
        ),
        ("Good question — it depends. Yes.", ["Good question —", "it depends.", "Yes."]),
        (
            "It looks blue because air scatters light.",
            ["It looks blue", "because air scatters light."],
        ),
        # one word is not enough: the next boundary, or the sentence end
        ("Sure, here it is, take it.", ["Sure, here it is,", "take it."]),
        ("Sure, here it is. Next.", ["Sure, here it is.", "Next."]),
        # never inside a number
        ("It costs 1,000 dollars, more or less.", ["It costs 1,000 dollars,", "more or less."]),
        ("Wait 5 - 10 minutes, roughly.", ["Wait 5 - 10 minutes,", "roughly."]),
        ("Pick 1, 2 or 3, then go.", ["Pick 1, 2 or 3,", "then go."]),
        ("It is 3.5 percent, today.", ["It is 3.5 percent,", "today."]),
        # never inside an abbreviation or after one that leads on
        ("Ask Dr. Smith, he knows.", ["Ask Dr. Smith,", "he knows."]),
        ("Use e.g., Python or Go, maybe.", ["Use e.g., Python or Go,", "maybe."]),
        ("In the U.S., people drive. Ok.", ["In the U.S.,", "people drive.", "Ok."]),
        # never inside a capitalised name of several words
        ("We flew to Paris, Texas, last year.", ["We flew to Paris, Texas,", "last year."]),
        (
            "I loved Star Wars: The Empire Strikes Back, truly.",
            ["I loved Star Wars: The Empire Strikes Back,", "truly."],
        ),
        ("Ask John Smith, Jr., he knows.", ["Ask John Smith, Jr.,", "he knows."]),
        ("Yes indeed, I think so.", ["Yes indeed,", "I think so."]),
        # no boundary within the first words: the whole sentence
        (
            "This is a very long first clause that goes on and on without a break, finally. Yes.",
            [
                "This is a very long first clause that goes on and on without a break, finally.",
                "Yes.",
            ],
        ),
    ],
)
def test_short_first_chunk(text: str, chunks: list[str]) -> None:
    assert run(text, **SHORT_FIRST) == chunks
    assert char_by_char(text, **SHORT_FIRST) == chunks
    # deltas of a word and its space each, as a chat stream sends them
    assert run(text, re.findall(r"\S+\s*", text), **SHORT_FIRST) == chunks


def test_short_first_chunk_waits_for_the_next_word() -> None:
    s = SentenceSplitter(**SHORT_FIRST)
    assert s.push("We flew to Paris, ") == []
    assert s.push("Te") == []  # "Texas" or "to": a name would continue
    assert s.push("xas, last ") == ["We flew to Paris, Texas,"]
    s = SentenceSplitter(**SHORT_FIRST)
    assert s.push("Of course, ") == []
    assert s.push("I ") == ["Of course,"]


def test_only_the_first_chunk_is_short() -> None:
    text = "Of course, I can help, gladly. Then, later, more."
    assert run(text, **SHORT_FIRST) == ["Of course,", "I can help, gladly.", "Then, later, more."]


def test_default_settings_give_a_short_first_chunk() -> None:
    from voiceloop.config import Settings
    from voiceloop.engine.services import EngineOptions
    from voiceloop.engine.startup import default_splitter_factory

    splitter = default_splitter_factory(EngineOptions.from_settings(Settings()))()
    assert splitter.push("Of course, I can help with that. ") == ["Of course,"]


WITH_INTERJECTIONS = {**SHORT_FIRST, "first_chunk_interjections": True}


@pytest.mark.parametrize(
    ("text", "chunks"),
    [
        # an interjection and its comma is a phrase of its own
        ("Sure, here it is, take it.", ["Sure,", "here it is, take it."]),
        ("Well, it depends on the day.", ["Well,", "it depends on the day."]),
        ('"Yes, of course." Next.', ['"Yes,', 'of course."', "Next."]),
        # any other single word waits, as without the rule
        ("Paris, the capital, is big.", ["Paris, the capital,", "is big."]),
        ("Sure: here it is.", ["Sure: here it is."]),
        # only the first chunk, and not before a name
        ("Of course, sure, fine.", ["Of course,", "sure, fine."]),
        ("Sure, Sam, take it.", ["Sure, Sam,", "take it."]),
    ],
)
def test_an_interjection_may_be_the_first_chunk(text: str, chunks: list[str]) -> None:
    assert run(text, **WITH_INTERJECTIONS) == chunks
    assert char_by_char(text, **WITH_INTERJECTIONS) == chunks


def test_interjections_are_english_only() -> None:
    assert run("Sure, ok then.", language="de", **WITH_INTERJECTIONS) == ["Sure, ok then."]
