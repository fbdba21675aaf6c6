"""What was new in the period: artists and tracks first heard in it.

An artist (music only, by its name key) or a track (the artist's key with the track's key, ``tutti.names``) is
a discovery of the period when its first *play* (an event the play rule counts) in the whole stored history falls
inside the period: the same rule and keys as the period's artists and tracks, so every new artist is one of the
period's artists. A skip is not a discovery; an artist first skipped, then played a year later, is new the year of
its first play. "First ever" can only mean first in what was imported: everything in the first weeks of a history
looks new. ``Discoveries.history_starts`` gives the first day of the history so that a report can say so.

Lists are ordered by plays in the period, then time in the period, then name; names are the most common spelling
in the whole history (most events, then the spelling that sorts first).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import cast

from tutti.insights.scope import Scope
from tutti.insights.top import spelling


@dataclass(frozen=True)
class Discovery:
    name: str  # the artist, or the track title
    artist: str | None  # the track's artist; None for an artist
    first_local: datetime  # the first play ever, in local time
    plays: int  # counted plays in the period
    ms_played: int  # time played in the period (every event)


@dataclass(frozen=True)
class Discoveries:
    artists: list[Discovery]
    tracks: list[Discovery]
    artist_count: int  # every artist discovered in the period, however many are listed
    track_count: int
    history_starts: date | None  # first local day of the whole history: discoveries near it are not real ones


# Aggregated first by exact spelling (cheap), then by name keys (a much smaller table); spelled as the most common.
_DISCOVERIES_SQL = """
WITH period_bounds AS (
    SELECT min(local_ts) AS first_ts, max(local_ts) AS last_ts FROM {plays}
),
spellings AS (
    SELECT artist_key, track_key, artist, track, count(*) AS events,
           min(local_ts) FILTER (WHERE counts) AS first_local,
           count(*) FILTER (WHERE counts AND local_ts BETWEEN b.first_ts AND b.last_ts) AS plays,
           coalesce(sum(ms) FILTER (WHERE local_ts BETWEEN b.first_ts AND b.last_ts), 0) AS ms_played
    FROM {history}, period_bounds b
    WHERE kind = 'music' AND artist_key IS NOT NULL
    GROUP BY ALL
),
weighted AS (  -- how often each spelling occurs, for the artist and for each of its tracks
    SELECT *, sum(events) OVER (PARTITION BY artist_key, artist) AS artist_events,
           sum(events) OVER (PARTITION BY artist_key, track_key, artist) AS track_artist_events,
           sum(events) OVER (PARTITION BY artist_key, track_key, track) AS track_events
    FROM spellings
),
tracks AS (
    SELECT artist_key, track_key, $track_artist_spelling AS artist, $track_spelling AS track,
           min(first_local) AS first_local, sum(plays) AS plays, sum(ms_played) AS ms_played
    FROM weighted GROUP BY artist_key, track_key
),
artists AS (
    SELECT artist_key, $artist_spelling AS artist, min(first_local) AS first_local, sum(plays) AS plays,
           sum(ms_played) AS ms_played
    FROM weighted GROUP BY artist_key
),
discovered AS (
    SELECT true AS is_artist, artist, NULL AS track, first_local, plays, ms_played FROM artists
    UNION ALL
    SELECT false, artist, track, first_local, plays, ms_played FROM tracks WHERE track_key IS NOT NULL
),
ranked AS (
    SELECT d.*,
           row_number() OVER (
               PARTITION BY is_artist ORDER BY plays DESC, ms_played DESC, coalesce(track, artist), artist
           ) AS rank,
           count(*) OVER (PARTITION BY is_artist) AS discovered
    FROM discovered d, period_bounds b
    WHERE d.first_local BETWEEN b.first_ts AND b.last_ts
)
SELECT is_artist, artist, track, first_local, plays::BIGINT, ms_played::BIGINT, discovered
FROM ranked
WHERE $limit IS NULL OR rank <= $limit
ORDER BY is_artist DESC, rank
""".replace("$artist_spelling", spelling("artist", "artist_events"))
_DISCOVERIES_SQL = _DISCOVERIES_SQL.replace("$track_artist_spelling", spelling("artist", "track_artist_events"))
_DISCOVERIES_SQL = _DISCOVERIES_SQL.replace("$track_spelling", spelling("track", "track_events"))


_Row = tuple[bool, str, str | None, datetime, int, int, int]


def discoveries(scope: Scope, n: int | None = None) -> Discoveries:
    """Artists and tracks whose first play ever lies in the period, by plays in the period (``n`` each)."""
    rows = scope.query(_DISCOVERIES_SQL.replace("$limit", "NULL" if n is None else str(int(n))))
    artists: list[Discovery] = []
    tracks: list[Discovery] = []
    counts = {True: 0, False: 0}
    for row in rows:
        is_artist, artist, track, first_local, plays, ms_played, discovered = cast(_Row, row)
        counts[is_artist] = discovered
        if is_artist:
            artists.append(Discovery(artist, None, first_local, plays, ms_played))
        else:
            tracks.append(Discovery(track or "", artist, first_local, plays, ms_played))
    start = scope.query("SELECT min(local_date) FROM {history}")[0][0]
    return Discoveries(
        artists=artists,
        tracks=tracks,
        artist_count=counts[True],
        track_count=counts[False],
        history_starts=start if isinstance(start, date) else None,
    )
