"""The same Ibis expressions on DuckDB and on Spark over one pool of encrypted files: exactly the same results.

Spark reads the files the pool's writer sealed through Parquet's own key tools (PropertiesDrivenCryptoFactory
and the pool's key client); DuckDB reads them through pyarrow. Each result is also checked against what the test
computes itself from the decrypted rows, so two engines agreeing on a wrong answer fails too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from tests.coop.engine.conftest import decrypted, sorted_rows
from tutti.coop.engine import PoolSource, PoolTable, contribution_bound, monthly_artist_totals, open_duckdb, top_artists
from tutti.coop.engine.on_spark import open_spark

QUERIES: dict[str, Callable[[Any], Any]] = {
    "top_artists": lambda t: top_artists(t, 5),
    "monthly_artist_totals": monthly_artist_totals,
    "contribution_bound": lambda t: contribution_bound(t, 400),
    "top_artists_of_bound": lambda t: top_artists(contribution_bound(t, 400), 3),
}


def results(table: PoolTable) -> dict[str, pa.Table]:
    return {name: table.to_pyarrow(query(table.table)) for name, query in QUERIES.items()}


def assert_same_on_both_engines(source: PoolSource, spark: Any) -> dict[str, pa.Table]:
    with open_duckdb(source) as on_duckdb, open_spark(source, spark) as on_spark:
        duck, sparked = results(on_duckdb), results(on_spark)
    for name in QUERIES:
        assert duck[name].schema == sparked[name].schema, name
        assert duck[name].num_rows > 0, name
        assert sorted_rows(duck[name]) == sorted_rows(sparked[name]), name
    return duck


def expected_top_artists(rows: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    spellings: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row["artist_key"] is not None:
            spellings[row["member"], row["artist_key"]][row["artist"]] += 1
    expected = []
    for member in sorted({m for m, _ in spellings}):
        plays = {k: sum(c.values()) for (m, k), c in spellings.items() if m == member}
        ranked = sorted(plays, key=lambda k: (-plays[k], k))[:n]
        for rank, key in enumerate(ranked, 1):
            counts = spellings[member, key]
            spelling = min(counts, key=lambda s: (-counts[s], s))
            expected.append(
                {"member": member, "rank": rank, "artist_key": key, "artist": spelling, "plays": plays[key]}
            )
    return expected


def check_against_the_rows(source: PoolSource, result: dict[str, pa.Table]) -> None:
    rows = decrypted(source).to_pylist()
    top = result["top_artists"]
    assert sorted_rows(top) == sorted_rows(pa.Table.from_pylist(expected_top_artists(rows, 5), top.schema))

    monthly = result["monthly_artist_totals"]
    dated = [r for r in rows if r["artist_key"] is not None and (r["start_utc"] or r["end_utc"])]
    assert sum(monthly.column("plays").to_pylist()) == len(dated)
    months = {(r["start_utc"] or r["end_utc"]).date().replace(day=1) for r in dated}
    assert set(monthly.column("month").to_pylist()) == months and all(isinstance(m, date) for m in months)
    listeners: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for r in dated:
        listeners[r["country"], (r["start_utc"] or r["end_utc"]).date().replace(day=1), r["artist_key"]].add(
            r["member"]
        )
    assert {(r["country"], r["month"], r["artist_key"]): r["listeners"] for r in monthly.to_pylist()} == {
        k: len(v) for k, v in listeners.items()
    }

    bound = result["contribution_bound"]
    ids: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        ids[r["member"]].append(r["play_id"])
    kept: dict[str, list[str]] = defaultdict(list)
    for r in bound.to_pylist():
        kept[r["member"]].append(r["play_id"])
    assert {m: sorted(v) for m, v in kept.items()} == {m: sorted(v)[:400] for m, v in ids.items()}


def test_synthetic_pool_gives_the_same_results_on_duckdb_and_spark(synthetic_pool: PoolSource, spark: Any) -> None:
    result = assert_same_on_both_engines(synthetic_pool, spark)
    check_against_the_rows(synthetic_pool, result)
    # The member who spelled one artist three ways is shown under the spelling used most (60 capitals of 150).
    respelled = [r for r in result["top_artists"].to_pylist() if r["member"] == "m5"]
    assert [(r["artist"], r["plays"]) for r in respelled] == [("MORI QUODRA", 150)]
    # Members over the cap keep exactly the cap, the others everything.
    counts = Counter(result["contribution_bound"].column("member").to_pylist())
    assert counts == {"m1": 400, "m2": 400, "m3": 400, "m4": 150, "m5": 150}


@pytest.mark.samples
def test_real_exports_give_the_same_results_on_duckdb_and_spark(sample_pool: PoolSource, spark: Any) -> None:
    result = assert_same_on_both_engines(sample_pool, spark)
    check_against_the_rows(sample_pool, result)
    assert set(result["top_artists"].column("member").to_pylist()) == set(sample_pool.files)
