"""Shared steps of the race tests: many calls at once, and the PostgreSQL-only guard (SQLite has one writer)."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.coop.conftest import CoopDb
from tutti.coop.errors import Conflict
from tutti.errors import TuttiError


def race(calls: list[Callable[[], object]], refusals: tuple[type[TuttiError], ...] = (Conflict,)) -> tuple[int, int]:
    """Run every call at once on 8 threads; (how many succeeded, how many were refused with one of ``refusals``)."""

    def run(call: Callable[[], object]) -> bool:
        try:
            call()
        except refusals:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(run, calls))
    return outcomes.count(True), outcomes.count(False)


def postgresql_only(db: CoopDb) -> None:
    if db.kind != "postgresql":
        pytest.skip("SQLite has one writer at a time; the race is PostgreSQL's")
