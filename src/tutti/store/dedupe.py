"""Folding copies of one listening event that reached the store through different exports.

One play can arrive several times: in Spotify's extended history and again (minute-truncated) in account
data, and once more as a Last.fm or ListenBrainz scrobble that marks its start. Copies are matched on the name
keys of artist and title (``tutti.names``: case, accents, invisible characters and decorations such as
"(feat. X)" or " - Remastered" do not count, nor version labels, which services write differently for one
recording) and on time, one copy to one copy, the most detailed source kept. Every merge is a row in ``merges``
labelled ``certain`` or ``probable`` with its rule and the time difference; undoing a merge brings the copy back
and keeps it from being merged again.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any

from tutti.errors import UsageError
from tutti.model import Source
from tutti.names import track_base_sql
from tutti.store import NOT_MERGED_SQL, Store
from tutti.store._sql import run, run_many

# Copies further apart than this are never the same play (a scrobble's minute truncation plus client lag).
WINDOW_MS = 180_000
_BUCKET_MS = WINDOW_MS


@dataclass(frozen=True)
class MergeCounts:
    certain: int = 0
    probable: int = 0


@dataclass(frozen=True)
class Merge:
    merge_id: int
    confidence: str
    rule: str
    delta_ms: int
    undone: bool
    kept: str
    duplicate: str


@dataclass(frozen=True)
class _PairRule:
    """How copies of ``dup_source`` are matched to plays of ``kept_source``."""

    exact_key: str  # SQL over one play; equal keys (and names) make a certain match
    delta: str  # SQL over plays a (kept) and b (copy): their distance in ms
    certain: str  # SQL over delta_ms, same_id, a_ms, b_ms
    probable: str
    text: str


def _rule(kept_source: str, dup_source: str) -> _PairRule:
    if {kept_source, dup_source} == {Source.SPOTIFY_EXTENDED.value, Source.SPOTIFY_ACCOUNT.value}:
        # Both record the end; account data truncates it to the minute and repeats ms_played exactly.
        return _PairRule(
            exact_key="epoch_ms(date_trunc('minute', p.end_utc))::VARCHAR || ':' || coalesce(p.ms_played, -1)",
            delta="abs(epoch_ms(date_trunc('minute', a.end_utc)) - epoch_ms(date_trunc('minute', b.end_utc)))",
            certain="a_ms = b_ms AND delta_ms = 0",
            probable="abs(a_ms - b_ms) <= 2000 AND delta_ms <= 60000",
            text="spotify account-data copy of an extended-history play",
        )
    return _PairRule(
        exact_key="(epoch_ms(coalesce(p.start_utc, p.end_utc)) // 1000)::VARCHAR",
        delta="abs(a.t_ms - b.t_ms)",
        certain="delta_ms <= 5000 OR (same_id AND delta_ms <= 60000)",
        probable=f"delta_ms <= {WINDOW_MS}",
        text=f"{dup_source} copy of a {kept_source} play (same artist and title, start times close)",
    )


def _candidates_sql(kept_source: str, dup_source: str, rule: _PairRule) -> str:
    """Unmerged plays of both sources with their match keys; a kept play serves one copy per source."""
    return f"""
    candidates AS (
        SELECT p.play_id, p.source, p.import_id, p.ms_played, p.end_utc, p.recording_mbid, p.spotify_uri,
               epoch_ms(coalesce(p.start_utc, p.end_utc)) AS t_ms, {rule.exact_key} AS exact_key,
               p.artist_key || chr(31) || {track_base_sql("p.track_key")} AS name_key
        FROM plays p
        WHERE p.profile = $profile AND p.source IN ('{kept_source}', '{dup_source}')
          AND p.artist_key IS NOT NULL AND p.track_key IS NOT NULL AND {NOT_MERGED_SQL}
          AND NOT EXISTS (SELECT 1 FROM merges u WHERE u.profile = p.profile AND u.kept_id = p.play_id
                          AND u.duplicate_source = '{dup_source}' AND NOT u.undone)
    )"""


_NOT_UNDONE_PAIR = """NOT EXISTS (SELECT 1 FROM merges m WHERE m.profile = $profile
                          AND m.kept_id = a.play_id AND m.duplicate_id = b.play_id)"""


def _exact_sql(kept_source: str, dup_source: str, rule: _PairRule) -> str:
    """Certain matches: same names and exact key; the n-th of identical copies pairs with the n-th play."""
    return f"""
    WITH {_candidates_sql(kept_source, dup_source, rule)},
    ranked AS (
        SELECT *, row_number() OVER (PARTITION BY source, name_key, exact_key ORDER BY t_ms, play_id) AS rk
        FROM candidates
    )
    SELECT a.play_id, b.play_id, 'certain', {rule.delta}
    FROM ranked a JOIN ranked b USING (name_key, exact_key, rk)
    WHERE a.source = '{kept_source}' AND b.source = '{dup_source}'
      AND (a.import_id = $import_id OR b.import_id = $import_id) AND {_NOT_UNDONE_PAIR}
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
        SELECT a.play_id AS kept_id, b.play_id AS duplicate_id, {rule.delta} AS delta_ms,
               a.ms_played AS a_ms, b.ms_played AS b_ms,
               coalesce(a.recording_mbid = b.recording_mbid OR a.spotify_uri = b.spotify_uri, false) AS same_id
        FROM kept a JOIN dups b USING (name_key, bucket)
        WHERE (a.import_id = $import_id OR b.import_id = $import_id) AND {_NOT_UNDONE_PAIR}
    ),
    judged AS (
        SELECT kept_id, duplicate_id, delta_ms,
               CASE WHEN {rule.certain} THEN 'certain' WHEN {rule.probable} THEN 'probable' END AS confidence
        FROM pairs
    ),
    best_for_duplicate AS (
        SELECT * FROM judged WHERE confidence IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY duplicate_id ORDER BY delta_ms, kept_id) = 1
    )
    SELECT kept_id, duplicate_id, confidence, delta_ms FROM best_for_duplicate
    QUALIFY row_number() OVER (PARTITION BY kept_id ORDER BY delta_ms, duplicate_id) = 1
    """


_MAX_ROUNDS = 20


def _record(store: Store, profile: str, dup_source: str, rule: _PairRule, import_id: int, rows: list[Any]) -> None:
    con = store.con
    first_id = int(con.execute("SELECT coalesce(max(merge_id), 0) + 1 FROM merges").fetchall()[0][0])
    run_many(
        con,
        "INSERT INTO merges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, false)",
        [
            [first_id + i, profile, dup, dup_source, kept, confidence, rule.text, delta, import_id]
            for i, (kept, dup, confidence, delta) in enumerate(rows)
        ],
    )


def merge_cross_source_copies(store: Store, profile: str, import_id: int) -> MergeCounts:
    """Find and record merges involving plays of import ``import_id``; returns how many of each label."""
    con = store.con
    present = {
        row[0] for row in con.execute("SELECT DISTINCT source FROM plays WHERE profile = ?", [profile]).fetchall()
    }
    ordered = [s.value for s in Source if s.value in present]
    params = {"profile": profile, "import_id": import_id}
    merged: list[Any] = []
    for kept_source, dup_source in combinations(ordered, 2):
        rule = _rule(kept_source, dup_source)
        rows = con.execute(_exact_sql(kept_source, dup_source, rule), params).fetchall()
        for _ in range(_MAX_ROUNDS):
            if rows:
                _record(store, profile, dup_source, rule, import_id, rows)
                merged.extend(rows)
            rows = con.execute(_nearest_sql(kept_source, dup_source, rule), params).fetchall()
            if not rows:
                break
    return MergeCounts(
        certain=sum(1 for r in merged if r[2] == "certain"), probable=sum(1 for r in merged if r[2] == "probable")
    )


def list_merges(store: Store, profile: str, *, include_undone: bool = False) -> list[Merge]:
    """Every merge of the profile with a readable description of both copies."""
    rows = store.con.execute(
        """
        SELECT m.merge_id, m.confidence, m.rule, m.delta_ms, m.undone,
               k.source || ': ' || coalesce(k.artist, '?') || ' - ' || coalesce(k.track, '?') || ' @ '
                 || coalesce(k.start_utc, k.end_utc)::VARCHAR,
               d.source || ': ' || coalesce(d.artist, '?') || ' - ' || coalesce(d.track, '?') || ' @ '
                 || coalesce(d.start_utc, d.end_utc)::VARCHAR
        FROM merges m
        JOIN plays k ON k.profile = m.profile AND k.play_id = m.kept_id
        JOIN plays d ON d.profile = m.profile AND d.play_id = m.duplicate_id
        WHERE m.profile = ? AND (? OR NOT m.undone)
        ORDER BY m.merge_id
        """,
        [profile, include_undone],
    ).fetchall()
    return [Merge(*row) for row in rows]


def undo_merge(store: Store, profile: str, merge_id: int) -> None:
    """Bring a merged copy back as a play of its own; it will not be merged with that play again."""
    with store.transaction():
        rows = store.con.execute(
            "SELECT undone FROM merges WHERE profile = ? AND merge_id = ?", [profile, merge_id]
        ).fetchall()
        if not rows:
            raise UsageError(f"profile {profile!r} has no merge number {merge_id}")
        run(store.con, "UPDATE merges SET undone = true WHERE merge_id = ?", [merge_id])
