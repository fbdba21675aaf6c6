"""Folding copies of one listening event that reached the store through different exports.

One play can arrive several times: in Spotify's extended history and again (minute-truncated) in account
data, and once more as a Last.fm or ListenBrainz scrobble that marks its start. Copies are matched on the name
keys of artist and title (``tutti.names``: case, accents, invisible characters and decorations such as
"(feat. X)" or " - Remastered" do not count, nor version labels, which services write differently for one
recording) and on time, one copy to one copy, the most detailed source kept. Every merge is a row in ``merges``
labelled ``certain`` or ``probable`` with its rule and the time difference; undoing a merge brings the copy back
and keeps it from being merged with that play again.

Which copies can be one listen:

- Spotify's extended history and its account data: the same end minute and time played (certain), or within a
  minute and two seconds of time played (probable);
- a scrobble (Last.fm, ListenBrainz) and any other copy: start times within five seconds (certain; a minute when
  both name the same recording id) or three minutes (probable), where a copy that recorded only the minute may
  have started anywhere in that minute. A play of less than 30 s is never a scrobble's copy: Last.fm and
  ListenBrainz scrobble a track only once it has played that long.

Two first-hand logs of different services (Spotify and Apple Music, or YouTube Music) are never copies: one
listen happens on one service.

Merges are a function of the stored plays (and of the pairs a listener separated), not of the order in which
exports were imported: an import recomputes the merges of every artist and title it added plays of, from all
the profile's plays with that name, and keeps the number of each merge that comes out the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from tutti.errors import UsageError
from tutti.model import Source
from tutti.names import track_base_sql
from tutti.store import Store
from tutti.store._sql import run

# Copies further apart than this are never the same play (a scrobble's minute truncation plus client lag).
WINDOW_MS = 180_000
_BUCKET_MS = WINDOW_MS
CERTAIN_MS = 5_000
# Last.fm's and ListenBrainz's rule: a track is scrobbled once it has played for 30 s (and half its length).
SCROBBLE_MIN_MS = 30_000
_MINUTE_MS = 60_000
SCROBBLE_SOURCES = frozenset({Source.LASTFM.value, Source.LISTENBRAINZ.value})
_SPOTIFY = frozenset({Source.SPOTIFY_EXTENDED.value, Source.SPOTIFY_ACCOUNT.value})
_NAME_KEY_SQL = f"p.artist_key || chr(31) || {track_base_sql('p.track_key')}"


@dataclass(frozen=True)
class MergeCounts:
    certain: int = 0
    probable: int = 0


@dataclass(frozen=True)
class MergedCopy:
    """One of the two copies of a merge, as a person recognises it."""

    play_id: str
    source: str
    artist: str | None
    track: str | None
    start_utc: datetime | None
    end_utc: datetime | None
    ms_played: int | None

    def __str__(self) -> str:
        when = self.start_utc or self.end_utc
        shown = when.strftime("%Y-%m-%d %H:%M:%S") if when else "?"
        return f"{self.source}: {self.artist or '?'} - {self.track or '?'} @ {shown}"


@dataclass(frozen=True)
class Merge:
    merge_id: int
    confidence: str
    rule: str
    delta_ms: int
    undone: bool
    kept: MergedCopy
    duplicate: MergedCopy


@dataclass(frozen=True)
class _PairRule:
    """How copies of ``dup_source`` are matched to plays of ``kept_source``."""

    exact_key: str  # SQL over one play; equal keys (and names) make a certain match
    delta: str  # SQL over plays a (kept) and b (copy): their distance in ms, as shown
    gap: str  # SQL over plays a and b: how far apart their times can be at the least, in ms
    certain: str  # SQL over gap_ms, same_id, a_ms, b_ms
    probable: str
    text: str


def _rule(kept_source: str, dup_source: str) -> _PairRule | None:
    """How two sources' copies are matched, or None when a play of one is never a copy of a play of the other."""
    if {kept_source, dup_source} == _SPOTIFY:
        # Both record the end; account data truncates it to the minute and repeats ms_played exactly.
        delta = "abs(epoch_ms(date_trunc('minute', a.end_utc)) - epoch_ms(date_trunc('minute', b.end_utc)))"
        return _PairRule(
            exact_key="epoch_ms(date_trunc('minute', p.end_utc))::VARCHAR || ':' || coalesce(p.ms_played, -1)",
            delta=delta,
            gap=delta,
            certain="a_ms = b_ms AND gap_ms = 0",
            probable="abs(a_ms - b_ms) <= 2000 AND gap_ms <= 60000",
            text="spotify account-data copy of an extended-history play",
        )
    if not SCROBBLE_SOURCES & {kept_source, dup_source}:
        return None
    # A copy that recorded only the minute started somewhere in [t, t + 1 min): the gap is between intervals.
    gap = "greatest(0, a.t_ms - b.t_ms - b.width_ms, b.t_ms - a.t_ms - a.width_ms)"
    least = SCROBBLE_MIN_MS
    played = f"coalesce(a_ms, {least}) >= {least} AND coalesce(b_ms, {least}) >= {least}"
    return _PairRule(
        exact_key="(epoch_ms(coalesce(p.start_utc, p.end_utc)) // 1000)::VARCHAR",
        delta="abs(a.t_ms - b.t_ms)",
        gap=gap,
        certain=f"{played} AND (gap_ms <= {CERTAIN_MS} OR (same_id AND gap_ms <= {_MINUTE_MS}))",
        probable=f"{played} AND gap_ms <= {WINDOW_MS}",
        text=f"{dup_source} copy of a {kept_source} play (same artist and title, start times close)",
    )


