from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.helpers.store_fixtures import Raw, play, sample_scope, scope_of
from tutti.insights.clock import Clock, ClockCell, listening_clock
from tutti.insights.series import DayPoint, daily_series
from tutti.insights.streaks import Streak, longest_streak
from tutti.insights.zones import ZonePlan


def expected_clock(events: list[Raw], zone: str) -> Clock:
    """The clock recomputed with plain Python: ``isoweekday`` and ``hour`` of each local start."""
    cells = {(d, h): [0, 0, 0] for d in range(1, 8) for h in range(24)}
    for e in events:
        cell = cells[(e.local.isoweekday(), e.local.hour)]
        cell[0] += e.played
        cell[1] += e.counts
        cell[2] += 1
    listed = [ClockCell(d, h, ms, plays, n) for (d, h), (ms, plays, n) in cells.items()]
    busy = [c for c in listed if c.events]
    peak = min(busy, key=lambda c: (-c.ms_played, -c.plays, c.weekday, c.hour)) if busy else None
    return Clock(listed, peak.weekday if peak else None, peak.hour if peak else None, zone)


@pytest.mark.samples
@pytest.mark.parametrize(
    ("sample", "period", "zone"),
    [
        ("mica-92", "all", "UTC"),
        ("mica-92", "2024-Q4", "America/Argentina/Buenos_Aires"),
        ("hobbies-w-erin", "2024", "America/Chicago"),
        ("hobbies-w-erin", "all", "UTC"),
        ("pingw33n", "all", "Asia/Kolkata"),
    ],
)
def test_the_clock_matches_an_independent_count_of_the_raw_export(
    tmp_path: Path, sample: str, period: str, zone: str
) -> None:
    with sample_scope(tmp_path, sample, period, zone) as (scope, events):
        assert listening_clock(scope) == expected_clock(events, zone)


def test_every_cell_is_there_and_the_peak_breaks_ties_early() -> None:
    plays = [
        play(0, 100_000),  # Monday 12:00
        play(60 * 24 * 2 + 60, 100_000, track="B"),  # Wednesday 13:00, the same time and plays
        play(60 * 24 * 2 + 70, 10_000, track="C"),  # Wednesday 13:10, time but no play
    ]
    with scope_of(plays) as scope:
        clock = listening_clock(scope)
    assert len(clock.cells) == 168
    assert [(c.weekday, c.hour) for c in clock.cells[:2]] == [(1, 0), (1, 1)]
    assert clock.cells[12] == ClockCell(1, 12, 100_000, 1, 1)
    assert clock.cells[2 * 24 + 13] == ClockCell(3, 13, 110_000, 1, 2)
    assert (clock.peak_weekday, clock.peak_hour, clock.zone) == (3, 13, "UTC")
    with scope_of(plays[:2]) as scope:
        assert (listening_clock(scope).peak_weekday, listening_clock(scope).peak_hour) == (1, 12)
    with scope_of(plays, period="2030") as scope:
        empty = listening_clock(scope)
    assert (len(empty.cells), empty.peak_weekday, empty.peak_hour) == (168, None, None)
    assert all(c == ClockCell(c.weekday, c.hour, 0, 0, 0) for c in empty.cells)


@pytest.mark.parametrize(
    ("zone", "day", "weekday", "hour"),
    [("UTC", date(2024, 3, 4), 1, 23), ("Etc/GMT-2", date(2024, 3, 5), 2, 1)],  # Etc/GMT-2 is UTC+2
)
def test_a_late_utc_play_lands_on_the_local_day(zone: str, day: date, weekday: int, hour: int) -> None:
    late = play(0, 200_000, start=datetime(2024, 3, 4, 23, 30, tzinfo=UTC))  # Monday 23:30 UTC
    with scope_of([late], zone=zone) as scope:
        clock = listening_clock(scope)
        assert daily_series(scope) == [DayPoint(day, 200_000, 1, 1)]
        assert longest_streak(scope) == Streak(1, day, day)
    assert (clock.peak_weekday, clock.peak_hour, clock.zone) == (weekday, hour, ZonePlan.single(zone).label)
    assert clock.cells[(weekday - 1) * 24 + hour] == ClockCell(weekday, hour, 200_000, 1, 1)
