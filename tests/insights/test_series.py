from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.helpers.store_fixtures import Raw, expected_ranking, play, sample_scope, scope_of
from tutti.insights.series import BusiestDay, DayPoint, MonthPoint, busiest_day, daily_series, monthly_series
from tutti.names import artist_key


def expected_daily(events: list[Raw]) -> list[DayPoint]:
    days: dict[date, list[Raw]] = {}
    for e in events:
        days.setdefault(e.day, []).append(e)
    return [
        DayPoint(day, sum(e.played for e in group), sum(e.counts for e in group), len(group))
        for day, group in sorted(days.items())
    ]


def expected_monthly(events: list[Raw]) -> list[MonthPoint]:
    months: dict[tuple[int, int], list[Raw]] = {}
    for e in events:
        months.setdefault((e.day.year, e.day.month), []).append(e)
    if not months:
        return []
    (year, month), last = min(months), max(months)
    points = []
    while (year, month) <= last:
        group = months.get((year, month), [])
        artists = {artist_key(e.artist) for e in group if e.kind == "music" and e.counts and e.artist}
        points.append(
            MonthPoint(
                f"{year:04d}-{month:02d}",
                sum(e.played for e in group),
                sum(e.counts for e in group),
                len(artists),
                len(group),
            )
        )
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return points


def expected_busiest(events: list[Raw]) -> BusiestDay | None:
    days = expected_daily(events)
    if not days:
        return None
    top = min(days, key=lambda d: (-d.ms_played, -d.plays, d.day))
    that_day = [e for e in events if e.day == top.day]
    tracks = expected_ranking(that_day, "music", "track", "artist", "time")[:5]
    return BusiestDay(top.day, top.ms_played, top.plays, tracks, top.events)


@pytest.mark.samples
@pytest.mark.parametrize(
    ("sample", "period", "zone"),
    [
        ("mica-92", "all", "UTC"),
        ("mica-92", "2024-autumn", "America/Argentina/Buenos_Aires"),
        ("hobbies-w-erin", "2024", "America/Chicago"),
        ("hobbies-w-erin", "all", "Asia/Tokyo"),
        ("pingw33n", "all", "UTC"),
    ],
)
def test_series_match_an_independent_count_of_the_raw_export(
    tmp_path: Path, sample: str, period: str, zone: str
) -> None:
    with sample_scope(tmp_path, sample, period, zone) as (scope, events):
        assert daily_series(scope) == expected_daily(events)
        assert monthly_series(scope) == expected_monthly(events)
        assert busiest_day(scope) == expected_busiest(events)


def test_months_without_listening_are_zeros_and_days_without_are_left_out() -> None:
    plays = [
        play(0, 100_000, "Air", "Kelly"),
        play(5, 100_000, "air", "Sexy Boy"),
        play(10, 5_000, "Moby", "Porcelain"),  # heard but not a play: not among the month's artists
        play(0, 200_000, "Moby", "Porcelain", start=datetime(2024, 6, 1, 8, tzinfo=UTC)),
    ]
    with scope_of(plays) as scope:
        daily = daily_series(scope)
        monthly = monthly_series(scope)
    assert daily == [DayPoint(date(2024, 3, 4), 205_000, 2, 3), DayPoint(date(2024, 6, 1), 200_000, 1, 1)]
    assert monthly == [
        MonthPoint("2024-03", 205_000, 2, 1, 3),
        MonthPoint("2024-04", 0, 0, 0, 0),
        MonthPoint("2024-05", 0, 0, 0, 0),
        MonthPoint("2024-06", 200_000, 1, 1, 1),
    ]


def test_months_run_across_the_turn_of_a_year() -> None:
    plays = [play(0, start=datetime(2023, 11, 30, tzinfo=UTC)), play(0, start=datetime(2024, 2, 1, tzinfo=UTC))]
    with scope_of(plays) as scope:
        months = [m.month for m in monthly_series(scope)]
    assert months == ["2023-11", "2023-12", "2024-01", "2024-02"]


def test_the_busiest_day_shows_its_top_tracks() -> None:
    plays = [play(i * 4, 200_000, "Air", f"Track {i % 7}") for i in range(10)]
    plays.append(play(60 * 24, 1_000_000, "Moby", "Long"))  # the next day: less time in total
    with scope_of(plays) as scope:
        busiest = busiest_day(scope)
    assert busiest is not None
    assert (busiest.day, busiest.ms_played, busiest.plays, busiest.events) == (date(2024, 3, 4), 2_000_000, 10, 10)
    assert [(t.rank, t.name, t.ms_played) for t in busiest.top_tracks] == [
        (1, "Track 0", 400_000),
        (2, "Track 1", 400_000),
        (3, "Track 2", 400_000),
        (4, "Track 3", 200_000),
        (5, "Track 4", 200_000),
    ]


def test_an_empty_period_has_no_series() -> None:
    with scope_of([play(0)], period="2030") as scope:
        assert (daily_series(scope), monthly_series(scope), busiest_day(scope)) == ([], [], None)
