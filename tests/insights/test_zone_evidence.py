"""Time zones from the export itself: suggested from Spotify's connection country and Apple's per-play offsets,
used (and said to be unset) while the listener has set nothing, replaced as soon as they set or confirm one."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import samples_path
from tutti.identity import play_id
from tutti.importers import ReadOptions
from tutti.insights.period import Period
from tutti.insights.recap import build_recap, recap_to_json
from tutti.insights.scope import open_scope
from tutti.insights.zone_evidence import suggest_stays
from tutti.insights.zones import ZoneBasis, zone_name, zone_plan_for
from tutti.model import Play, PlayBatch, Source
from tutti.store import Store, open_store
from tutti.store.ingest import import_paths, insert_items
from tutti.store.profile import record_zone, remove_zone

MIN_MS = 30_000  # the default play rule, written out: 30 s or more, not skipped forward or back


def _imported(tmp_path: Path, profile: str, path: Path) -> Store:
    store = open_store(tmp_path)
    import_paths(store, profile, [path], ReadOptions(now=datetime(2027, 1, 1, tzinfo=UTC)))
    return store


@pytest.mark.samples
def test_an_export_from_india_gets_its_clock_in_ist_once_suggested(tmp_path: Path) -> None:
    folder = samples_path("spotify-extended", "efrrowini")
    store = _imported(tmp_path, "me", folder)
    records = [r for f in sorted(folder.glob("*.json")) for r in json.loads(f.read_text(encoding="utf-8"))]
    assert {r["conn_country"] for r in records} == {"IN"}
    plan = zone_plan_for(store, "me")
    assert plan.basis is ZoneBasis.SUGGESTED and plan.label == "Asia/Kolkata"
    assert "IN" in plan.note and "not set" in plan.note and "tutti timezone --confirm" in plan.note

    # The clock, counted here from the raw records: start = ts - ms_played, on Indian Standard Time (UTC+05:30).
    ist = ZoneInfo("Asia/Kolkata")
    expected: Counter[tuple[int, int]] = Counter()
    for r in records:
        end = datetime.fromisoformat(r["ts"].replace("Z", "+00:00"))
        start = (end - timedelta(milliseconds=r["ms_played"])).astimezone(ist)
        expected[start.isoweekday(), start.hour] += r["ms_played"]
    scope = open_scope(store, "me", Period.parse("all"), zones=plan)
    try:
        recap = build_recap(scope)
    finally:
        scope.close()
    got = {(c.weekday, c.hour): c.ms_played for c in recap.clock.cells if c.ms_played}
    assert got == {k: v for k, v in expected.items() if v}
    assert recap.clock.zone == "Asia/Kolkata"
    as_json = recap_to_json(recap)
    assert as_json["zone_basis"] == "suggested" and "suggested by your export" in as_json["zone_note"]


@pytest.mark.samples
def test_a_set_zone_wins_over_the_suggestion_and_removing_it_brings_the_suggestion_back(tmp_path: Path) -> None:
    store = _imported(tmp_path, "me", samples_path("spotify-extended", "efrrowini"))
    record_zone(store, "me", "Europe/Lisbon", None)
    plan = zone_plan_for(store, "me")
    assert (plan.label, plan.basis, plan.note) == (
        "Europe/Lisbon",
        ZoneBasis.RECORDED,
        "as you set it (tutti timezone)",
    )
    assert remove_zone(store, "me", None)
    assert not remove_zone(store, "me", None)  # nothing left to remove: said, not ignored
    assert zone_plan_for(store, "me").label == "Asia/Kolkata"
    # A change set only from a later day keeps the suggestion before it, and says that part was not set.
    record_zone(store, "me", "Europe/Lisbon", datetime(2023, 1, 1, tzinfo=UTC))
    plan = zone_plan_for(store, "me")
    assert plan.label == "Asia/Kolkata → Europe/Lisbon (from 2023-01-01)"
    assert plan.basis is ZoneBasis.SUGGESTED and "before 2023-01-01: Asia/Kolkata" in plan.note


@pytest.mark.samples
def test_a_move_between_countries_is_two_stays(tmp_path: Path) -> None:
    path = samples_path("spotify-extended", "alanindra")
    store = _imported(tmp_path, "me", path)
    stays = suggest_stays(store, "me", machine_zone="UTC")
    assert [(s.zone, s.since_utc) for s in stays] == [
        ("Asia/Jakarta", None),
        ("Asia/Singapore", datetime(2026, 3, 1, tzinfo=UTC)),
    ]
    # Indonesia has several zones: the most populous is suggested, and said to be a guess.
    assert stays[0].guess and "ID has several time zones" in stays[0].evidence
    # The machine's zone, when it is one of the country's, is taken instead: the listener most likely lives there.
    assert suggest_stays(store, "me", machine_zone="Asia/Makassar")[0].zone == "Asia/Makassar"


@pytest.mark.samples
def test_apple_offsets_suggest_the_recorded_clock(tmp_path: Path) -> None:
    path = samples_path("apple-music", "vietvudanh", "Apple Music Play Activity.csv")
    store = _imported(tmp_path, "me", path)
    with path.open(encoding="utf-8", newline="") as fp:
        offsets = Counter(r["UTC Offset In Seconds"] for r in csv.DictReader(fp))
    assert offsets.most_common(2) == [("25200.0", 2430), ("32400.0", 559)]
    stays = suggest_stays(store, "me")
    # The offset alone does not say where the listener was, only their clock: a fixed zone, named as UTC+07:00.
    assert [(zone_name(s.zone), s.since_utc) for s in stays] == [
        ("UTC+07:00", None),
        ("UTC+09:00", datetime(2016, 6, 1, tzinfo=UTC)),
        ("UTC+07:00", datetime(2018, 6, 1, tzinfo=UTC)),
    ]
    assert all(not s.countries and s.offsets for s in stays)
    # While nothing is set, every play with a recorded offset is on its own recorded clock (even the +07:00 plays
    # inside the +09:00 stay); the suggested zones serve the plays without one.
    plan = zone_plan_for(store, "me")
    scope = open_scope(store, "me", Period.parse("all"), zones=plan)
    try:
        rows = store.con.execute(
            f"SELECT p.start_utc, p.utc_offset_s, h.local_ts FROM {scope.history} h JOIN plays p USING (play_id) "
            "WHERE p.utc_offset_s IS NOT NULL"
        ).fetchall()
    finally:
        scope.close()
    assert len(rows) > 2400
    assert all(local == start.astimezone(UTC).replace(tzinfo=None) + timedelta(seconds=o) for start, o, local in rows)
    # A zone the listener chose is their word: it applies to every play.
    record_zone(store, "me", "Asia/Tokyo", None)
    tokyo = zone_plan_for(store, "me").sql_local("start_utc", "utc_offset_s")
    local = store.con.execute(f"SELECT {tokyo} FROM plays WHERE utc_offset_s = 25200 LIMIT 1").fetchall()[0][0]
    start = store.con.execute("SELECT start_utc FROM plays WHERE utc_offset_s = 25200 LIMIT 1").fetchall()[0][0]
    assert local == start.astimezone(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None)


def test_no_evidence_means_the_machine_zone_said_to_be_unset(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    play = Play(Source.LASTFM, "scrobbles.csv", 0, start_utc=datetime(2024, 5, 1, 20, tzinfo=UTC))
    with store.transaction():
        insert_items(store, "me", "scrobbles.csv", [PlayBatch.from_plays("scrobbles.csv", [play])])
    plan = zone_plan_for(store, "me")
    assert plan.basis is ZoneBasis.MACHINE
    assert "not set" in plan.note and "this computer's zone" in plan.note
    assert suggest_stays(store, "me") == []


def test_the_recorded_offset_is_not_part_of_a_plays_identity() -> None:
    """Stores keyed before the offset was kept must find the same plays again when the export is re-imported."""
    base = Play(Source.APPLE_MUSIC, "Apple Music Play Activity.csv", 3, start_utc=datetime(2016, 1, 1, tzinfo=UTC))
    with_offset = replace(base, utc_offset_s=25200)
    assert play_id(with_offset) == play_id(base)
