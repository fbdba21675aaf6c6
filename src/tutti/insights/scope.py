"""What every insight works on: one profile's plays, one period, one play rule, one time-zone plan.

``open_scope`` materialises two temporary tables once, so each insight is a single small query:

* ``scope.history``: every play of the profile after de-duplication (the full history, for "first ever"
  questions such as discoveries and comebacks);
* ``scope.plays``: the same rows restricted to the period.

Columns of both: play_id, source, start_utc, end_utc, local_ts (TIMESTAMP, the listener's wall clock at the
start), local_date (DATE), hour (0-23), weekday (1 = Monday .. 7 = Sunday), ms (time played: measured, or
estimated, or 0), ms_known (bool: measured), ms_estimated (bool), counts (bool: the play rule says this event is a
play), kind (music/podcast/audiobook/video/unknown), artist, track, album, artist_key, track_key (the name keys of
``tutti.names``: insights group by them and show the most common spelling), skipped, shuffle, offline, platform,
country, reason_start, reason_end. Insights never read ``plays`` of the store directly.

A music event whose export records no time played (a scrobble) gets an estimate, so that minutes, rankings by
time and the busiest day do not drop it: the median time of the same track's plays of at least 30 s elsewhere in
the listener's history (their timed sources: extended or account data), else ``DEFAULT_SCROBBLE_MS``.
``ms_estimated`` marks it; ``ms_known`` stays false.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date

from tutti.insights.period import Period
from tutti.insights.rules import DEFAULT_RULE, PlayRule
from tutti.insights.zones import ZonePlan
from tutti.store import Store
from tutti.store._sql import run

_counter = itertools.count(1)

# A music event with no time played and no timed play of the same track counts as 3 min 30 s: about a pop song.
DEFAULT_SCROBBLE_MS = 210_000
# Plays at least this long tell a track's length (a skip says nothing about it).
LENGTH_EVIDENCE_MS = 30_000


@dataclass(frozen=True)
class Scope:
    store: Store
    profile: str
    period: Period
    rule: PlayRule
    zones: ZonePlan
    history: str  # name of the temp table holding the whole history
    plays: str  # name of the temp table (or view) holding the period's events
    plays_kind: str = "TABLE"

    def query(self, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
        """Run ``sql``; ``{plays}`` and ``{history}`` in it name this scope's tables."""
        return self.store.con.execute(sql.format(plays=self.plays, history=self.history), params).fetchall()

    def close(self) -> None:
        run(self.store.con, f"DROP TABLE IF EXISTS {self.plays}_named")  # built on demand by top.named_items
        run(self.store.con, f"DROP {self.plays_kind} IF EXISTS {self.plays}")
        run(self.store.con, f"DROP TABLE IF EXISTS {self.history}")


def _date_literal(day: date) -> str:
    return f"DATE '{day.isoformat()}'"


def open_scope(
    store: Store,
    profile: str,
    period: Period,
    rule: PlayRule = DEFAULT_RULE,
    zones: ZonePlan | None = None,
) -> Scope:
    """Prepare the tables every insight reads (a few hundred ms for a million plays)."""
    store.require_profile(profile)
    zones = zones or ZonePlan.single("UTC")
    n = next(_counter)
    history, plays = f"scope_history_{n}", f"scope_plays_{n}"
    local = zones.sql_local("coalesce(p.start_utc, p.end_utc)", "p.utc_offset_s")
    run(
        store.con,
        f"""
        CREATE TEMP TABLE {history} AS
        WITH located AS (
            SELECT p.*, {local} AS local_ts FROM ({store.active_plays_sql(profile)}) p
            WHERE coalesce(p.start_utc, p.end_utc) IS NOT NULL
        ),
        untimed AS (  -- the tracks that need an estimate: a few thousand keys, or none for timed-only exports
            SELECT DISTINCT artist_key, track_key FROM located
            WHERE ms_played IS NULL AND content_kind = 'music' AND track_key IS NOT NULL
        ),
        lengths AS (  -- each of those tracks' length as the listener's timed plays tell it
            SELECT artist_key, track_key, CAST(median(ms_played) AS BIGINT) AS length_ms
            FROM located SEMI JOIN untimed USING (artist_key, track_key)
            WHERE ms_played >= {LENGTH_EVIDENCE_MS} AND content_kind = 'music'
            GROUP BY artist_key, track_key
        )
        SELECT play_id, source, start_utc, end_utc, local_ts,
               CAST(local_ts AS DATE) AS local_date,
               CAST(hour(local_ts) AS INTEGER) AS hour,
               CAST(isodow(local_ts) AS INTEGER) AS weekday,
               CASE WHEN ms_played IS NOT NULL THEN ms_played
                    WHEN content_kind = 'music' THEN coalesce(l.length_ms, {DEFAULT_SCROBBLE_MS})
                    ELSE 0 END AS ms,
               ms_played IS NOT NULL AS ms_known,
               ms_played IS NULL AND content_kind = 'music' AS ms_estimated,
               {rule.sql("located")} AS counts,
               content_kind AS kind, artist, track, album, located.artist_key, located.track_key,
               skipped, shuffle, offline, platform, country, reason_start, reason_end
        FROM located LEFT JOIN lengths l
             ON l.artist_key = located.artist_key AND l.track_key = located.track_key
        """,
    )
    conditions = ["true"]
    if period.start:
        conditions.append(f"local_date >= {_date_literal(period.start)}")
    if period.end:
        conditions.append(f"local_date < {_date_literal(period.end)}")
    # An unbounded period is the whole history: a view, not a second copy of every row.
    kind = "VIEW" if len(conditions) == 1 else "TABLE"
    run(store.con, f"CREATE TEMP {kind} {plays} AS SELECT * FROM {history} WHERE {' AND '.join(conditions)}")
    return Scope(store, profile, period, rule, zones, history, plays, kind)
