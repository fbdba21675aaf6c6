"""Folding copies of one listening event that reached the store through different exports.

One play can arrive several times: in Spotify's extended history and again (minute-truncated) in account
data, and once more as a Last.fm or ListenBrainz scrobble that marks its start. Copies are matched on a
normalised artist and title and on time, one copy to one copy, the most detailed source kept. Every merge is
a row in ``merges`` labelled ``certain`` or ``probable`` with its rule and the time difference; undoing a merge
brings the copy back and keeps it from being merged again.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from tutti.errors import UsageError
from tutti.model import Source
from tutti.store import NOT_MERGED_SQL, Store
from tutti.store._sql import run, run_many

# Copies further apart than this are never the same play (a scrobble's minute truncation plus client lag).
WINDOW_MS = 180_000
_BUCKET_MS = WINDOW_MS

_NAME_KEY = (
    """lower(trim(strip_accents(regexp_replace({col}, '\\s*[\\(\\[][^\\)\\]]*[\\)\\]]|\\s+-\\s+.*$', '', 'g'))))"""
)


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


def _pair_sql(kept_source: str, dup_source: str) -> tuple[str, str]:
    """The query proposing merges of ``dup_source`` copies into ``kept_source`` plays, and its rule text."""
    if {kept_source, dup_source} == {Source.SPOTIFY_EXTENDED.value, Source.SPOTIFY_ACCOUNT.value}:
        # Both record the end; account data truncates it to the minute and repeats ms_played exactly.
        delta = "abs(epoch_ms(date_trunc('minute', a.end_utc)) - epoch_ms(b.end_utc))"
        certain = "a_ms = b_ms AND delta_ms = 0"
        probable = "abs(a_ms - b_ms) <= 2000 AND delta_ms <= 60000"
        rule = "spotify account-data copy of an extended-history play"
    else:
        delta = "abs(a.t_ms - b.t_ms)"
        certain = "delta_ms <= 1000 OR (same_id AND delta_ms <= 60000)"
        probable = f"delta_ms <= {WINDOW_MS}"
        rule = f"{dup_source} copy of a {kept_source} play (same artist and title, start times close)"
    sql = f"""
    WITH candidates AS (
        SELECT p.play_id, p.source, p.import_id, p.ms_played, p.end_utc, p.recording_mbid, p.spotify_uri,
               epoch_ms(coalesce(p.start_utc, p.end_utc)) AS t_ms,
               {_NAME_KEY.format(col="p.artist")} || chr(31) || {_NAME_KEY.format(col="p.track")} AS name_key
        FROM plays p
        WHERE p.profile = $profile AND p.source IN ('{kept_source}', '{dup_source}')
          AND p.artist IS NOT NULL AND p.track IS NOT NULL AND {NOT_MERGED_SQL}
    ),
    kept AS (SELECT *, t_ms // {_BUCKET_MS} AS bucket FROM candidates WHERE source = '{kept_source}'),
    dups AS (
        SELECT *, unnest([t_ms // {_BUCKET_MS} - 1, t_ms // {_BUCKET_MS}, t_ms // {_BUCKET_MS} + 1]) AS bucket
        FROM candidates WHERE source = '{dup_source}'
    ),
    pairs AS (
        SELECT a.play_id AS kept_id, b.play_id AS duplicate_id, {delta} AS delta_ms,
               a.ms_played AS a_ms, b.ms_played AS b_ms,
               coalesce(a.recording_mbid = b.recording_mbid OR a.spotify_uri = b.spotify_uri, false) AS same_id
        FROM kept a JOIN dups b USING (name_key, bucket)
        WHERE (a.import_id = $import_id OR b.import_id = $import_id)
          AND NOT EXISTS (SELECT 1 FROM merges m WHERE m.profile = $profile
                          AND m.kept_id = a.play_id AND m.duplicate_id = b.play_id)
    ),
    judged AS (
        SELECT kept_id, duplicate_id, delta_ms,
               CASE WHEN {certain} THEN 'certain' WHEN {probable} THEN 'probable' END AS confidence
        FROM pairs
    ),
    best_for_duplicate AS (
        SELECT * FROM judged WHERE confidence IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY duplicate_id ORDER BY delta_ms, kept_id) = 1
    )
    SELECT kept_id, duplicate_id, confidence, delta_ms FROM best_for_duplicate
    QUALIFY row_number() OVER (PARTITION BY kept_id ORDER BY delta_ms, duplicate_id) = 1
    """
    return sql, rule


def merge_cross_source_copies(store: Store, profile: str, import_id: int) -> MergeCounts:
    """Find and record merges involving plays of import ``import_id``; returns how many of each label."""
    con = store.con
    present = {
        row[0] for row in con.execute("SELECT DISTINCT source FROM plays WHERE profile = ?", [profile]).fetchall()
    }
    ordered = [s.value for s in Source if s.value in present]
    certain = probable = 0
    for kept_source, dup_source in combinations(ordered, 2):
        sql, rule = _pair_sql(kept_source, dup_source)
        rows = con.execute(sql, {"profile": profile, "import_id": import_id}).fetchall()
        if not rows:
            continue
        start = con.execute("SELECT coalesce(max(merge_id), 0) FROM merges").fetchall()[0]
        first_id = (int(start[0]) if start else 0) + 1
        run_many(
            con,
            "INSERT INTO merges VALUES (?, ?, ?, ?, ?, ?, ?, ?, false)",
            [
                [first_id + i, profile, dup, kept, confidence, rule, delta, import_id]
                for i, (kept, dup, confidence, delta) in enumerate(rows)
            ],
        )
        certain += sum(1 for r in rows if r[2] == "certain")
        probable += sum(1 for r in rows if r[2] == "probable")
    return MergeCounts(certain, probable)


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