def _candidates_sql(kept_source: str, dup_source: str, rule: _PairRule) -> str:
    """Unmerged plays of both sources in scope with their match keys; a kept play serves one copy per source."""
    return f"""
    candidates AS (
        SELECT p.play_id, p.source, p.ms_played, p.end_utc, p.recording_mbid, p.spotify_uri,
               epoch_ms(coalesce(p.start_utc, p.end_utc)) AS t_ms,
               CASE WHEN p.time_precision = 'minute' THEN {_MINUTE_MS - 1} ELSE 0 END AS width_ms,
               {rule.exact_key} AS exact_key, {_NAME_KEY_SQL} AS name_key
        FROM plays p
        WHERE p.profile = $profile AND p.source IN ('{kept_source}', '{dup_source}')
          AND p.artist_key IS NOT NULL AND p.track_key IS NOT NULL
          AND p.play_id IN (SELECT play_id FROM merge_scope)
          AND p.play_id NOT IN (SELECT duplicate_id FROM found)
          AND p.play_id NOT IN (SELECT kept_id FROM found WHERE duplicate_source = '{dup_source}')
    )"""


# A pair the listener separated (an undone merge) is never merged again.
_NOT_SEPARATED = """NOT EXISTS (SELECT 1 FROM merges m WHERE m.profile = $profile AND m.undone
                          AND m.kept_id = a.play_id AND m.duplicate_id = b.play_id)"""


def _exact_sql(kept_source: str, dup_source: str, rule: _PairRule) -> str:
    """Certain matches: same names and exact key; the n-th of identical copies pairs with the n-th play."""
    return f"""
    WITH {_candidates_sql(kept_source, dup_source, rule)},
    ranked AS (
        SELECT *, row_number() OVER (PARTITION BY source, name_key, exact_key ORDER BY t_ms, play_id) AS rk
        FROM candidates
    ),
    pairs AS (
        SELECT a.play_id AS kept_id, b.play_id AS duplicate_id, {rule.delta} AS delta_ms, {rule.gap} AS gap_ms,
               a.ms_played AS a_ms, b.ms_played AS b_ms, true AS same_id
        FROM ranked a JOIN ranked b USING (name_key, exact_key, rk)
        WHERE a.source = '{kept_source}' AND b.source = '{dup_source}' AND {_NOT_SEPARATED}
    )
    SELECT kept_id, duplicate_id, 'certain' AS confidence, delta_ms FROM pairs WHERE {rule.certain}
    """


