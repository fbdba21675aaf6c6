"""The headline numbers of a period: events, plays, time, variety, days, and the same per kind of content.

Time is the sum of ``ms`` over every event (a skipped song was still heard for as long as it played), scrobbles
at their estimated length (``ms_estimated`` says how much of it is estimated); plays are the events the rule
counts. Variety (artists, tracks, albums, titles) is counted among plays, so that a two-second skip does not make
an artist "one you listened to"; artists and tracks are their name keys (``tutti.names``), an album is its name
ignoring case together with its artist's key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tutti.insights.scope import Scope
from tutti.insights.top import named_items


@dataclass(frozen=True)
class KindTotals:
    events: int
    plays: int
    ms_played: int
    titles: int  # distinct artists (music), shows (podcasts) or books (audiobooks) among plays


@dataclass(frozen=True)
class Totals:
    rule: str
    period: str
    events: int
    plays: int
    ms_played: int
    minutes: float
    artists: int
    tracks: int
    albums: int
    days_listened: int  # local days with at least one play
    days_in_period: int | None  # calendar days of the period; for an open side, up to the first/last event
    ms_known_share: float  # share of events whose time played is measured (scrobbles record none)
    music: KindTotals
    podcasts: KindTotals
    audiobooks: KindTotals
    first_local: datetime | None
    last_local: datetime | None
    first_day: date | None = None
    last_day: date | None = None
    ms_estimated: int = 0  # the part of ms_played that is estimated (scrobbles at their track's known length)


def totals(scope: Scope) -> Totals:
    """Two queries: counts per kind of content and local day over the events, variety over the named items."""
    by_kind: list[tuple[Any, ...]] = scope.query(
        """
        WITH days AS (
            SELECT kind, local_date, count(*) AS events, sum(counts::INTEGER) AS plays, sum(ms) AS ms_played,
                   sum(ms_known::INTEGER) AS ms_known,
                   sum(ms) FILTER (WHERE ms_estimated) AS ms_estimated,
                   min(local_ts) AS first_local, max(local_ts) AS last_local
            FROM {plays}
            GROUP BY kind, local_date
        )
        -- one row per kind, and (whole = true) one for the whole period
        SELECT GROUPING(kind) = 1 AS whole, kind,
               sum(events)::BIGINT, sum(plays)::BIGINT, sum(ms_played)::BIGINT, sum(ms_known)::BIGINT,
               count(DISTINCT local_date) FILTER (WHERE plays > 0),
               min(first_local), max(last_local), min(local_date), max(local_date),
               coalesce(sum(ms_estimated), 0)::BIGINT
        FROM days
        GROUP BY GROUPING SETS ((kind), ())
        """
    )
    variety: list[tuple[Any, ...]] = scope.query(
        f"""
        WITH played AS (
            SELECT kind, artist_key AS artist, track_key AS track, lower(album) AS album
            FROM {named_items(scope)}
            WHERE plays > 0
        )
        SELECT count(DISTINCT artist) FILTER (WHERE kind = 'music'),
               count(DISTINCT (artist, track)) FILTER (WHERE kind = 'music' AND artist IS NOT NULL
                                                       AND track IS NOT NULL),
               count(DISTINCT (artist, album)) FILTER (WHERE kind = 'music' AND artist IS NOT NULL
                                                       AND album IS NOT NULL),
               count(DISTINCT artist) FILTER (WHERE kind = 'podcast'),
               count(DISTINCT album) FILTER (WHERE kind = 'audiobook')
        FROM played
        """
    )
    artists, tracks, albums, shows, books = variety[0]
    whole = next((row for row in by_kind if row[0]), None)
    kinds = {row[1]: row for row in by_kind if not row[0]}

    def kind_totals(kind: str, titles: int) -> KindTotals:
        row = kinds.get(kind)
        return KindTotals(row[2], row[3], row[4], titles) if row else KindTotals(0, 0, 0, 0)

    events, plays, ms, ms_known, days, first, last, first_day, last_day, estimated = (
        whole[2:] if whole and whole[2] else (0, 0, 0, 0, 0, None, None, None, None, 0)
    )
    start = scope.period.start or first_day
    end = scope.period.end or (date.fromordinal(last_day.toordinal() + 1) if last_day else None)
    return Totals(
        rule=scope.rule.label,
        period=scope.period.label,
        events=events,
        plays=plays,
        ms_played=ms,
        minutes=ms / 60_000,
        artists=artists,
        tracks=tracks,
        albums=albums,
        days_listened=days,
        days_in_period=(end - start).days if start and end else None,
        ms_known_share=ms_known / events if events else 0.0,
        music=kind_totals("music", artists),
        podcasts=kind_totals("podcast", shows),
        audiobooks=kind_totals("audiobook", books),
        first_local=first,
        last_local=last,
        first_day=first_day,
        last_day=last_day,
        ms_estimated=estimated,
    )
