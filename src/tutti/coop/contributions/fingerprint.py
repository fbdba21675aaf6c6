"""Content fingerprints of histories: which plays of an upload another history already holds, whatever its clock.

A history's *shingles* are the pairs of tracks a listener played close together: for every two plays of distinct
tracks whose moments (the end of the play where recorded, else its start, to the minute) lie at most
``WINDOW_MINUTES`` apart, the 64-bit hash of the two name keys (``tutti.names``: artist key and track base, so
case, accents, invisible characters and decorations change nothing), in key order. What a copy cannot shed:

* **time shifts**: only the distance between two plays matters, never the clock; a history moved by a minute, an
  hour or a day has the same pairs.
* **format conversions**: the pairs use names and minutes only, which every export records (Spotify's extended
  history, its account data and Last.fm scrobbles of the same plays give the same pairs, bar a few at the edge of
  the window). Plays of known length under ``MIN_PLAY_MS`` are left out, as Last.fm leaves them out when it
  scrobbles.
* **subsets**: a pair survives whenever both its plays are kept, so any subset, a slice of time or plays picked at
  random, has its pairs inside the original's (containment, not similarity, is what copy detection measures).
* **merges**: the pairs of each merged history are all in the merge.

Two people almost never play the same two tracks within minutes of each other often: on the real exports in
``../shared/samples`` the largest share of one person's pairs found in another person's history is about 2 %.

The cooperative keeps an index of *sampled* shingles (those whose hash is divisible by ``SAMPLE_EVERY``, as
document fingerprinting samples by value), so an upload is compared with every history by a few indexed lookups;
shares measured on the sample estimate the shares on the whole. The member's own history is compared exactly
(``known_plays``), from their own plays, which the cooperative decrypts anyway to find the new ones.
"""

from __future__ import annotations

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tutti.names import track_base_sql

WINDOW_MINUTES = 10
MIN_PLAY_MS = 30_000
SAMPLE_EVERY = 8
COLUMNS = ("play_id", "start_utc", "end_utc", "ms_played", "artist_key", "track_key")

Shingles = npt.NDArray[np.uint64]

_PLAYS = f"""
plays_keyed AS (
    SELECT play_id, coalesce(artist_key, '') || chr(31) || {track_base_sql("track_key")} AS k,
           epoch_ms(coalesce(end_utc, start_utc)) // 60000 AS m
    FROM plays
    WHERE track_key IS NOT NULL AND coalesce(end_utc, start_utc) IS NOT NULL
      AND (ms_played IS NULL OR ms_played >= {MIN_PLAY_MS})
),
offsets AS (SELECT play_id, k, m + d AS m, d FROM plays_keyed, range(0, {WINDOW_MINUTES} + 1) AS r(d)),
pairs AS (
    SELECT a.play_id AS a_id, b.play_id AS b_id,
           md5_number_lower(least(a.k, b.k) || chr(30) || greatest(a.k, b.k)) AS shingle
    FROM offsets a JOIN plays_keyed b ON b.m = a.m
    WHERE a.k <> b.k AND (a.d > 0 OR a.k < b.k)
)"""

_SHINGLES_SQL = f"WITH {_PLAYS} SELECT DISTINCT shingle FROM pairs ORDER BY shingle"


def _connect(table: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("plays", table.select(list(COLUMNS)))
    return con


def shingles(table: pa.Table) -> Shingles:
    """The distinct shingle hashes of pool rows (``COLUMNS`` at least), ascending (the same plays in any order
    give the same array)."""
    con = _connect(table)
    try:
        column = con.sql(_SHINGLES_SQL).to_arrow_table().column("shingle")
    finally:
        con.close()
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.uint64)


def sample(hashes: Shingles) -> Shingles:
    """The shingles the cooperative's index keeps."""
    kept: Shingles = hashes[hashes % np.uint64(SAMPLE_EVERY) == 0]
    return kept


def to_signed(hashes: Shingles) -> list[int]:
    """Shingles as the database stores them (signed 64-bit: the same bits)."""
    return [int(v) for v in hashes.view(np.int64)]


def from_signed(values: list[int]) -> Shingles:
    return np.array(values, dtype=np.int64).view(np.uint64)


def contained(part: Shingles, whole: Shingles) -> float:
    """The share of ``part`` found in ``whole`` (0 for an empty ``part``)."""
    return float(np.isin(part, whole).mean()) if len(part) else 0.0


def known_plays(table: pa.Table, own: Shingles) -> tuple[pa.Array, pa.Array]:
    """Per row of ``table``: does this play take part in any pair, and is its company already in the member's own
    history (shingles ``own``), i.e. are at least half of the pairs it takes part in there?

    Plays with no pair (alone in their window, too short to count) are neither.
    """
    con = _connect(table)
    try:
        con.register("own", pa.table({"shingle": pa.array(own, pa.uint64())}))
        rows = con.sql(
            f"""WITH {_PLAYS},
            ends AS (SELECT a_id AS play_id, shingle FROM pairs UNION ALL SELECT b_id, shingle FROM pairs)
            SELECT play_id, avg((own.shingle IS NOT NULL)::INT) >= 0.5 AS known
            FROM ends LEFT JOIN own USING (shingle) GROUP BY play_id"""
        ).to_arrow_table()
    finally:
        con.close()
    ids = table.column("play_id")
    known_ids = rows.filter(rows.column("known")).column("play_id")
    return pc.is_in(ids, value_set=rows.column("play_id")), pc.is_in(ids, value_set=known_ids)
