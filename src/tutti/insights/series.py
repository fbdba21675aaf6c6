"""Listening over time: each local day, each month, and the busiest day with what filled it.

Time counts every event, plays what the rule counts, artists the distinct music artists (name keys) among plays.
The busiest day is the day with the most of the recap's measure (time, or plays when most events are untimed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tutti.insights.scope import Scope
from tutti.insights.top import Ranked, top_tracks_of_day

BUSIEST_DAY_TRACKS = 5


@dataclass(frozen=True)
class DayPoint:
    day: date
    ms_played: int
    plays: int
    events: int = 0


@dataclass(frozen=True)
class MonthPoint:
    month: str  # 'YYYY-MM'
    ms_played: int
    plays: int
    artists: int
    events: int = 0


@dataclass(frozen=True)
class BusiestDay:
    day: date
    ms_played: int
    plays: int
    top_tracks: list[Ranked]  # the day's top tracks by time, the evidence of what filled it
    events: int = 0


def daily_series(scope: Scope) -> list[DayPoint]:
    """One point per local day that has any event, in order; days without any are left out."""
    rows: list[tuple[Any, ...]] = scope.query(
        """
        SELECT local_date, sum(ms)::BIGINT, sum(counts::INTEGER)::BIGINT, count(*)
        FROM {plays}
        GROUP BY local_date
        ORDER BY local_date
        """
    )
    return [DayPoint(*row) for row in rows]


def _month_number(month: int) -> int:
    """Months counted from year 0, so that consecutive months are consecutive numbers."""
    return (month // 100) * 12 + month % 100 - 1


def monthly_series(scope: Scope) -> list[MonthPoint]:
    """Every month from the first event's to the last event's, months without events as zeros."""
    rows: list[tuple[Any, ...]] = scope.query(
        """
        WITH by_artist AS (
            SELECT year(local_date) * 100 + month(local_date) AS month, kind, artist_key,
                   sum(ms)::BIGINT AS ms_played, sum(counts::INTEGER)::BIGINT AS plays, count(*) AS events
            FROM {plays}
            GROUP BY month, kind, artist_key
        )
        SELECT month, sum(ms_played)::BIGINT, sum(plays)::BIGINT,
               count(DISTINCT artist_key) FILTER (WHERE kind = 'music' AND plays > 0), sum(events)::BIGINT
        FROM by_artist
        GROUP BY month
        ORDER BY month
        """
    )
    listened = {_month_number(month): values for month, *values in rows}
    if not listened:
        return []
    months = range(min(listened), max(listened) + 1)
    return [
        MonthPoint(f"{number // 12:04d}-{number % 12 + 1:02d}", *listened.get(number, (0, 0, 0, 0)))
        for number in months
    ]


def busiest_day(scope: Scope, by: str = "time") -> BusiestDay | None:
    """The local day with the most time (``by="plays"``: the most plays) with at least one play, the earliest on
    a tie; None when no day has a play."""
    order = "ms_played DESC, plays DESC" if by == "time" else "plays DESC, ms_played DESC"
    rows: list[tuple[Any, ...]] = scope.query(
        f"""
        SELECT local_date, sum(ms)::BIGINT AS ms_played, sum(counts::INTEGER)::BIGINT AS plays, count(*)
        FROM {{plays}}
        GROUP BY local_date
        HAVING sum(counts::INTEGER) > 0
        ORDER BY {order}, local_date
        LIMIT 1
        """
    )
    if not rows:
        return None
    day, ms_played, plays, events = rows[0]
    tracks = top_tracks_of_day(scope, day, BUSIEST_DAY_TRACKS, by)
    return BusiestDay(day=day, ms_played=ms_played, plays=plays, top_tracks=tracks, events=events)