def _nearest_sql(kept_source: str, dup_source: str, rule: _PairRule) -> str:
    """Matches by time: each copy to its nearest play, each play to its nearest copy (run until none are left)."""
    bucket = f"t_ms // {_BUCKET_MS}"
    return f"""
    WITH {_candidates_sql(kept_source, dup_source, rule)},
    kept AS (SELECT *, {bucket} AS bucket FROM candidates WHERE source = '{kept_source}'),
    dups AS (
        SELECT *, unnest([{bucket} - 1, {bucket}, {bucket} + 1]) AS bucket
        FROM candidates WHERE source = '{dup_source}'
    ),
    pairs AS (
        SELECT a.play_id AS kept_id, b.play_id AS duplicate_id, {rule.delta} AS delta_ms, {rule.gap} AS gap_ms,
               a.ms_played AS a_ms, b.ms_played AS b_ms,
               coalesce(a.recording_mbid = b.recording_mbid OR a.spotify_uri = b.spotify_uri, false) AS same_id
        FROM kept a JOIN dups b USING (name_key, bucket)
        WHERE {_NOT_SEPARATED}
    ),
    judged AS (
        SELECT kept_id, duplicate_id, delta_ms, gap_ms,
               CASE WHEN {rule.certain} THEN 'certain' WHEN {rule.probable} THEN 'probable' END AS confidence
        FROM pairs
    ),
    best_for_duplicate AS (
        SELECT * FROM judged WHERE confidence IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY duplicate_id ORDER BY gap_ms, delta_ms, kept_id) = 1
    )
    SELECT kept_id, duplicate_id, confidence, delta_ms FROM best_for_duplicate
    QUALIFY row_number() OVER (PARTITION BY kept_id ORDER BY gap_ms, delta_ms, duplicate_id) = 1
    """


_MAX_ROUNDS = 20

_SCOPE_SQL = f"""
CREATE OR REPLACE TEMP TABLE merge_scope AS
SELECT p.play_id FROM plays p
WHERE p.profile = $profile AND {_NAME_KEY_SQL} IN (
    SELECT {_NAME_KEY_SQL} FROM plays p WHERE p.profile = $profile AND p.import_id = $import_id
)
"""
_FOUND_SQL = """
CREATE OR REPLACE TEMP TABLE found (
    kept_id VARCHAR, duplicate_id VARCHAR, duplicate_source VARCHAR, confidence VARCHAR, rule VARCHAR, delta_ms BIGINT
)
"""
# Merges in scope that the recomputation did not find again go; those it found again keep their number.
_DROP_STALE_SQL = """
DELETE FROM merges m WHERE m.profile = $profile AND NOT m.undone
  AND (m.duplicate_id IN (SELECT play_id FROM merge_scope) OR m.kept_id IN (SELECT play_id FROM merge_scope))
  AND NOT EXISTS (SELECT 1 FROM found f WHERE f.kept_id = m.kept_id AND f.duplicate_id = m.duplicate_id
                  AND f.confidence = m.confidence)
"""
_INSERT_NEW_SQL = """
INSERT INTO merges
SELECT $first_id - 1 + row_number() OVER (ORDER BY f.duplicate_source, f.kept_id, f.duplicate_id),
       $profile, f.duplicate_id, f.duplicate_source, f.kept_id, f.confidence, f.rule, f.delta_ms, $import_id, false
FROM found f WHERE NOT EXISTS (
    SELECT 1 FROM merges m WHERE m.profile = $profile AND NOT m.undone
      AND m.kept_id = f.kept_id AND m.duplicate_id = f.duplicate_id AND m.confidence = f.confidence)
"""


