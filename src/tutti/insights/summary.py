"""The headline numbers of a profile: events, time, plays under a rule, span, variety, per source.

Events and time are every stored event (after merges), as the store holds them: time is what the exports measured
(no estimate for scrobbles, unlike a recap's minutes). Artists and tracks are counted like a recap's: music
artists and tracks by their name keys (``tutti.names``), among plays (the events the rule counts), so that
``tutti summary`` and ``tutti recap all`` give the same numbers of artists and tracks.
"""

from __future__ import annotations

from dataclasses import dataclass

from tutti.insights.rules import DEFAULT_RULE, PlayRule
from tutti.store import Store


@dataclass(frozen=True)
class SourceSummary:
    source: str
    events: int
    ms_played: int


@dataclass(frozen=True)
class KindSummary:
    content_kind: str
    events: int
    ms_played: int


@dataclass(frozen=True)
class Summary:
    profile: str
    rule: str
    rule_description: str
    events: int
    ms_played: int
    plays: int
    first_utc: str | None
    last_utc: str | None
    artists: int  # music artists (name keys) among plays
    tracks: int  # music tracks (artist and track name keys) among plays
    merged_duplicates: int
    by_source: list[SourceSummary]
    by_kind: list[KindSummary]


def summary(store: Store, profile: str, rule: PlayRule = DEFAULT_RULE) -> Summary:
    """Every stored event after de-duplication (no rule applied), and the plays that ``rule`` counts."""
    store.require_profile(profile)
    plays = store.active_plays_sql(profile)
    row = store.con.sql(
        f"""
        SELECT count(*), coalesce(sum(ms_played), 0)::BIGINT,
               count(*) FILTER (WHERE {rule.sql("p")}),
               strftime(min(coalesce(start_utc, end_utc)), '%Y-%m-%dT%H:%M:%SZ'),
               strftime(max(coalesce(start_utc, end_utc)), '%Y-%m-%dT%H:%M:%SZ'),
               count(DISTINCT artist_key) FILTER (WHERE content_kind = 'music' AND {rule.sql("p")}),
               count(DISTINCT (artist_key, track_key))
                   FILTER (WHERE content_kind = 'music' AND artist_key IS NOT NULL AND track_key IS NOT NULL
                                  AND {rule.sql("p")})
        FROM ({plays}) p
        """
    ).fetchall()[0]
    assert row is not None
    by_source = store.con.sql(
        f"SELECT source, count(*), coalesce(sum(ms_played), 0)::BIGINT FROM ({plays}) "
        "GROUP BY source ORDER BY count(*) DESC, source"
    ).fetchall()
    by_kind = store.con.sql(
        f"SELECT content_kind, count(*), coalesce(sum(ms_played), 0)::BIGINT FROM ({plays}) "
        "GROUP BY content_kind ORDER BY count(*) DESC, content_kind"
    ).fetchall()
    merged = store.con.execute("SELECT count(*) FROM merges WHERE profile = ? AND NOT undone", [profile]).fetchall()[0]
    return Summary(
        profile=profile,
        rule=rule.label,
        rule_description=rule.description,
        events=row[0],
        ms_played=row[1],
        plays=row[2],
        first_utc=row[3],
        last_utc=row[4],
        artists=row[5],
        tracks=row[6],
        merged_duplicates=int(merged[0]) if merged else 0,
        by_source=[SourceSummary(*r) for r in by_source],
        by_kind=[KindSummary(*r) for r in by_kind],
    )
