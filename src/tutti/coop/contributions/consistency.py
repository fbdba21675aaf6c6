"""Consistency between the files of one upload: where two files hold the same play, they must agree.

Spotify's extended history and account data both record when a play ended and how long it played; a play
present in both (same end minute, same artist and title) has the same ``ms_played`` in both (FORMATS.md: 604 of
604 in a real export). Several copies that disagree mean a file was edited.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import duckdb
import pyarrow as pa

# Sources that record a play's end and its duration (the basis of the check).
_END_AND_MS_SOURCES = ("spotify_extended", "spotify_account")
MIN_SHARED_FOR_CONSISTENCY = 20
MAX_DISAGREEING_SHARE = 0.05


@dataclass(frozen=True)
class FilePairConsistency:
    """Two files of one upload that hold copies of the same plays, and how many copies disagree."""

    file_a: str
    file_b: str
    shared: int
    disagreeing: int


@dataclass(frozen=True)
class Consistency:
    pairs: tuple[FilePairConsistency, ...]
    shared: int
    disagreeing: int
    passed: bool
    reason: str


_SHARED_SQL = f"""
WITH keyed AS (
    SELECT source_file, ms_played,
           date_trunc('minute', end_utc) AS minute, lower(artist) AS artist, lower(track) AS track
    FROM upload
    WHERE source IN {_END_AND_MS_SOURCES} AND end_utc IS NOT NULL AND ms_played IS NOT NULL
      AND artist IS NOT NULL AND track IS NOT NULL
)
SELECT a.source_file, b.source_file, a.minute, a.artist, a.track,
       bool_or(a.ms_played = b.ms_played) AS agrees
FROM keyed a JOIN keyed b USING (minute, artist, track)
WHERE a.source_file < b.source_file
GROUP BY ALL
"""


def consistency(table: pa.Table) -> Consistency:
    """Compare the copies of one play found in different files of the upload (see the module docstring)."""
    con = duckdb.connect()
    try:
        con.register("upload", table.select(["source", "source_file", "end_utc", "ms_played", "artist", "track"]))
        rows = con.execute(_SHARED_SQL).fetchall()
    finally:
        con.close()
    shared: Counter[tuple[str, str]] = Counter()
    bad: defaultdict[tuple[str, str], int] = defaultdict(int)
    for file_a, file_b, _minute, _artist, _track, agrees in rows:
        pair = (str(file_a), str(file_b))
        shared[pair] += 1
        bad[pair] += 0 if agrees else 1
    pairs = tuple(FilePairConsistency(a, b, n, bad[(a, b)]) for (a, b), n in sorted(shared.items()))
    total, disagreeing = sum(shared.values()), sum(bad.values())
    if total < MIN_SHARED_FOR_CONSISTENCY:
        return Consistency(pairs, total, disagreeing, True, f"{total} plays appear in two files: too few to judge")
    share = disagreeing / total
    passed = share <= MAX_DISAGREEING_SHARE
    reason = (
        f"{disagreeing} of {total} plays found in two files disagree on the time played "
        f"({share:.1%}; at most {MAX_DISAGREEING_SHARE:.0%} allowed)"
    )
    return Consistency(pairs, total, disagreeing, passed, reason)