def _find(store: Store, profile: str, dup_source: str, rule: _PairRule, query: str) -> int:
    """Add the matches ``query`` finds to ``found`` (in SQL: there can be a million); how many there were."""
    insert = f"INSERT INTO found SELECT kept_id, duplicate_id, $dup_source, confidence, $rule, delta_ms FROM ({query})"
    row = store.con.execute(insert, {"profile": profile, "dup_source": dup_source, "rule": rule.text}).fetchall()
    return int(row[0][0]) if row else 0


def merge_cross_source_copies(store: Store, profile: str, import_id: int) -> MergeCounts:
    """Recompute the merges of every artist and title import ``import_id`` added plays of; count the new ones."""
    con = store.con
    run(con, _SCOPE_SQL, {"profile": profile, "import_id": import_id})
    run(con, _FOUND_SQL)
    present = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT source FROM plays WHERE play_id IN (SELECT play_id FROM merge_scope)"
        ).fetchall()
    }
    ordered = [s.value for s in Source if s.value in present]
    for kept_source, dup_source in combinations(ordered, 2):
        rule = _rule(kept_source, dup_source)
        if rule is None:
            continue
        _find(store, profile, dup_source, rule, _exact_sql(kept_source, dup_source, rule))
        for _ in range(_MAX_ROUNDS):
            if not _find(store, profile, dup_source, rule, _nearest_sql(kept_source, dup_source, rule)):
                break
    run(con, _DROP_STALE_SQL, {"profile": profile})
    first_id = int(con.execute("SELECT coalesce(max(merge_id), 0) + 1 FROM merges").fetchall()[0][0])
    run(con, _INSERT_NEW_SQL, {"profile": profile, "import_id": import_id, "first_id": first_id})
    counts = dict(
        con.execute(
            "SELECT confidence, count(*) FROM merges WHERE merge_id >= ? GROUP BY confidence", [first_id]
        ).fetchall()
    )
    run(con, "DROP TABLE found")  # on an error, the import's transaction takes them away
    run(con, "DROP TABLE merge_scope")
    return MergeCounts(certain=counts.get("certain", 0), probable=counts.get("probable", 0))


def list_merges(store: Store, profile: str, *, include_undone: bool = False) -> list[Merge]:
    """Every merge of the profile with both copies."""
    copy = "{0}.play_id, {0}.source, {0}.artist, {0}.track, {0}.start_utc, {0}.end_utc, {0}.ms_played"
    rows = store.con.execute(
        f"""
        SELECT m.merge_id, m.confidence, m.rule, m.delta_ms, m.undone, {copy.format("k")}, {copy.format("d")}
        FROM merges m
        JOIN plays k ON k.profile = m.profile AND k.play_id = m.kept_id
        JOIN plays d ON d.profile = m.profile AND d.play_id = m.duplicate_id
        WHERE m.profile = ? AND (? OR NOT m.undone)
        ORDER BY m.merge_id
        """,
        [profile, include_undone],
    ).fetchall()
    return [
        Merge(merge_id, confidence, rule, delta, undone, MergedCopy(*row[5:12]), MergedCopy(*row[12:19]))
        for row in rows
        for merge_id, confidence, rule, delta, undone in [row[:5]]
    ]


def undo_merge(store: Store, profile: str, merge_id: int) -> None:
    """Bring a merged copy back as a play of its own; it will not be merged with that play again."""
    with store.transaction():
        rows = store.con.execute(
            "SELECT undone FROM merges WHERE profile = ? AND merge_id = ?", [profile, merge_id]
        ).fetchall()
        if not rows:
            raise UsageError(f"profile {profile!r} has no merge number {merge_id}")
        run(store.con, "UPDATE merges SET undone = true WHERE merge_id = ?", [merge_id])
