"""An opened pool table: an Ibis table over the plays of the members given, on one engine, and how to run on it.

The table is an unbound Ibis table of the pool's shape (``POOL_TABLE_SCHEMA``: the pool's columns and the
member's pseudonym); an expression over it is compiled to the engine's SQL and run there, so Ibis compiles
and the engine executes, with no other layer between them.

Every engine answers the same way: ``to_pyarrow(expr)`` runs an Ibis expression built on ``table`` and returns
an Arrow table, and ``materialize(expr)`` keeps an intermediate result in the engine as a table of its own (so
several results derived from it read the pool once); a file that does not open with the keys given (a member left
out, a wrong or destroyed key, altered bytes) raises ``DecryptionFailed``, the cooperative's decryption error,
whatever the engine's own exception was. Nothing is read until an expression runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import ibis
import pyarrow as pa

from tutti.coop.errors import DecryptionFailed
from tutti.coop.pool.contract import POOL_SCHEMA

ENGINES = ("duckdb", "spark")
POOL_TABLE_SCHEMA = POOL_SCHEMA.append(pa.field("member", pa.string()))


def pool_expression(name: str) -> Any:
    """The pool as an Ibis table named ``name`` (``POOL_TABLE_SCHEMA``), which each engine binds to its own view."""
    return ibis.table(ibis.Schema.from_pyarrow(POOL_TABLE_SCHEMA), name=name)


def compiled(expr: Any, dialect: str) -> tuple[str, pa.Schema]:
    """An expression's SQL for an engine, and the Arrow schema its result has."""
    return ibis.to_sql(expr, dialect=dialect), expr.as_table().schema().to_pyarrow()


@dataclass
class PoolTable:
    """The pool as the Ibis table ``table`` (``POOL_SCHEMA`` and a ``member`` column) on ``engine``."""

    engine: str
    table: Any  # ibis.expr.types.Table (Ibis ships no type information)
    _run: Callable[[Any], pa.Table] = field(repr=False)
    _refused: Callable[[BaseException], bool] = field(repr=False)
    _close: Callable[[], None] = field(repr=False)
    _materialize: Callable[[Any], Any] | None = field(default=None, repr=False)

    def materialize(self, expr: Any) -> Any:
        """``expr`` computed once and kept by the engine for as long as the table is open, as a new Ibis table:
        several results derived from one scan of the pool read (and decrypt) the pool once."""
        if self._materialize is None:
            return expr
        try:
            return self._materialize(expr)
        except Exception as error:
            if self._refused(error):
                raise DecryptionFailed(
                    "a pool file does not open with the keys given (a member left out, a wrong or destroyed key, "
                    "or altered bytes)"
                ) from error
            raise

    def to_pyarrow(self, expr: Any) -> pa.Table:
        """The result of an Ibis expression over ``table``; DecryptionFailed if a pool file does not open."""
        try:
            return self._run(expr)
        except Exception as error:
            if self._refused(error):
                raise DecryptionFailed(
                    "a pool file does not open with the keys given (a member left out, a wrong or destroyed key, "
                    "or altered bytes)"
                ) from error
            raise

    def close(self) -> None:
        self._close()

    def __enter__(self) -> PoolTable:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()
