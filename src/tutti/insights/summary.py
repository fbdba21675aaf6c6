"""The headline numbers of a profile: events, time, plays under a rule, span, variety, per source."""

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
    artists: int
    tracks: int
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
               count(DISTINCT lower(artist)) FILTER (WHERE content_kind = 'music'),
               count(DISTINCT lower(artist) || chr(31) || lower(track)) FILTER (WHERE content_kind = 'music')
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
