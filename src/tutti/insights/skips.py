"""Skips, shuffle, offline listening, devices and countries, each counted only where the export tells.

Only some exports know whether a play was skipped (Spotify's extended history does; account data and
scrobbles do not), played on shuffle, offline, on which kind of device or from which country. Every rate
and share here is taken over the events that carry the value, never over all events, and says how many
those were. A platform of 'unknown' and a country of 'ZZ' (Spotify's mark for unknown) count as not told.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tutti.errors import UsageError
from tutti.insights.scope import Scope
from tutti.insights.top import named_items, spelling

MIN_TRACK_EVENTS = 3  # a track needs this many events with skip information to be among the most skipped


@dataclass(frozen=True)
class MonthSkips:
    month: str  # 'YYYY-MM'
    events: int  # events of the month that tell whether they were skipped
    skipped: int
    rate: float


@dataclass(frozen=True)
class SkippedTrack:
    track: str
    artist: str | None
    skipped: int
    events: int  # events of the track that tell whether they were skipped
    rate: float


@dataclass(frozen=True)
class Share:
    name: str
    events: int
    ms_played: int
    share: float  # of the events whose value is known


@dataclass(frozen=True)
class Skips:
    events_with_skip_info: int
    skipped: int
    rate: float | None  # None when no event tells
    by_month: list[MonthSkips]  # months with skip information only
    most_skipped: list[SkippedTrack]
    shuffle_share: float | None
    offline_share: float | None
    platforms: list[Share]
    countries: list[Share]
    shuffle_known: int = 0
    offline_known: int = 0


def _shares(rows: list[tuple[Any, ...]], unknown: set[str | None]) -> list[Share]:
    told = [(name, events, ms) for name, events, ms in rows if name not in unknown]
    known = sum(events for _, events, _ in told)
    return sorted(
        (Share(name, events, ms, events / known) for name, events, ms in told),
        key=lambda s: (-s.events, -s.ms_played, s.name),
    )


def skips(scope: Scope, n: int = 10) -> Skips:
    """Skip rates overall, per month and per track; shuffle, offline, platform and country shares."""
    if n < 0:
        raise UsageError(f"a list of most skipped tracks cannot have {n} entries")
    counted: list[tuple[Any, ...]] = scope.query(
        """
        WITH grouped AS (
            SELECT year(local_date) * 100 + month(local_date) AS month, platform, country,
                   count(*) AS events, sum(ms)::BIGINT AS ms_played,
                   count(skipped) AS skip_told, sum(skipped::INTEGER) AS skipped,
                   count(shuffle) AS shuffle_told, sum(shuffle::INTEGER) AS shuffled,
                   count(offline) AS offline_told, sum(offline::INTEGER) AS offline
            FROM {plays}
            GROUP BY month, platform, country
        )
        -- level: 7 for the whole period, 3 per month, 5 per platform, 6 per country
        SELECT GROUPING(month, platform, country) AS level, month, platform, country,
               sum(events)::BIGINT, sum(ms_played)::BIGINT,
               sum(skip_told)::BIGINT, coalesce(sum(skipped), 0)::BIGINT,
               sum(shuffle_told)::BIGINT, coalesce(sum(shuffled), 0)::BIGINT,
               sum(offline_told)::BIGINT, coalesce(sum(offline), 0)::BIGINT
        FROM grouped
        GROUP BY GROUPING SETS ((), (month), (platform), (country))
        ORDER BY level, month
        """
    )
    tracks: list[tuple[Any, ...]] = scope.query(
        f"""
        WITH spelt AS (
            SELECT track_key, artist_key, track, artist, sum(events) AS events, sum(skipped) AS skipped,
                   sum(skip_told) AS skip_told
            FROM {named_items(scope)}
            WHERE kind = 'music' AND track IS NOT NULL
            GROUP BY ALL
        ),
        weighted AS (  -- how often each spelling occurs within its track
            SELECT *, sum(events) OVER (PARTITION BY track_key, artist_key, track) AS track_events,
                   sum(events) OVER (PARTITION BY track_key, artist_key, artist) AS artist_events
            FROM spelt
        ),
        tracks AS (
            SELECT {spelling("track", "track_events")} AS track, {spelling("artist", "artist_events")} AS artist,
                   sum(skipped)::BIGINT AS skipped, sum(skip_told)::BIGINT AS events
            FROM weighted
            GROUP BY track_key, artist_key
        )
        SELECT track, artist, skipped, events, skipped / events AS rate
        FROM tracks
        WHERE events >= ? AND skipped > 0
        ORDER BY skipped DESC, rate DESC, track, artist NULLS FIRST
        LIMIT ?
        """,
        [MIN_TRACK_EVENTS, n],
    )
    whole: tuple[int, ...] = (0,) * 6
    months: list[MonthSkips] = []
    platforms: list[tuple[Any, ...]] = []
    countries: list[tuple[Any, ...]] = []
    for level, month, platform, country, events, ms_played, *flags in counted:
        if level == 7 and events:
            whole = tuple(flags)
        elif level == 3 and flags[0]:
            month_name = f"{month // 100:04d}-{month % 100:02d}"
            months.append(MonthSkips(month_name, flags[0], flags[1], flags[1] / flags[0]))
        elif level == 5:
            platforms.append((platform, events, ms_played))
        elif level == 6:
            countries.append((country, events, ms_played))
    told, skipped, shuffle_told, shuffled, offline_told, offline = whole
    return Skips(
        events_with_skip_info=told,
        skipped=skipped,
        rate=skipped / told if told else None,
        by_month=months,
        most_skipped=[SkippedTrack(*row) for row in tracks],
        shuffle_share=shuffled / shuffle_told if shuffle_told else None,
        offline_share=offline / offline_told if offline_told else None,
        platforms=_shares(platforms, {None, "", "unknown"}),
        countries=_shares(countries, {None, "", "ZZ"}),
        shuffle_known=shuffle_told,
        offline_known=offline_told,
    )
