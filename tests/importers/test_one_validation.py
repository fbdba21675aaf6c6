"""A record is stored or refused by one rule, whatever its neighbours: the extended-history reader's fast path
(all of a file at once, with Arrow) and its careful path (record by record) must agree on every record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import DATA
from tests.helpers.importers import read_with
from tutti.importers import ReadOptions, apple_music, spotify_extended
from tutti.model import ImportProblem, PlayBatch, ProblemKind

NOW = datetime(2026, 1, 1, tzinfo=UTC)
# A record the careful path must refuse: its presence sends the whole file down that path.
NOT_A_RECORD = "not a record"

GOOD: dict[str, Any] = {
    "ts": "2024-08-02T16:08:10Z",
    "platform": "android",
    "ms_played": 187_000,
    "conn_country": "DE",
    "ip_addr": "192.0.2.1",
    "master_metadata_track_name": "Paper Moon",
    "master_metadata_album_artist_name": "Lila Ortiz",
    "master_metadata_album_album_name": "Night Songs",
    "spotify_track_uri": "spotify:track:8888888888888888888888",
    "episode_name": None,
    "episode_show_name": None,
    "spotify_episode_uri": None,
    "reason_start": "trackdone",
    "reason_end": "trackdone",
    "shuffle": True,
    "skipped": False,
    "offline": False,
    "offline_timestamp": 1722614450,
    "incognito_mode": False,
}

_times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 1, 1)).map(
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ")
)
_ts = st.one_of(
    _times,
    st.sampled_from(
        [
            "2023-02-30T10:00:00Z",  # no such day: Arrow alone reads 2 March
            "2023-01-01T23:59:60Z",  # a leap second: Arrow alone rolls over to the next day
            "2023-01-01T24:00:00Z",
            "2023-1-1T1:02:03Z",
            " 2023-01-01T00:00:00Z",
            "2023-01-01T00:00:00Z\n",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2023-01-01 00:00:00",
            "yesterday",
            "",
        ]
    ),
    st.none(),
    st.integers(),
)
_ints = st.one_of(
    st.integers(min_value=-10, max_value=100_000_000),
    st.sampled_from([0, 86_400_000, 86_400_001, 2**63 - 1, 2**63, 2**70, -(2**70)]),
)
_ms = st.one_of(_ints, st.sampled_from([1.9, 2.0, -0.5, True, False, "5", None, [1]]))
_offline = st.one_of(
    st.none(),
    st.sampled_from([0, -1, 1722614450, 1722614450123, 10**14, 10**15, 2**63, 2**70, -(2**70), 1.5, True, "1"]),
)
_text = st.one_of(st.none(), st.text(max_size=5), st.sampled_from([5, True, ["x"], {"a": 1}]))
_flag = st.one_of(st.none(), st.booleans(), st.sampled_from([0, 1, "true", 1.0]))


@st.composite
def _records(draw: st.DrawFn) -> Any:
    record = dict(GOOD)
    record["ts"] = draw(_ts)
    record["ms_played"] = draw(_ms)
    record["offline_timestamp"] = draw(_offline)
    for key in draw(st.sets(st.sampled_from(["platform", "conn_country", "master_metadata_track_name"]))):
        record[key] = draw(_text)
    for key in draw(st.sets(st.sampled_from(["shuffle", "skipped", "offline", "incognito_mode"]))):
        record[key] = draw(_flag)
    for key in draw(st.sets(st.sampled_from(["ts", "ms_played", "offline_timestamp", "platform"]))):
        del record[key]
    shape = draw(st.sampled_from(["object"] * 8 + ["pairs", "string", "null"]))
    if shape == "pairs":
        return [[k, v] for k, v in record.items()]  # Arrow alone reads a list of pairs as an object
    return {"string": "a record", "null": None}.get(shape, record)


def outcomes(records: list[Any]) -> list[tuple[Any, ...]]:
    """What became of each record: stored (with every stored field) or refused (with kind and reason)."""
    found: dict[int, tuple[Any, ...]] = {}
    for item in spotify_extended.read_records("f.json", records, ReadOptions(include_incognito=True, now=NOW)):
        if isinstance(item, ImportProblem):
            found[int(item.record.removeprefix("record "))] = ("refused", item.kind, item.reason)
        elif isinstance(item, PlayBatch):
            for row in item.table.drop_columns(["source_file"]).to_pylist():
                found[row.pop("record_index")] = ("stored", row)
    assert sorted(found) == list(range(len(records)))
    return [found[i] for i in range(len(records))]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_records(), min_size=1, max_size=6))
@example([{**GOOD, "ts": "2023-02-30T10:00:00Z"}])
@example([{**GOOD, "ts": "2023-01-01T23:59:60Z"}])
@example([{**GOOD, "ms_played": 1.9}])
@example([{**GOOD, "offline_timestamp": 2**70}])
def test_fast_and_careful_paths_agree_on_every_record(records: list[Any]) -> None:
    together = outcomes(records)
    for record, outcome in zip(records, together, strict=True):
        assert outcomes([record]) == [outcome]  # alone: the fast path when it is clean
        assert outcomes([record, NOT_A_RECORD])[0] == outcome  # beside a bad one: the careful path


@pytest.mark.parametrize(
    ("change", "kind", "reason"),
    [
        ({"ts": "2023-02-30T10:00:00Z"}, ProblemKind.INVALID_TIME, "ts '2023-02-30T10:00:00Z' is not a real time"),
        ({"ts": "2023-01-01T23:59:60Z"}, ProblemKind.INVALID_TIME, "ts '2023-01-01T23:59:60Z' is not a real time"),
        ({"ms_played": 1.9}, ProblemKind.WRONG_TYPE, "ms_played 1.9 is not a whole number"),
    ],
)
def test_values_arrow_would_bend_are_refused_in_a_clean_file(change: dict[str, Any], kind: str, reason: str) -> None:
    assert outcomes([GOOD, {**GOOD, **change}, GOOD])[1] == ("refused", kind, reason)


def test_an_apple_row_is_refused_when_either_of_its_times_is_impossible() -> None:
    result = read_with(apple_music, DATA / "apple_music" / "start_or_end_impossible.csv", ReadOptions(now=NOW))
    assert [(p.record, p.kind, p.reason) for p in result.problems] == [
        ("line 3", ProblemKind.IMPLAUSIBLE_TIME, "time 9999-03-01T08:03:21.400000+00:00 is in the future"),
        ("line 4", ProblemKind.IMPLAUSIBLE_TIME, "time 1999-12-31T23:59:00+00:00 is before 2000"),
    ]
    assert [p.record_index for p in result.plays] == [0]
