"""Every data recipe on DuckDB and on Spark over the same encrypted pool: the same tables before noise, and what the
buyer receives holds the recipe's protections (checked on the release files themselves).

The recipes' engine halves are also recomputed here from the decrypted rows (bounding written again in Python), so
two engines agreeing on a wrong answer fails too.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.coop.engine.conftest import decrypted, sorted_rows
from tutti.coop.engine import PoolSource, open_duckdb
from tutti.coop.engine.on_spark import open_spark
from tutti.coop.errors import InvalidInput
from tutti.coop.sales.privacy import release_pseudonym
from tutti.coop.sales.recipes import (
    RECIPES,
    AggregateParameters,
    ArtistPreferencesParameters,
    DistributionParameters,
    RowParameters,
    parameters_from,
    parameters_to_dict,
)
from tutti.coop.sales.release import KnownRelease, build_release, content_digest, identify_leak, write_release

PARAMS: dict[str, Any] = {
    "artist-preferences": ArtistPreferencesParameters(top=5, k=2),
    "aggregate-statistics": AggregateParameters(k=2, max_cells=30, max_per_cell=5, epsilon=1.0, delta=1e-6),
    "listening-distributions": DistributionParameters(max_plays=300),
    "pseudonymous-rows": RowParameters(fields=("artist", "track", "ms_played"), time_unit="hour", k=2),
}
LICENCE = {"duration_days": 365, "re_identification": "forbidden", "resale": "forbidden"}


def engine_results(source: PoolSource, spark: Any | None) -> dict[str, dict[str, pa.Table]]:
    out: dict[str, dict[str, pa.Table]] = {}
    opened = open_duckdb(source) if spark is None else open_spark(source, spark)
    with opened as table:
        for name, recipe in RECIPES.items():
            exprs = recipe.engine_tables(table.table, PARAMS[name], table.materialize)
            out[name] = {part: table.to_pyarrow(expr) for part, expr in exprs.items()}
    return out


def test_every_recipe_gives_the_same_tables_on_duckdb_and_spark(synthetic_pool: PoolSource, spark: Any) -> None:
    duck, sparked = engine_results(synthetic_pool, None), engine_results(synthetic_pool, spark)
    assert set(duck) == set(RECIPES)
    for name in RECIPES:
        for part in duck[name]:
            assert duck[name][part].schema == sparked[name][part].schema, (name, part)
            assert duck[name][part].num_rows > 0, (name, part)
            assert sorted_rows(duck[name][part]) == sorted_rows(sparked[name][part]), (name, part)


@pytest.mark.samples
def test_every_recipe_gives_the_same_tables_on_real_exports(sample_pool: PoolSource, spark: Any) -> None:
    duck, sparked = engine_results(sample_pool, None), engine_results(sample_pool, spark)
    for name in RECIPES:
        for part in duck[name]:
            assert sorted_rows(duck[name][part]) == sorted_rows(sparked[name][part]), (name, part)


def _expected_preferences(rows: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    ms: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row["content_kind"] == "music" and row["artist_key"] is not None:
            timed = next(v for v in (row["ms_played"], row["duration_ms"], 210_000) if v is not None)
            ms[row["member"]][row["artist_key"]] += min(max(timed, 0), 15 * 60 * 1000)
    expected = []
    for member, artists in ms.items():
        total = sum(artists.values())
        if total == 0:
            continue
        ranked = sorted(artists, key=lambda k: (-artists[k], k))[:top]
        for rank, key in enumerate(ranked, 1):
            expected.append({"member": member, "rank": rank, "artist_key": key, "ms": artists[key], "member_ms": total})
    return expected


def _expected_cells(rows: list[dict[str, Any]], params: AggregateParameters) -> list[dict[str, Any]]:
    """Bounding written again: per member and (country, month, artist), plays capped, then each member's cells
    with most plays kept."""
    per: dict[tuple[str, Any, Any, str], list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        moment = row["start_utc"] or row["end_utc"]
        if row["artist_key"] is None or moment is None:
            continue
        at = (row["member"], row["country"], moment.date().replace(day=1), row["artist_key"])
        per[at][0] += 1
        per[at][1] += min(max(row["ms_played"] or 0, 0), 15 * 60 * 1000)
    kept: dict[tuple[Any, ...], tuple[list[int], set[str]]] = defaultdict(lambda: ([0, 0], set()))
    by_member: dict[str, list[tuple[tuple[Any, ...], int, int]]] = defaultdict(list)
    for at, (plays, ms) in per.items():
        member, place = at[0], at[1:]
        capped = min(plays, params.max_per_cell)
        by_member[member].append((place, capped, min(ms, params.max_per_cell * 15 * 60 * 1000)))
    for member, cells in by_member.items():
        ordered = sorted(cells, key=lambda c: (-c[1], *((v is not None, v) for v in c[0])))
        for kept_at, plays, ms in ordered[: params.max_cells]:
            sums, members = kept[kept_at]
            sums[0] += plays
            sums[1] += ms
            members.add(member)
    return [
        {"country": c[0], "month": c[1], "artist_key": c[2], "plays": p, "ms_played": m, "members": len(s)}
        for c, ((p, m), s) in kept.items()
    ]


def test_the_engine_halves_match_a_recomputation_from_the_decrypted_rows(synthetic_pool: PoolSource) -> None:
    rows = decrypted(synthetic_pool).to_pylist()
    results = engine_results(synthetic_pool, None)
    preferences = results["artist-preferences"]["preferences"]
    assert sorted_rows(preferences) == sorted_rows(pa.Table.from_pylist(_expected_preferences(rows, 5)))
    cells = results["aggregate-statistics"]["cells"]
    expected = _expected_cells(rows, PARAMS["aggregate-statistics"])
    assert sorted_rows(cells.select(["country", "month", "artist_key", "plays", "ms_played", "members"])) == (
        sorted_rows(pa.Table.from_pylist(expected, schema=cells.schema))
    )


def _release(source: PoolSource, name: str, key: bytes, folder: Path, release_id: str) -> dict[str, Any]:
    recipe = RECIPES[name]
    with open_duckdb(source) as table:
        built = build_release(recipe, PARAMS[name], table, key)
    written = write_release(
        folder, built, recipe=recipe, params=PARAMS[name], release_key=key, licence=LICENCE, release_id=release_id
    )
    return written.manifest


def _without(source: PoolSource, left_out: str) -> PoolSource:
    return PoolSource(
        source.root,
        {p: f for p, f in source.files.items() if p != left_out},
        {p: k for p, k in source.keys.items() if p != left_out},
    )


@pytest.mark.parametrize("name", ["artist-preferences", "pseudonymous-rows"])
def test_a_member_left_out_of_a_sale_is_absent_from_its_release_files(
    synthetic_pool: PoolSource, tmp_path: Path, name: str
) -> None:
    key = os.urandom(32)
    included = _without(synthetic_pool, "m2")  # opted out, withdrawn or not consenting: the sale opens without them
    manifest = _release(included, name, key, tmp_path / "release", "r-1")
    table = pa.concat_tables(pq.read_table(tmp_path / "release" / f["file"]) for f in manifest["files"])
    found = set(table.column("member").to_pylist())
    assert release_pseudonym(key, "m2") not in found
    assert found <= {release_pseudonym(key, m) for m in included.keys}
    assert manifest["members_included"] == len(found) <= len(included.keys)
    assert not ({"m1", "m2", "m3", "m4", "m5"} & found)  # no pool pseudonym leaves the cooperative


def test_pseudonyms_of_two_releases_cannot_be_joined(synthetic_pool: PoolSource, tmp_path: Path) -> None:
    first = _release(synthetic_pool, "pseudonymous-rows", os.urandom(32), tmp_path / "a", "r-a")
    second = _release(synthetic_pool, "pseudonymous-rows", os.urandom(32), tmp_path / "b", "r-b")
    a = pq.read_table(tmp_path / "a" / first["files"][0]["file"])
    b = pq.read_table(tmp_path / "b" / second["files"][0]["file"])
    assert a.num_rows == b.num_rows > 0
    pa_members, pb_members = set(a.column("member").to_pylist()), set(b.column("member").to_pylist())
    assert len(pa_members) == len(pb_members) >= 2
    assert not pa_members & pb_members
    assert all(len(p) == 32 for p in pa_members | pb_members)  # 128 bits


def test_every_published_cell_has_k_members_behind_it(synthetic_pool: PoolSource, tmp_path: Path) -> None:
    params = PARAMS["aggregate-statistics"]
    rows = decrypted(synthetic_pool).to_pylist()
    members_behind = {(c["country"], c["month"], c["artist_key"]): c["members"] for c in _expected_cells(rows, params)}
    with open_duckdb(synthetic_pool) as table:
        built = build_release(RECIPES["aggregate-statistics"], params, table, os.urandom(32))
        engine = RECIPES["aggregate-statistics"].engine_tables(table.table, params)
        spellings = {r["artist_key"]: r["artist"] for r in table.to_pyarrow(engine["spellings"]).to_pylist()}
    keys = {v: k for k, v in spellings.items()}
    published = built.tables["aggregate_statistics"].to_pylist()
    for cell in published:
        assert members_behind[cell["country"], cell["month"], keys[cell["artist"]]] >= params.k
    preferences = _release(synthetic_pool, "artist-preferences", os.urandom(32), tmp_path / "p", "r-p")
    listed = pq.read_table(tmp_path / "p" / preferences["files"][0]["file"]).to_pylist()
    lists_with: dict[str, set[str]] = defaultdict(set)
    for row in listed:
        lists_with[row["artist"]].add(row["member"])
    assert lists_with and all(len(members) >= 2 for members in lists_with.values())


def test_the_manifest_describes_the_files_and_a_leaked_copy_is_traced_to_its_release(
    synthetic_pool: PoolSource, tmp_path: Path
) -> None:
    key_a, key_b = os.urandom(32), os.urandom(32)
    manifest = _release(synthetic_pool, "pseudonymous-rows", key_a, tmp_path / "a", "r-a")
    _release(synthetic_pool, "pseudonymous-rows", key_b, tmp_path / "b", "r-b")
    on_disk = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert on_disk == manifest
    assert on_disk["recipe"] == {"name": "pseudonymous-rows", "version": 1, "title": "Pseudonymous play rows"}
    assert on_disk["licence"] == LICENCE and on_disk["privacy"] == {"epsilon": 0.0, "delta": 0.0}
    path = tmp_path / "a" / on_disk["files"][0]["file"]
    leaked = pq.read_table(path)
    assert on_disk["files"][0]["rows"] == leaked.num_rows
    known = [
        KnownRelease("r-a", key_a, frozenset({content_digest(leaked)}), frozenset(synthetic_pool.keys)),
        KnownRelease("r-b", key_b, frozenset(), frozenset(synthetic_pool.keys)),
    ]
    assert identify_leak(path, known) == "r-a"
    stripped = tmp_path / "stripped.parquet"  # metadata removed, rows shuffled and a tenth dropped
    shuffled = leaked.replace_schema_metadata(None).take(pa.array(list(range(leaked.num_rows))[::-1]))
    pq.write_table(shuffled.slice(0, leaked.num_rows * 9 // 10), stripped)
    assert identify_leak(stripped, known) == "r-a"
    assert identify_leak(stripped, known[1:]) is None
    garbled = tmp_path / "garbled.parquet"  # not Parquet at all: a sentence naming the file, not a traceback
    garbled.write_bytes(path.read_bytes()[:100])
    with pytest.raises(InvalidInput, match=r"garbled\.parquet: not a readable Parquet file"):
        identify_leak(garbled, known)


def test_parameters_round_trip_through_plain_values_and_refuse_nonsense() -> None:
    from tutti.coop.errors import InvalidInput

    for name, params in PARAMS.items():
        assert parameters_from(RECIPES[name], json.loads(json.dumps(parameters_to_dict(params)))) == params
    recipe = RECIPES["aggregate-statistics"]
    for bad in ({"epsilon": 0}, {"epsilon": 50}, {"delta": 0.5}, {"k": 1}, {"by": "album"}, {"max_cells": 0}):
        with pytest.raises(InvalidInput):
            parameters_from(recipe, bad)
    with pytest.raises(InvalidInput, match="no parameter"):
        parameters_from(recipe, {"sql": "select *"})
    with pytest.raises(InvalidInput):
        parameters_from(RECIPES["pseudonymous-rows"], {"fields": ["ip_address"]})
    assert all(RECIPES[n].describe(p) for n, p in PARAMS.items())
