"""Running statements whose result is not read (DuckDB wants every result consumed before the next)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def run(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] | dict[str, Any] | None = None) -> None:
    con.execute(sql, params).fetchall()


def run_many(con: duckdb.DuckDBPyConnection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    if rows:
        con.executemany(sql, rows).fetchall()
