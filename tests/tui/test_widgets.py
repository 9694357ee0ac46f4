"""The level meter, the latency waterfall and the command palette provider."""

from __future__ import annotations

from textual.message import Message

from tests.tui.fakes import Harness
from voiceloop import events as ev
from voiceloop.tui.app import VoiceloopApp
from voiceloop.tui.commands import COMMANDS
from voiceloop.tui.messages import LevelChanged
from voiceloop.tui.widgets.latency import LatencyPanel, timing_from_metrics, waterfall
from voiceloop.tui.widgets.meter import LevelMeter, level_fraction


def test_level_messages_replace_only_older_levels() -> None:
    older, newer = LevelChanged(-40.0), LevelChanged(-20.0)
    assert older.can_replace(newer)
    assert not older.can_replace(Message())
    assert LevelChanged.bubble is False


def test_level_fraction_clamps() -> None:
    assert level_fraction(-100) == 0.0
    assert level_fraction(0) == 1.0
    assert level_fraction(-30) == 0.5
    assert level_fraction(float("nan")) == 0.0


async def test_meter_shows_latest_level_and_drops_stale_ones(harness: Harness) -> None:
    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        meter = app.query_one(LevelMeter)
        before = meter.updates
        # A burst far faster than the screen can draw: queued levels collapse.
        for i in range(200):
            harness.engine.emit(ev.Level(level_db=-60.0 + i * 0.25))
        await pilot.pause()
        assert meter.level_db == -60.0 + 199 * 0.25
        assert 1 <= meter.updates - before < 200
        assert "-10dB" in str(meter.render())


async def test_meter_keeps_up_with_steady_rate(harness: Harness) -> None:
    import asyncio

    app = VoiceloopApp(deps=harness.deps())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        meter = app.query_one(LevelMeter)
        before = meter.updates
        for i in range(15):  # 30 per second for half a second
            harness.engine.emit(ev.Level(level_db=-50.0 + i))
            await asyncio.sleep(1 / 30)
        await pilot.pause()
        # At a steady 30/s every level is drawn: well above 10 updates per second.
        assert meter.updates - before >= 10
        assert meter.level_db == -36.0


def test_waterfall_orders_milestones_and_scales_bars() -> None:
    timing = timing_from_metrics(
        3,
        {
            "utterance_closed_ms": 500,
            "transcript_ms": 800,
            "ttfa_ms": 1200,
            "drained_ms": 2400,
            "turn_id": 3,
            "interrupted": False,
        },
    )
    assert [label for label, _ in timing.points] == ["close", "transcript", "played", "total"]
    lines = [line.plain for line in waterfall(timing, 40)]
    assert lines[0].startswith("close") and lines[-1].rstrip().endswith("2400ms")
    bars = [line[11 : 11 + 21] for line in lines]
    # Each bar starts where the previous milestone ended.
    starts = [len(bar) - len(bar.lstrip()) for bar in bars]
    assert starts == sorted(starts)
    assert bars[-1].rstrip().endswith("▆")


def test_latency_rolling_median() -> None:
    panel = LatencyPanel()
    for turn, first_audio in enumerate([900, 1500, 1100, 5000], start=1):
        panel.add(turn, {"ttfa_ms": first_audio, "drained_ms": first_audio * 2})
    panel.add(5, {"unrelated": 1})  # no known metric: ignored
    assert len(panel.timings) == 4
    assert panel.median("played") == 1300
    assert panel.median("total") == 2600


def test_every_palette_command_names_a_real_action() -> None:
    for name, _help, action, _args in COMMANDS:
        assert callable(getattr(VoiceloopApp, f"action_{action}", None)), name
