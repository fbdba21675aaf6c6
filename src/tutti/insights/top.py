"""Top artists, tracks, albums and podcast shows of a period, by listening time or by plays.

Items are grouped by the name keys of ``tutti.names`` (``artist_key``; a track is ``artist_key`` with
``track_key``; an album its name ignoring case with ``artist_key``) and shown under their most common spelling
(most events, then the spelling that sorts first). Music lists read ``kind = 'music'`` rows only; shows read
``kind = 'podcast'`` rows (the artist column holds the show). Every event of the item counts towards its time
and its events; ``plays`` counts what the play rule counts; ties go to the smaller name key. Only items with at least
one play are ranked: a list is never padded with items the listener only skipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tutti.errors import UsageError
from tutti.insights.scope import Scope

# Ties are broken by the item's name key, so that a ranking is deterministic and needs no spelling.
ORDERINGS = {
    "time": "ms_played DESC, plays DESC",
    "plays": "plays DESC, ms_played DESC",
}

# The period's events summed per exact (kind, artist, track, album): a few thousand rows instead of a million,
# built once per scope and shared by the top lists, the totals' variety counts and the most skipped tracks.
_NAMED_SQL = """
CREATE TEMP TABLE IF NOT EXISTS {named} AS
SELECT kind, artist, track, album, artist_key, track_key,
       count(*) AS events,
       sum(counts::INTEGER)::BIGINT AS plays,
       sum(ms)::BIGINT AS ms_played,
       min(local_ts) AS first_local,
       count(skipped) AS skip_told,
       coalesce(sum(skipped::INTEGER), 0)::BIGINT AS skipped
FROM {{plays}}
GROUP BY kind, artist, track, album, artist_key, track_key
"""


def named_items(scope: Scope) -> str:
    """The name of a temp table of the period's events summed per exact kind, artist, track and album.

    Columns: kind, artist, track, album, artist_key, track_key, events, plays, ms_played, first_local, skip_told
    (events that tell whether they were skipped), skipped. Built on first use; dropped with the connection.
    """
    named = f"{scope.plays}_named"
    scope.query(_NAMED_SQL.format(named=named))
    return named


@dataclass(frozen=True)
class Ranked:
    rank: int
    name: str
    artist: str | None  # None for artists and shows
    ms_played: int
    plays: int
    events: int
    first_local: datetime  # the item's first event in the period, on the listener's clock


@dataclass(frozen=True)
class _Item:
    """How one kind of item is named and keyed: its name column, its artist column, the SQL of its key."""

    kind: str
    name: str
    artist: str | None
    keys: tuple[str, ...]


_ARTISTS = _Item("music", "artist", None, ("artist_key",))
_TRACKS = _Item("music", "track", "artist", ("artist_key", "track_key"))
_ALBUMS = _Item("music", "album", "artist", ("artist_key", "lower(album)"))
_SHOWS = _Item("podcast", "artist", None, ("artist_key",))


def spelling(column: str, weight: str = "events") -> str:
    """SQL of the most common spelling of ``column`` in a group (most ``weight``, then the first in order)."""
    return f"first({column} ORDER BY {weight} DESC, {column})"


def _ranked(scope: Scope, item: _Item, n: int | None, by: str, day: date | None = None) -> list[Ranked]:
    """The ranking of ``item`` over the period, or over one local ``day`` of it."""
    if by not in ORDERINGS:
        raise UsageError(f"cannot rank by {by!r}; choose one of {', '.join(ORDERINGS)}")
    if n is not None and n < 0:
        raise UsageError(f"a top list cannot have {n} entries")
    columns = [item.name] + ([item.artist] if item.artist else [])
    params: list[object] = [item.kind]
    if day is None:
        source = named_items(scope)
    else:
        # One day holds few events: summing them directly is cheaper than the shared table.
        source = f"""(
            SELECT kind, {", ".join(columns)}, artist_key, track_key, ms AS ms_played, counts::INTEGER AS plays,
                   1 AS events, local_ts AS first_local
            FROM {{plays}} WHERE local_date = ?)"""
        params.insert(0, day)
    params.append(n)
    keys = ", ".join(f"{key} AS key{i}" for i, key in enumerate(item.keys))
    key_names = ", ".join(f"key{i}" for i in range(len(item.keys)))
    weights = ", ".join(f"sum(events) OVER (PARTITION BY {key_names}, {c}) AS {c}_events" for c in columns)
    rows: list[tuple[Any, ...]] = scope.query(
        f"""
        WITH spellings AS (
            SELECT {keys}, {", ".join(columns)},
                   sum(ms_played)::BIGINT AS ms_played, sum(plays)::BIGINT AS plays,
                   sum(events)::BIGINT AS events, min(first_local) AS first_local
            FROM {source}
            WHERE kind = ? AND {" AND ".join(f"{c} IS NOT NULL" for c in (*columns, *item.keys))}
            GROUP BY ALL
        ),
        items AS (
            SELECT {key_names}, sum(ms_played)::BIGINT AS ms_played, sum(plays)::BIGINT AS plays,
                   sum(events)::BIGINT AS events, min(first_local) AS first_local
            FROM spellings
            GROUP BY {key_names}
            HAVING sum(plays) > 0
        ),
        ranked AS (
            SELECT *, row_number() OVER (ORDER BY {ORDERINGS[by]}, {key_names}) AS rank
            FROM items
            ORDER BY rank
            LIMIT ?
        ),
        named AS (  -- the most common spelling, looked up for the listed items only
            SELECT {key_names}, {spelling(item.name, f"{item.name}_events")} AS name,
                   {spelling(item.artist, f"{item.artist}_events") if item.artist else "NULL::VARCHAR"} AS artist
            FROM (SELECT *, {weights} FROM spellings SEMI JOIN ranked USING ({key_names}))
            GROUP BY {key_names}
        )
        SELECT r.rank, n.name, n.artist, r.ms_played, r.plays, r.events, r.first_local
        FROM ranked r JOIN named n USING ({key_names})
        ORDER BY r.rank
        """,
        params,
    )
    return [Ranked(*row) for row in rows]


def top_artists(scope: Scope, n: int | None = None, by: str = "time") -> list[Ranked]:
    return _ranked(scope, _ARTISTS, n, by)


def top_tracks(scope: Scope, n: int | None = None, by: str = "time") -> list[Ranked]:
    return _ranked(scope, _TRACKS, n, by)


def top_albums(scope: Scope, n: int | None = None, by: str = "time") -> list[Ranked]:
    return _ranked(scope, _ALBUMS, n, by)


def top_shows(scope: Scope, n: int | None = None, by: str = "time") -> list[Ranked]:
    return _ranked(scope, _SHOWS, n, by)


def top_tracks_of_day(scope: Scope, day: date, n: int | None = None, by: str = "time") -> list[Ranked]:
    """The tracks of one local day, ranked like ``top_tracks``."""
    return _ranked(scope, _TRACKS, n, by, day)
