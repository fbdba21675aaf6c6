"""The protections behind every aggregate release, attacked one by one.

- Bounding, on its own: one member with a million plays, and any member of random pools (hypothesis), moves the
  bounded totals by at most the stated bounds; that is what the noise is calibrated to.
- A differencing attack (two releases that differ by one member): it always wins against exact counts, and
  against the protected release it wins no more often than epsilon allows.
- A rare artist's single listener: exact counts reveal them; the protected release never publishes the cell.
- The privacy budget refuses the spend that does not fit, and records nothing for it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutti.coop.engine.table import POOL_TABLE_SCHEMA, compiled, pool_expression
from tutti.coop.errors import InvalidInput
from tutti.coop.sales.bounding import CellBounds, bounded_cells, bounded_plays, cell_totals
from tutti.coop.sales.privacy import (
    BudgetSpent,
    PrivacyBudget,
    Sensitivity,
    Spend,
    dp_counts,
    release_pseudonym,
)
from tutti.coop.sales.recipes import AggregateParameters, AggregateStatistics

CELL = ["country", "month", "artist_key"]
MONTHS = [np.datetime64(f"2024-{m:02d}-15T12:00:00", "us") for m in range(1, 13)]


def plays(member: str, artists: list[int], months: list[int], countries: list[str], ms: list[int]) -> pa.Table:
    n = len(artists)
    columns: dict[str, pa.Array] = {
        "member": pa.array([member] * n),
        "play_id": pa.array([f"{member}-{i:09d}" for i in range(n)]),
        "artist_key": pa.array([f"artist {a}" for a in artists]),
        "artist": pa.array([f"Artist {a}" for a in artists]),
        "start_utc": pa.array(np.array([MONTHS[m] for m in months], dtype="datetime64[us]"), pa.timestamp("us", "UTC")),
        "ms_played": pa.array(ms, pa.int64()),
        "country": pa.array(countries),
        "content_kind": pa.array(["music"] * n),
    }
    return pa.table([columns.get(f.name, pa.nulls(n, f.type)) for f in POOL_TABLE_SCHEMA], schema=POOL_TABLE_SCHEMA)


def run(query: Callable[[Any], Any], pool: pa.Table) -> pa.Table:
    connection = duckdb.connect()
    connection.register("pool", pool)
    sql, _schema = compiled(query(pool_expression("pool")), "duckdb")
    return connection.sql(sql).to_arrow_table()


def totals(pool: pa.Table, bounds: CellBounds) -> dict[tuple[Any, ...], tuple[int, int, int]]:
    def query(t: Any) -> Any:
        return cell_totals(bounded_cells(t.mutate(month=t.start_utc.truncate("M").date()), CELL, bounds), CELL)

    table = run(query, pool)
    return {tuple(r[c] for c in CELL): (r["plays"], r["ms_played"], r["members"]) for r in table.to_pylist()}


def assert_moved_within(
    without: dict[tuple[Any, ...], tuple[int, int, int]],
    with_: dict[tuple[Any, ...], tuple[int, int, int]],
    bounds: CellBounds,
) -> None:
    moved = 0
    for cell in set(without) | set(with_):
        a, b = without.get(cell, (0, 0, 0)), with_.get(cell, (0, 0, 0))
        if a != b:
            moved += 1
        assert 0 <= b[0] - a[0] <= bounds.max_per_cell, cell
        assert 0 <= b[1] - a[1] <= bounds.max_per_cell * bounds.max_ms_per_play, cell
        assert 0 <= b[2] - a[2] <= 1, cell
    assert moved <= bounds.max_cells


def base_pool(rng: np.random.Generator, members: int = 30) -> pa.Table:
    tables = []
    for m in range(members):
        n = int(rng.integers(50, 400))
        tables.append(
            plays(
                f"m{m:03d}",
                [int(a) for a in rng.zipf(1.5, n) % 40],
                [int(x) for x in rng.integers(0, 12, n)],
                [str(c) for c in rng.choice(["DE", "FR", "JP"], n)],
                [int(x) for x in rng.integers(0, 400_000, n)],
            )
        )
    return pa.concat_tables(tables)


def test_one_member_with_a_million_plays_moves_the_bounded_totals_by_at_most_the_bound() -> None:
    rng = np.random.default_rng(3)
    base = base_pool(rng)
    n = 1_000_000
    heavy = plays(
        "heavy",
        [int(a) for a in rng.integers(0, 2_000, n)],  # a thousand-odd artists, every month, two countries
        [int(x) for x in rng.integers(0, 12, n)],
        [str(c) for c in rng.choice(["DE", "FR"], n)],
        [int(x) for x in rng.integers(0, 10**8, n)],  # and absurd lengths
    )
    bounds = CellBounds(max_cells=25, max_per_cell=8)
    assert_moved_within(totals(base, bounds), totals(pa.concat_tables([base, heavy]), bounds), bounds)
    histogram = 500
    before = run(lambda t: bounded_plays(t, histogram).count(), base).column(0)[0].as_py()
    after = run(lambda t: bounded_plays(t, histogram).count(), pa.concat_tables([base, heavy])).column(0)[0].as_py()
    assert after - before == histogram


member_plays = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 11), st.sampled_from(["DE", "FR"]), st.integers(-5, 2_000_000)),
    min_size=1,
    max_size=60,
)


@settings(max_examples=40, deadline=None)
@given(
    others=st.lists(member_plays, min_size=0, max_size=4),
    target=member_plays,
    max_cells=st.integers(1, 6),
    max_per_cell=st.integers(1, 5),
)
def test_no_member_of_any_pool_moves_the_bounded_totals_by_more_than_the_bound(
    others: list[list[tuple[int, int, str, int]]],
    target: list[tuple[int, int, str, int]],
    max_cells: int,
    max_per_cell: int,
) -> None:
    def member(name: str, rows: list[tuple[int, int, str, int]]) -> pa.Table:
        return plays(name, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows])

    bounds = CellBounds(max_cells, max_per_cell, max_ms_per_play=600_000)
    rest = [member(f"o{i}", rows) for i, rows in enumerate(others)]
    empty = plays("none", [], [], [], [])
    without = pa.concat_tables([empty, *rest])
    with_target = pa.concat_tables([without, member("target", target)])
    assert_moved_within(totals(without, bounds), totals(with_target, bounds), bounds)


POPULAR = ("DE", "2024-03-01", "popular")


def attack_tables(with_target: bool, per_cell: int) -> dict[str, pa.Table]:
    """A popular cell played by 40 members, and, with the target, the target's plays there and in a cell only
    they play (a rare artist)."""
    cells = [
        {"country": "DE", "month": "2024-03-01", "artist_key": "popular", "plays": 400, "ms_played": 0, "members": 40}
    ]
    used = {f"m{i}": 10 for i in range(40)}
    if with_target:
        cells[0] = {**cells[0], "plays": 400 + per_cell, "members": 41}
        cells.append(
            {
                "country": "DE",
                "month": "2024-03-01",
                "artist_key": "rare",
                "plays": per_cell,
                "ms_played": 0,
                "members": 1,
            }
        )
        used["target"] = 2 * per_cell
    spellings = pa.table({"artist_key": ["popular", "rare"], "artist": ["Popular", "Rare"]})
    return {
        "cells": pa.Table.from_pylist(cells),
        "spellings": spellings,
        "used": pa.table({"member": list(used), "plays": list(used.values())}),
    }


def test_a_differencing_attack_wins_against_exact_counts_and_is_held_to_epsilon_by_the_release() -> None:
    per_cell = 10
    params = AggregateParameters(epsilon=2.0, delta=1e-6, k=2, max_cells=1, max_per_cell=per_cell)
    recipe = AggregateStatistics()
    tables = {present: attack_tables(present, per_cell) for present in (False, True)}

    def exact(present: bool) -> dict[str, int]:
        return {r["artist_key"]: r["plays"] for r in tables[present]["cells"].to_pylist()}

    # Unprotected: the difference of two exact releases is the target's plays, and the rare cell names them.
    assert exact(True)["popular"] - exact(False)["popular"] == per_cell and "rare" in exact(True)

    def guesses_present(present: bool) -> bool:
        out = recipe.finish(tables[present], params, os.urandom(32)).tables["aggregate_statistics"].to_pylist()
        assert all(r["artist"] != "Rare" for r in out)  # the rare artist's single listener is never published
        popular = [r["plays"] for r in out if r["artist"] == "Popular"]
        return bool(popular) and popular[0] > 400 + per_cell / 2

    trials = 600
    hit = sum(guesses_present(True) for _ in range(trials)) / trials
    false_alarm = sum(guesses_present(False) for _ in range(trials)) / trials
    counts_epsilon = params.epsilon / 2  # half the budget goes to the counts the attacker reads
    slack = 4 * math.sqrt(0.25 / trials) * 2  # four standard errors of the two rates
    assert hit - false_alarm < 1.0  # the attack no longer always wins
    assert hit <= math.exp(counts_epsilon) * false_alarm + params.delta + slack
    assert (1 - false_alarm) <= math.exp(counts_epsilon) * (1 - hit) + params.delta + slack


def test_a_group_only_one_member_could_create_is_almost_never_published() -> None:
    sensitivity = Sensitivity(max_cells=1, max_per_cell=10)
    published = sum(
        bool(dp_counts([10], sensitivity, epsilon=1.0, delta=1e-6).counts) for _ in range(2_000)
    )  # P(published) <= delta by construction; 2,000 tries see none
    assert published == 0
    many = dp_counts([5_000, 10], sensitivity, epsilon=1.0, delta=1e-6)
    assert 0 in many.counts and 1 not in many.counts
    assert many.threshold > sensitivity.max_per_cell and many.epsilon == pytest.approx(1.0)


def test_the_budget_refuses_what_does_not_fit_and_records_nothing_for_it() -> None:
    budget = PrivacyBudget(epsilon=1.0, delta=1e-6)
    budget.charge(Spend(0.5, 5e-7, "first"))
    budget.charge(Spend(0.5, 5e-7, "second"))  # exactly the rest: fits
    with pytest.raises(BudgetSpent, match="spent"):
        budget.charge(Spend(0.01, 0.0, "third"))
    assert [s.what for s in budget.spends] == ["first", "second"]
    fresh = PrivacyBudget(epsilon=1.0, delta=1e-7)
    with pytest.raises(BudgetSpent, match="delta"):
        fresh.charge(Spend(0.1, 1e-6, "too much delta"))
    assert fresh.spends == []


def test_release_pseudonyms_are_128_bit_hmacs_keyed_per_release() -> None:
    key = bytes(range(32))
    import hashlib
    import hmac

    expected = hmac.new(key, b"tutti release pseudonym v1\x00m1", hashlib.sha256).hexdigest()[:32]
    assert release_pseudonym(key, "m1") == expected
    assert release_pseudonym(key, "m1") != release_pseudonym(bytes(32), "m1")
    with pytest.raises(InvalidInput):
        release_pseudonym(b"short", "m1")
