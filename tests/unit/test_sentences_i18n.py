"""Sentence splitting by language: abbreviations, ordinals and terminators of each table."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.text.languages import language_code, rules_for
from voiceloop.text.sentences import SentenceSplitter, split_text
from voiceloop.text.speakable import normalize_space, speakable

# Per language: plain words, capitalised words, abbreviations that never end a sentence
# (followed by a capitalised word here), abbreviations before a number, abbreviations
# followed by a lower-case word.
VOCAB: dict[str, dict[str, list[str]]] = {
    "en": {
        "words": ["the", "house", "is", "small", "and", "green", "today"],
        "caps": ["Smith", "London", "Monday", "Green"],
        "never": ["Dr.", "Mr.", "Mrs.", "Prof.", "e.g.", "vs."],
        "number": ["No.", "Fig.", "p.", "Vol."],
        "lower": ["etc.", "a.m.", "U.S."],
    },
    "de": {
        "words": ["das", "haus", "ist", "klein", "und", "grün", "heute", "wir"],
        "caps": ["Müller", "Berlin", "Haus", "Straße", "Oktober"],
        "never": ["z. B.", "Dr.", "Prof.", "d. h.", "bzw.", "ca.", "vgl.", "u. a.", "Hr."],
        "number": ["Nr.", "S.", "Abs.", "Kap.", "Abb."],
        "lower": ["usw.", "etc."],
    },
    "fr": {
        "words": ["la", "maison", "est", "petite", "et", "verte", "nous"],
        "caps": ["Dupont", "Paris", "Lundi", "Marie"],
        "never": ["M.", "Mme.", "Mlle.", "Dr.", "p. ex.", "env.", "cf."],
        "number": ["n.", "p.", "chap.", "art."],
        "lower": ["etc."],
    },
    "es": {
        "words": ["la", "casa", "es", "pequeña", "y", "verde", "hoy"],
        "caps": ["García", "Madrid", "Lunes", "José"],
        "never": ["Sr.", "Sra.", "Dr.", "Dra.", "Ud.", "p. ej.", "aprox."],
        "number": ["núm.", "pág.", "art.", "cap."],
        "lower": ["etc.", "EE. UU."],
    },
    "it": {
        "words": ["la", "casa", "è", "piccola", "e", "verde", "oggi"],
        "caps": ["Rossi", "Roma", "Lunedì", "Marco"],
        "never": ["Sig.", "Dott.", "Prof.", "Ing.", "Avv.", "p. es.", "cfr."],
        "number": ["n.", "pag.", "art.", "cap."],
        "lower": ["ecc.", "etc."],
    },
    "pt": {
        "words": ["a", "casa", "é", "pequena", "e", "verde", "hoje"],
        "caps": ["Silva", "Lisboa", "Segunda", "João"],
        "never": ["Sr.", "Sra.", "Dr.", "Dra.", "Prof.", "p. ex.", "aprox."],
        "number": ["n.", "pág.", "art.", "cap."],
        "lower": ["etc.", "Ltda."],
    },
}
CJK = {
    "zh": {"words": ["我们", "今天", "天气", "很好", "公园", "散步", "北京", "3.5"]},
    "ja": {"words": ["今日", "は", "天気", "が", "いい", "です", "東京", "に", "行きます"]},
}
ENDS = {"en": ".!?", "de": ".!?", "fr": ".!?", "es": ".!?", "it": ".!?", "pt": ".!?"}


@st.composite
def sentence(draw: st.DrawFn, lang: str) -> str:
    v = VOCAB[lang]
    parts = [draw(st.sampled_from(v["caps"]))]
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["word", "word", "cap", "never", "number", "lower", "ord"]))
        if kind == "word":
            parts.append(draw(st.sampled_from(v["words"])))
        elif kind == "cap":
            parts.append(draw(st.sampled_from(v["caps"])))
        elif kind == "never":
            parts += [draw(st.sampled_from(v["never"])), draw(st.sampled_from(v["caps"]))]
        elif kind == "number":
            parts += [draw(st.sampled_from(v["number"])), str(draw(st.integers(1, 999)))]
        elif kind == "lower":
            parts += [draw(st.sampled_from(v["lower"])), draw(st.sampled_from(v["words"]))]
        elif lang == "de":  # am 3. Oktober: an ordinal before a capitalised word
            parts += [f"{draw(st.integers(1, 31))}.", draw(st.sampled_from(v["caps"]))]
    parts.append(draw(st.sampled_from(v["words"])))
    end = draw(st.sampled_from(ENDS[lang]))
    if lang == "es" and end != ".":
        return ("¿" if end == "?" else "¡") + " ".join(parts) + end
    if lang == "fr" and end != ".":
        return " ".join(parts) + "\u202f" + end  # French spacing before ! and ?
    return " ".join(parts) + end


@st.composite
def cjk_sentence(draw: st.DrawFn, lang: str) -> str:
    words = CJK[lang]["words"]
    body = "".join(draw(st.lists(st.sampled_from(words), min_size=1, max_size=8)))
    if draw(st.booleans()):
        body += draw(st.sampled_from("，、")) + "".join(
            draw(st.lists(st.sampled_from(words), min_size=1, max_size=5))
        )
    text = body + draw(st.sampled_from("。！？"))
    if draw(st.integers(0, 3)) == 0:  # 「…。」と言った。: a quotation inside a sentence
        quoted = ("「" if lang == "ja" else "“") + text + ("」" if lang == "ja" else "”")
        said = "".join(draw(st.lists(st.sampled_from(words), min_size=1, max_size=3)))
        text = quoted + said + "。"
    return text


@st.composite
def deltas(draw: st.DrawFn, text: str) -> list[str]:
    cuts = sorted(set(draw(st.lists(st.integers(0, len(text)), max_size=20))))
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


def stream(text: str, pieces: list[str], language: str, max_chars: int = 1000) -> list[str]:
    splitter = SentenceSplitter(
        max_chars=max_chars, first_chunk_min_chars=max_chars + 1, language=language
    )
    out: list[str] = []
    for piece in pieces:
        out += splitter.push(piece)
    return out + splitter.flush()


@pytest.mark.parametrize("lang", sorted(VOCAB))
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_each_sentence_is_one_chunk(lang: str, data: st.DataObject) -> None:
    sentences = data.draw(st.lists(sentence(lang), min_size=1, max_size=6))
    text = " ".join(sentences)
    expected = [normalize_space(s) for s in sentences]  # "la\u202f!" is read as "la!"
    assert split_text(text, 1000, language=lang) == expected
    assert stream(text, data.draw(deltas(text)), lang) == expected


@pytest.mark.parametrize("lang", sorted(CJK))
@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_each_cjk_sentence_is_one_chunk(lang: str, data: st.DataObject) -> None:
    sentences = data.draw(st.lists(cjk_sentence(lang), min_size=1, max_size=6))
    text = "".join(sentences)
    assert split_text(text, 1000, language=lang) == sentences
    assert stream(text, data.draw(deltas(text)), lang) == sentences
    # the language need not be known: 。！？ end sentences everywhere
    assert split_text(text, 1000) == sentences


@pytest.mark.parametrize("lang", sorted(CJK))
@settings(max_examples=80, deadline=None)
@given(data=st.data(), max_chars=st.sampled_from([5, 12, 30]))
def test_long_cjk_text_stays_within_max_chars(
    lang: str, data: st.DataObject, max_chars: int
) -> None:
    text = "".join(data.draw(st.lists(cjk_sentence(lang), min_size=1, max_size=6)))
    one_shot = stream(text, [text], lang, max_chars)
    assert stream(text, data.draw(deltas(text)), lang, max_chars) == one_shot
    assert re.sub(r"\s", "", "".join(one_shot)) == re.sub(r"\s", "", speakable(text))
    assert all(0 < len(c) <= max_chars for c in one_shot)


@pytest.mark.parametrize(
    ("lang", "text", "chunks"),
    [
        ("de", "Das ist z. B. gut. Nr. 5 folgt.", ["Das ist z. B. gut.", "Nr. 5 folgt."]),
        ("de", "Wir kommen am 3. Oktober. Gut.", ["Wir kommen am 3. Oktober.", "Gut."]),
        ("de", "Er wurde 1990. Dann kam sie.", ["Er wurde 1990.", "Dann kam sie."]),
        ("fr", "M. Dupont arrive. Bien.", ["M. Dupont arrive.", "Bien."]),
        ("es", "¿Qué tal? Bien, gracias.", ["¿Qué tal?", "Bien, gracias."]),
        ("zh", "你好。我很好！你呢？", ["你好。", "我很好！", "你呢？"]),
        ("ja", "「はい。」と言った。次。", ["「はい。」と言った。", "次。"]),
    ],
)
def test_examples(lang: str, text: str, chunks: list[str]) -> None:
    assert split_text(text, 200, language=lang) == chunks


def test_english_rules_cut_german_abbreviations() -> None:
    assert split_text("Das ist z. B. gut.", 200, language="en") != ["Das ist z. B. gut."]


def test_chinese_streams_sentence_by_sentence() -> None:
    splitter = SentenceSplitter(language="zh")
    assert splitter.push("你好！今天天气") == ["你好！"]
    assert splitter.push("很好。明") == ["今天天气很好。"]
    assert splitter.flush() == ["明"]


def test_first_chunk_may_end_early_at_a_chinese_comma() -> None:
    splitter = SentenceSplitter(first_chunk_min_chars=4, language="zh")
    assert splitter.push("今天的天气非常好，我们一起去公园") == ["今天的天气非常好，"]


@pytest.mark.parametrize(
    ("given_as", "code"),
    [("de", "de"), ("German", "de"), ("pt-BR", "pt"), ("zh_Hans", "zh"), ("", None), (None, None)],
)
def test_language_names(given_as: str | None, code: str | None) -> None:
    assert language_code(given_as) == code
    assert rules_for(given_as).code == (code or "en")
