"""Readable subtitles: escaped WebVTT, long segments cut and wrapped, never empty."""

from __future__ import annotations

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from voiceloop.cli.transcribe import render
from voiceloop.frames import Segment
from voiceloop.providers.groq import TranscriptionResult
from voiceloop.text.subtitles import (
    CUE_CHARS,
    LINE_CHARS,
    Cue,
    cues_or_whole_text,
    readable,
    to_srt,
    to_vtt,
)

LONG = (
    "The committee met on Tuesday to discuss the budget for the coming year. "
    "After a long debate about roads, schools and the new library, it agreed to raise "
    "spending by two percent, although several members asked for more time to study it. "
    "The vote will take place next month."
)


def vtt_cue_texts(vtt: str) -> list[str]:
    blocks = vtt.split("\n\n")[1:]
    return ["\n".join(b.strip().split("\n")[2:]) for b in blocks]


def test_vtt_escapes_ampersand_and_less_than() -> None:
    vtt = to_vtt([Cue(0, 1, "Tom & Jerry <3 a --> b")])
    assert vtt_cue_texts(vtt) == ["Tom &amp; Jerry &lt;3 a → b"]
    # SRT has no entities: the text stays as it was said
    assert "Tom & Jerry <3" in to_srt([Cue(0, 1, "Tom & Jerry <3")])


def test_long_segment_becomes_several_wrapped_cues_in_order() -> None:
    cues = readable([Cue(10.0, 40.0, LONG)])
    assert len(cues) >= 3
    assert " ".join(c.text.replace("\n", " ") for c in cues) == LONG
    assert cues[0].start == 10.0 and abs(cues[-1].end - 40.0) < 1e-9
    for a, b in itertools.pairwise(cues):
        assert a.end == b.start and a.start < a.end
    for cue in cues:
        assert len(cue.text.replace("\n", " ")) <= CUE_CHARS
        assert all(len(line) <= LINE_CHARS for line in cue.text.split("\n"))
        assert cue.text.count("\n") <= 1
    # cut at sentence ends first: the first cue is the first sentence
    assert cues[0].text.replace("\n", " ").endswith("coming year.")


@settings(max_examples=100, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(["a", "word", "longer", "sentence.", "x" * 12, "&", "<b>"]),
        min_size=1,
        max_size=80,
    ),
    start=st.floats(0, 1000),
    length=st.floats(0.1, 60),
)
def test_readable_keeps_every_word_and_time(words: list[str], start: float, length: float) -> None:
    text = " ".join(words)
    cues = readable([Cue(start, start + length, text)])
    assert " ".join(c.text.replace("\n", " ") for c in cues).split() == words
    assert abs(cues[0].start - start) < 1e-9 and abs(cues[-1].end - (start + length)) < 1e-6
    assert all(len(line) <= LINE_CHARS for c in cues for line in c.text.split("\n"))


def test_long_transcript_text_is_not_read_as_markdown() -> None:
    text = " ".join(["Tom & Jerry <b> said *hi* to [a](b) at # 3 * 4."] * 6)
    cues = readable([Cue(0, 10, text)])
    assert " ".join(c.text.replace("\n", " ") for c in cues) == text


def test_no_segments_gives_the_whole_text_not_an_empty_file(capsys) -> None:
    result = TranscriptionResult(text=LONG, duration=30.0, segments=[])
    for fmt in ("vtt", "srt"):
        out = render(result, fmt)
        err = capsys.readouterr().err
        assert "no timed segments" in err
        stamps = re.findall(r"(\S+) --> (\S+)", out)
        assert len(stamps) >= 3
        assert stamps[0][0].startswith("00:00:00") and stamps[-1][1].startswith("00:00:30")
        spoken = " ".join(
            line
            for line in out.splitlines()
            if line and "-->" not in line and not line.isdigit() and line != "WEBVTT"
        )
        assert spoken == LONG


def test_segments_are_used_when_there_are_some(capsys) -> None:
    segs = [{"start": 0.0, "end": 1.0, "text": " Hi."}]
    out = render(TranscriptionResult(text="Hi.", duration=1.0, segments=segs), "vtt")
    assert capsys.readouterr().err == ""
    assert vtt_cue_texts(out) == ["Hi."]


def test_whole_text_without_a_duration_is_timed_by_its_words() -> None:
    cues, whole = cues_or_whole_text([], "one two three four five")
    assert whole and cues == [Cue(0.0, 2.0, "one two three four five")]
    assert cues_or_whole_text([], "  ") == ([], False)
    assert cues_or_whole_text([Segment(0, 1, "x")], "x") == ([Cue(0, 1, "x")], False)


def test_chinese_text_is_wrapped_by_its_width_on_screen() -> None:
    text = "今天天气很好，我们去公园散步吧。然后我们可以去吃午饭，下午再去博物馆看看新的展览。"
    cues = readable([Cue(0.0, 6.0, text)])
    assert "".join("".join(c.text.split("\n")) for c in cues) == text
    for cue in cues:
        lines = cue.text.split("\n")
        assert len(lines) <= 2 and all(len(line) * 2 <= LINE_CHARS for line in lines), cue.text
    assert [c.start for c in cues] == sorted(c.start for c in cues) and cues[-1].end == 6.0
