"""When in the week the listening happens: time and plays for each weekday and hour on the listener's clock."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutti.insights.scope import Scope


@dataclass(frozen=True)
class ClockCell:
    weekday: int  # 1 = Monday .. 7 = Sunday
    hour: int  # 0-23, local time at the start of the event
    ms_played: int
    plays: int
    events: int = 0


@dataclass(frozen=True)
class Clock:
    cells: list[ClockCell]  # all 168, Monday 0h first, empty ones included
    peak_weekday: int | None  # the cell with the most time (then plays, then the earliest); None without events
    peak_hour: int | None
    zone: str


def listening_clock(scope: Scope) -> Clock:
    """Every event counts towards its cell's time and events; ``plays`` are the ones the rule counts."""
    rows: list[tuple[Any, ...]] = scope.query(
        """
        WITH cells AS (
            SELECT d.weekday::INTEGER AS weekday, h.hour::INTEGER AS hour
            FROM range(1, 8) AS d(weekday), range(0, 24) AS h(hour)
        ),
        listened AS (
            SELECT weekday, hour, sum(ms)::BIGINT AS ms_played, sum(counts::INTEGER)::BIGINT AS plays,
                   count(*) AS events
            FROM {plays}
            GROUP BY weekday, hour
        )
        SELECT c.weekday, c.hour, coalesce(l.ms_played, 0), coalesce(l.plays, 0), coalesce(l.events, 0)
        FROM cells c LEFT JOIN listened l USING (weekday, hour)
        ORDER BY c.weekday, c.hour
        """
    )
    cells = [ClockCell(*row) for row in rows]
    busy = [c for c in cells if c.events]
    peak = min(busy, key=lambda c: (-c.ms_played, -c.plays, c.weekday, c.hour)) if busy else None
    return Clock(
        cells=cells,
        peak_weekday=peak.weekday if peak else None,
        peak_hour=peak.hour if peak else None,
        zone=scope.zones.label,
    )
