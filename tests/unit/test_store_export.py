"""Exports are read back: JSON round trip, SRT/VTT parsed, text formats checked by content."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest

from tests.unit.store_helpers import T0, FakeClock
from voiceloop.store import Store
from voiceloop.store.export import FORMATS, export_history


@pytest.fixture
def store(tmp_path: Path):
    clock = FakeClock()
    s = Store(tmp_path, clock=clock)
    talk = s.open_session("converse")
    clock.advance(10.0)  # user speaks 2.5 s, turn captured 10 s into the session
    a, _ = s.begin_turn(talk, "converse", None, duration=2.5)
    s.update_turn(
        a,
        transcript="What is the capital of France?",
        reply="Paris. It has been for centuries.",
        reply_heard="Paris.",
        status="interrupted",
    )
    clock.advance(20.0)
    b, _ = s.begin_turn(talk, "converse", None, duration=1.5)
    s.update_turn(b, status="failed", error="Connection failed")
    clock.advance(5.0)
    c, _ = s.begin_turn(talk, "converse", None, duration=3.0)
    s.update_turn(c, transcript="Thanks, that's all.", reply="You're welcome.", status="answered")
    clock.advance(100.0)
    trip = s.open_session("translate")
    clock.advance(4.0)
    d, _ = s.begin_turn(trip, "translate", None, duration=2.0)
    s.update_turn(d, translation="Where is the station?", original="Wo ist der Bahnhof?")
    s.update_turn(d, status="transcribed")
    s.ids = (talk, trip, a, b, c, d)  # type: ignore[attr-defined]
    yield s
    s.close()


def test_json_round_trip(store: Store) -> None:
    talk, trip, a, b, c, _d = store.ids  # type: ignore[attr-defined]
    data = json.loads(export_history(store, "json"))
    assert [s["id"] for s in data["sessions"]] == [talk, trip]
    turns = data["sessions"][0]["turns"]
    assert [t["id"] for t in turns] == [a, b, c]
    assert turns[0]["transcript"] == store.turn(a).transcript
    assert turns[0]["reply_heard"] == "Paris." and turns[0]["status"] == "interrupted"
    assert turns[1]["status"] == "failed" and turns[1]["error"] == "Connection failed"
    assert data["sessions"][1]["turns"][0]["original"] == "Wo ist der Bahnhof?"
    one = json.loads(export_history(store, "json", [trip]))
    assert [s["id"] for s in one["sessions"]] == [trip]


def test_markdown_and_text_hold_every_word(store: Store) -> None:
    md = export_history(store, "md")
    txt = export_history(store, "txt")
    for words in ["What is the capital of France?", "Thanks, that's all.", "You're welcome.",
                  "Where is the station?"]:  # fmt: skip
        assert words in md and words in txt
    # What was heard, not what was generated but cut off.
    assert "Paris." in md and "It has been for centuries" not in md
    assert "Wo ist der Bahnhof?" in md
    assert "Connection failed" in md
    assert md.count("# Session") == 2


SRT_TIME = r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)"


def _seconds(match: tuple[str, ...]) -> float:
    h, m, s, ms = (int(x) for x in match)
    return h * 3600 + m * 60 + s + ms / 1000


def parse_cues(text: str) -> list[tuple[float, float, str]]:
    cues = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = block.strip().splitlines()
        for i, line in enumerate(lines):
            times = re.findall(SRT_TIME, line)
            if "-->" in line and len(times) == 2:
                cues.append((_seconds(times[0]), _seconds(times[1]), " ".join(lines[i + 1 :])))
                break
    return cues


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_time_each_turn_within_its_session(store: Store, fmt: str) -> None:
    talk = store.ids[0]  # type: ignore[attr-defined]
    text = export_history(store, fmt, [talk])
    if fmt == "vtt":
        assert text.startswith("WEBVTT")
    cues = parse_cues(text)
    # Turn a: captured at 10 s after 2.5 s of speech; b failed (no text); c at 35 s, 3 s long.
    assert [c[2] for c in cues] == ["What is the capital of France?", "Thanks, that's all."]
    assert cues[0][:2] == pytest.approx((7.5, 10.0), abs=0.002)
    assert cues[1][:2] == pytest.approx((32.0, 35.0), abs=0.002)


def test_subtitles_of_all_sessions_share_one_timeline(store: Store) -> None:
    cues = parse_cues(export_history(store, "srt"))
    assert [c[2] for c in cues][-1] == "Where is the station?"
    start, end, _ = cues[-1]
    # The translate session starts 135 s after the first; its turn is captured 4 s later.
    assert (start, end) == pytest.approx((137.0, 139.0), abs=0.002)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(cues))


def test_every_format_exports_an_empty_history(tmp_path: Path) -> None:
    with Store(tmp_path / "empty") as empty:
        for fmt in FORMATS:
            assert isinstance(export_history(empty, fmt), str)
        assert json.loads(export_history(empty, "json")) == {"sessions": []}


def test_times_are_local_iso(store: Store) -> None:
    data = json.loads(export_history(store, "json"))
    from datetime import datetime

    started = datetime.fromisoformat(data["sessions"][0]["started_at"])
    assert started.timestamp() == pytest.approx(T0, abs=1)
