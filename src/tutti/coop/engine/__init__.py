"""The pool's portable query layer: queries written once as Ibis expressions, run on DuckDB or on Spark.

Pool queries that outlive one upload (dataset recipes, buyer queries, statistics) are Ibis expressions
(``queries``) over a *pool table*. A pool table opens only the members it is given (``source.PoolSource``: their
catalogued files and their keys), so the caller's list of members is the one place that decides whose plays a
query may read; a file whose key is not given, or wrong, raises ``DecryptionFailed``. DuckDB is the default
engine (``on_duckdb``); Spark (``on_spark``, the optional ``[spark]`` extra) reads the same encrypted files with
Parquet's own key tools, for a pool that outgrows one machine. Checks on a single upload stay on DuckDB.

    with open_duckdb(pool_source(session, pool, keys)) as table:
        rows = table.to_pyarrow(top_artists(table.table, 10))
"""

from tutti.coop.engine.on_duckdb import open_duckdb
from tutti.coop.engine.queries import contribution_bound, monthly_artist_totals, top_artists
from tutti.coop.engine.source import PoolSource, pool_source
from tutti.coop.engine.table import ENGINES, PoolTable

__all__ = [
    "ENGINES",
    "PoolSource",
    "PoolTable",
    "contribution_bound",
    "monthly_artist_totals",
    "open_duckdb",
    "pool_source",
    "top_artists",
]
