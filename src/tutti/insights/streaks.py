"""Habits: the longest run of days with listening, and listening sessions.

A streak is a run of consecutive local days, each with at least one play the rule counts. A session is a
run of events (all of them, counted or not, in order of their start) in which no event starts more than
``gap_minutes`` after the previous one ended (start + time played); its length runs from the start of its
first event to the end of its last. Gaps are measured on UTC instants, so a change of clock (DST, a move)
does not cut or join sessions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tutti.errors import UsageError
from tutti.insights.scope import Scope


@dataclass(frozen=True)
class Streak:
    days: int
    start: date | None
    end: date | None  # the last day of the run, included


@dataclass(frozen=True)
class Session:
    start_local: datetime
    end_local: datetime
    minutes: float
    plays: int
    events: int


@dataclass(frozen=True)
class Sessions:
    count: int
    gap_minutes: int
    median_minutes: float
    longest: Session | None  # the earliest of the longest


def longest_streak(scope: Scope) -> Streak:
    """The longest run of consecutive days with plays (the earliest such run on a tie); 0 days without plays."""
    rows: list[tuple[Any, ...]] = scope.query(
        """
        WITH days AS (
            SELECT DISTINCT local_date AS day FROM {plays} WHERE counts
        ),
        runs AS (
            -- consecutive days share day minus their position
            SELECT day, day - CAST(row_number() OVER (ORDER BY day) AS INTEGER) AS run FROM days
        )
        SELECT count(*) AS days, min(day) AS first, max(day) AS last
        FROM runs
        GROUP BY run
        ORDER BY days DESC, first
        LIMIT 1
        """
    )
    if not rows:
        return Streak(0, None, None)
    return Streak(*rows[0])


def sessions(scope: Scope, gap_minutes: int = 30) -> Sessions:
    """Sessions of the period's events, their median length and the longest one.

    One ordered pass numbers the events and finds where a session starts; the sessions themselves are then
    read off those few starting rows (a session ends where the event before the next start ends).
    """
    if gap_minutes < 0:
        raise UsageError(f"a session gap cannot be negative ({gap_minutes} minutes)")
    start_local, end_local = (
        scope.zones.sql_local(f"timezone('UTC', make_timestamp({us}))") for us in ("start_us", "end_us")
    )
    rows: list[tuple[Any, ...]] = scope.query(
        f"""
        WITH events AS (
            SELECT epoch_us(coalesce(start_utc, end_utc)) AS start_us, 1000 * ms AS length_us,
                   counts::INTEGER AS counted
            FROM {{plays}}
        ),
        ordered AS (
            SELECT start_us, start_us + length_us AS end_us, counted,
                   row_number() OVER w AS position,
                   sum(counted) OVER w AS plays_so_far,
                   lag(start_us + length_us) OVER w AS previous_end,
                   lead(start_us) OVER w IS NULL AS last
            FROM events
            WINDOW w AS (ORDER BY start_us, length_us ROWS UNBOUNDED PRECEDING)
        ),
        flagged AS (
            SELECT *, previous_end IS NULL OR start_us - previous_end > ? AS first FROM ordered
        ),
        marks AS (
            -- the first event of each session, and the very last event
            SELECT * FROM flagged WHERE first OR last
        ),
        closing AS (
            -- what each mark tells about the end of the session before it
            SELECT *,
                   lead(CASE WHEN first THEN previous_end ELSE end_us END) OVER w AS next_end,
                   lead(CASE WHEN first THEN position ELSE position + 1 END) OVER w AS next_position,
                   lead(CASE WHEN first THEN plays_so_far - counted ELSE plays_so_far END) OVER w AS next_plays
            FROM marks
            WINDOW w AS (ORDER BY position)
        ),
        sessions AS (
            SELECT start_us, coalesce(next_end, end_us) AS end_us,
                   coalesce(next_plays, plays_so_far) - (plays_so_far - counted) AS plays,
                   coalesce(next_position, position + 1) - position AS events
            FROM closing
            WHERE first
        )
        SELECT count(*) OVER () AS sessions, median(end_us - start_us) OVER () AS median_us,
               {start_local} AS start_local, {end_local} AS end_local, end_us - start_us AS length_us, plays, events
        FROM sessions
        ORDER BY length_us DESC, start_us
        LIMIT 1
        """,
        [gap_minutes * 60_000_000],
    )
    if not rows:
        return Sessions(count=0, gap_minutes=gap_minutes, median_minutes=0.0, longest=None)
    count, median_us, start_local, end_local, length_us, plays, events = rows[0]
    longest = Session(start_local, end_local, length_us / 60_000_000, int(plays), int(events))
    return Sessions(count, gap_minutes, float(median_us) / 60_000_000, longest)
