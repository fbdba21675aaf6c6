from __future__ import annotations

import statistics
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.helpers.store_fixtures import Raw, play, sample_scope, scope_of
from tutti.errors import UsageError
from tutti.insights.streaks import Session, Sessions, Streak, longest_streak, sessions


def expected_streak(events: list[Raw]) -> Streak:
    days = sorted({e.day for e in events if e.counts})
    best = Streak(0, None, None)
    run_start = None
    for i, day in enumerate(days):
        if i == 0 or day - days[i - 1] != timedelta(days=1):
            run_start = day
        assert run_start is not None
        length = (day - run_start).days + 1
        if length > best.days:  # strictly longer: the earliest run wins a tie
            best = Streak(length, run_start, day)
    return best


def expected_sessions(events: list[Raw], gap_minutes: int, zone: str) -> Sessions:
    """Sessions recomputed with plain Python: events in order of start (then length), split at long gaps."""
    ordered = sorted(events, key=lambda e: (e.start, e.played))
    groups: list[list[Raw]] = []
    for i, e in enumerate(ordered):
        if i == 0 or e.start - ordered[i - 1].end > timedelta(minutes=gap_minutes):
            groups.append([])
        groups[-1].append(e)
    if not groups:
        return Sessions(0, gap_minutes, 0.0, None)
    lengths = [(g[-1].end - g[0].start) / timedelta(minutes=1) for g in groups]
    longest = min(range(len(groups)), key=lambda i: (-lengths[i], groups[i][0].start))
    g = groups[longest]
    session = Session(
        start_local=g[0].local,
        end_local=g[-1].end.astimezone(ZoneInfo(zone)).replace(tzinfo=None),
        minutes=lengths[longest],
        plays=sum(e.counts for e in g),
        events=len(g),
    )
    return Sessions(len(groups), gap_minutes, statistics.median(lengths), session)


@pytest.mark.samples
@pytest.mark.parametrize(
    ("sample", "period", "zone"),
    [
        ("mica-92", "all", "UTC"),
        ("mica-92", "2024-10", "America/Argentina/Buenos_Aires"),
        ("hobbies-w-erin", "2024", "America/Chicago"),
        ("hobbies-w-erin", "all", "UTC"),
        ("pingw33n", "all", "Europe/Berlin"),
    ],
)
def test_streaks_and_sessions_match_an_independent_count_of_the_raw_export(
    tmp_path: Path, sample: str, period: str, zone: str
) -> None:
    with sample_scope(tmp_path, sample, period, zone) as (scope, events):
        assert longest_streak(scope) == expected_streak(events)
        for gap in (30, 5):
            result = sessions(scope, gap)
            expected = expected_sessions(events, gap, zone)
            assert (result.count, result.gap_minutes, result.longest) == (expected.count, gap, expected.longest)
            assert result.median_minutes == pytest.approx(expected.median_minutes)


def test_the_longest_streak_is_the_earliest_of_equal_runs() -> None:
    day = 60 * 24
    plays = [
        play(0),
        play(day),  # Mon, Tue
        play(3 * day, 10_000),  # Thu: heard, but no play
        play(5 * day),
        play(6 * day),  # Sat, Sun: as long as Mon-Tue
        play(9 * day, track="x"),
        play(10 * day, track="y"),
        play(11 * day, track="z"),  # Wed-Fri of the next week: longer
    ]
    with scope_of(plays[:5]) as scope:
        assert longest_streak(scope) == Streak(2, date(2024, 3, 4), date(2024, 3, 5))
    with scope_of(plays) as scope:
        assert longest_streak(scope) == Streak(3, date(2024, 3, 13), date(2024, 3, 15))
    with scope_of(plays[2:3]) as scope:
        assert longest_streak(scope) == Streak(0, None, None)


def test_sessions_split_at_gaps_longer_than_the_limit() -> None:
    plays = [
        play(0, 180_000),
        play(3, 180_000, track="B"),  # right after
        play(36, 180_000, track="C"),  # 30 minutes after B ended: still the same session
        play(120, 60_000, track="D", skipped=True),  # 81 minutes later: a new session
        play(300, None, track="E"),  # a scrobble: no length measured, 3.5 minutes estimated
    ]
    with scope_of(plays, zone="Etc/GMT-2") as scope:
        result = sessions(scope)
        tight = sessions(scope, gap_minutes=10)
    assert result == Sessions(
        count=3,
        gap_minutes=30,
        median_minutes=3.5,  # 39, 1 and 3.5 minutes
        longest=Session(datetime(2024, 3, 4, 14, 0), datetime(2024, 3, 4, 14, 39), 39.0, plays=3, events=3),
    )
    assert (tight.count, tight.median_minutes) == (4, 3.25)  # 6, 3, 1 and 3.5 minutes
    assert tight.longest == Session(datetime(2024, 3, 4, 14, 0), datetime(2024, 3, 4, 14, 6), 6.0, 2, 2)


def test_overlapping_and_simultaneous_events_stay_in_one_session() -> None:
    plays = [play(0, 600_000, track="A"), play(0, 60_000, track="B"), play(2, 120_000, track="C")]
    with scope_of(plays) as scope:
        result = sessions(scope)
    assert (result.count, result.longest) == (
        1,
        Session(datetime(2024, 3, 4, 12), datetime(2024, 3, 4, 12, 4), 4.0, 3, 3),
    )


def test_no_events_no_sessions() -> None:
    with scope_of([play(0)], period="2030") as scope:
        assert sessions(scope) == Sessions(0, 30, 0.0, None)
        with pytest.raises(UsageError):
            sessions(scope, -1)


def test_sessions_measure_real_time_across_a_change_of_clock() -> None:
    # Europe/Berlin moves from 02:00 to 03:00 on 2024-03-31; one hour of music spans it.
    start = datetime(2024, 3, 31, 0, 30, tzinfo=UTC)  # 01:30 local
    plays = [play(i * 10, 600_000, track=f"T{i}", start=start) for i in range(6)]
    with scope_of(plays, zone="Europe/Berlin") as scope:
        result = sessions(scope)
    assert result.longest == Session(datetime(2024, 3, 31, 1, 30), datetime(2024, 3, 31, 3, 30), 60.0, 6, 6)
