from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tutti.errors import UsageError
from tutti.insights.period import Period
from tutti.insights.scope import open_scope
from tutti.insights.zones import ZonePlan, zone_plan_for
from tutti.model import Play, PlayBatch, Source
from tutti.store import open_store
from tutti.store.ingest import insert_items
from tutti.store.profile import record_zone


@pytest.mark.parametrize(
    ("text", "label", "start", "end"),
    [
        ("all", "all", None, None),
        ("2024", "2024", date(2024, 1, 1), date(2025, 1, 1)),
        ("2024-3", "2024-03", date(2024, 3, 1), date(2024, 4, 1)),
        ("2024-12", "2024-12", date(2024, 12, 1), date(2025, 1, 1)),
        ("2024-Q4", "2024-Q4", date(2024, 10, 1), date(2025, 1, 1)),
        ("2024-summer", "2024-summer", date(2024, 6, 1), date(2024, 9, 1)),
        ("2024-winter", "2024-winter", date(2024, 12, 1), date(2025, 3, 1)),
        ("2023-01-01..2023-06-30", "2023-01-01..2023-06-30", date(2023, 1, 1), date(2023, 7, 1)),
        ("..2020-12-31", "…..2020-12-31", None, date(2021, 1, 1)),
    ],
)
def test_periods(text: str, label: str, start: date | None, end: date | None) -> None:
    assert Period.parse(text) == Period(label, start, end)


@pytest.mark.parametrize("text", ["2024-13", "2024-monsoon", "2024-02-30..2024-03-01", "2024-05-01..2024-04-01", "x"])
def test_bad_periods_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="period"):
        Period.parse(text)


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)))
def test_every_day_is_in_exactly_its_month_and_year(day: date) -> None:
    assert Period.parse(f"{day:%Y-%m}").contains(day)
    assert Period.parse(str(day.year)).contains(day)
    assert not Period.parse(f"{day.year + 1}").contains(day)
    seasons = [
        Period.parse(f"{y}-{s}") for y in (day.year - 1, day.year) for s in ("spring", "summer", "autumn", "winter")
    ]
    assert sum(p.contains(day) for p in seasons) == 1


def test_unknown_zone_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown time zone 'Europe/Berln'"):
        ZonePlan.single("Europe/Berln")


def test_a_late_play_lands_on_the_next_local_day_east_of_utc(tmp_path: Path) -> None:
    late = datetime(2024, 6, 30, 23, 30, tzinfo=UTC)
    play = Play(Source.LASTFM, "f.csv", 0, start_utc=late, artist="A", track="T")
    with open_store(tmp_path) as store:
        with store.transaction():
            store.ensure_profile("me")
            insert_items(store, "me", "one play", [PlayBatch.from_plays("f.csv", [play])])
        for zone, day, hour in (("UTC", date(2024, 6, 30), 23), ("Etc/GMT-2", date(2024, 7, 1), 1)):
            scope = open_scope(store, "me", Period.parse("all"), zones=ZonePlan.single(zone))
            assert scope.query("SELECT local_date, hour FROM {plays}") == [(day, hour)]
            scope.close()
        # July 2024 holds the play only in the zone two hours east of UTC.
        july = Period.parse("2024-07")
        for zone, count in (("UTC", 0), ("Etc/GMT-2", 1)):
            scope = open_scope(store, "me", july, zones=ZonePlan.single(zone))
            assert scope.query("SELECT count(*) FROM {plays}") == [(count,)]
            scope.close()


def test_recorded_zone_changes_apply_from_their_day(tmp_path: Path) -> None:
    before = Play(Source.LASTFM, "f.csv", 0, start_utc=datetime(2020, 1, 10, 12, tzinfo=UTC), artist="A", track="T")
    after = Play(Source.LASTFM, "f.csv", 1, start_utc=datetime(2021, 1, 10, 12, tzinfo=UTC), artist="A", track="T")
    with open_store(tmp_path) as store:
        with store.transaction():
            store.ensure_profile("me")
            insert_items(store, "me", "two plays", [PlayBatch.from_plays("f.csv", [before, after])])
        record_zone(store, "me", "Europe/Berlin", None)
        record_zone(store, "me", "America/New_York", datetime(2020, 6, 1, tzinfo=UTC))
        plan = zone_plan_for(store, "me")
        assert plan.label == "Europe/Berlin → America/New_York (from 2020-06-01)"
        scope = open_scope(store, "me", Period.parse("all"), zones=plan)
        assert scope.query("SELECT hour FROM {plays} ORDER BY local_ts") == [(13,), (7,)]
        assert zone_plan_for(store, "me", "UTC").label == "UTC"
