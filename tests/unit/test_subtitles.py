"""SRT and WebVTT output."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from voiceloop.frames import Segment
from voiceloop.text.subtitles import Cue, cues_from_segments, format_timestamp, to_srt, to_vtt


def test_timestamps() -> None:
    assert format_timestamp(0) == "00:00:00,000"
    assert format_timestamp(61.5) == "00:01:01,500"
    assert format_timestamp(3723.0456, separator=".") == "01:02:03.046"
    assert format_timestamp(59.9996) == "00:01:00,000"  # rounding carries into the minute
    assert format_timestamp(100 * 3600 + 1) == "100:00:01,000"
    assert format_timestamp(-0.2) == "00:00:00,000"


def test_srt_layout() -> None:
    cues = [Cue(0.0, 1.25, " Hello there. "), Cue(3661.5, 3662.0, "Second\n line")]
    assert to_srt(cues) == (
        "1\n00:00:00,000 --> 00:00:01,250\nHello there.\n"
        "\n"
        "2\n01:01:01,500 --> 01:01:02,000\nSecond\nline\n"
    )


def test_vtt_layout() -> None:
    cues = [Cue(0.5, 2.0, "Hi"), Cue(2.0, 3.0, "a --> b")]
    assert to_vtt(cues) == (
        "WEBVTT\n\n"
        "1\n00:00:00.500 --> 00:00:02.000\nHi\n"
        "\n"
        "2\n00:00:02.000 --> 00:00:03.000\na → b\n"
    )
    assert to_vtt([]) == "WEBVTT\n"
    assert to_srt([]) == ""


def test_blank_cues_skipped_and_numbering_stays_consecutive() -> None:
    srt = to_srt([Cue(0, 1, "a"), Cue(1, 2, "  "), Cue(2, 3, "b")])
    assert re.findall(r"^(\d+)$", srt, re.M) == ["1", "2"]


@given(start=st.floats(0, 10_000, allow_nan=False), length=st.floats(0, 0.002))
def test_rounding_never_makes_end_before_start(start: float, length: float) -> None:
    srt = to_srt([Cue(start, start + length, "x")])
    begin, end = re.search(r"(\S+) --> (\S+)", srt).groups()

    def ms(stamp: str) -> int:
        h, m, rest = stamp.split(":")
        s, milli = rest.split(",")
        return ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(milli)

    assert ms(end) >= ms(begin)
    # an end given before the start is clamped too
    assert "00:00:05,000 --> 00:00:05,000" in to_srt([Cue(5.0, 4.0, "y")])


def test_cues_from_segments_shifts_by_offset() -> None:
    segs = [Segment(0.0, 1.0, " one"), Segment(1.0, 2.0, " "), Segment(2.0, 3.5, "two ")]
    cues = cues_from_segments(segs, offset=10.0)
    assert cues == [Cue(10.0, 11.0, "one"), Cue(12.0, 13.5, "two")]
