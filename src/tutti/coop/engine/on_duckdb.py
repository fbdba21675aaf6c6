"""The pool on DuckDB (the default engine): pyarrow decrypts each file batch by batch with the given members'
keys, and DuckDB scans that stream, so the pool is never decrypted whole into memory nor onto disk.

DuckDB's spill files would hold decrypted plays, so spilling is off unless the caller names a folder for it
(a job's scratch folder, on tmpfs or an encrypted volume): a query larger than ``memory_limit`` then fails
rather than write plays in the clear where nobody will erase them.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.parquet.encryption as pe

from tutti.coop.engine.source import PoolSource
from tutti.coop.engine.table import PoolTable, compiled, pool_expression
from tutti.coop.pool.contract import MemberKeys
from tutti.coop.pool.files import encrypted_dataset

VIEW = "pool"


class _RecordedKeys(MemberKeys):
    """The pool's key client, noting every key it refused (pyarrow and DuckDB pass the failure on as text)."""

    def __init__(self, keys: Mapping[str, bytes], refused: list[str]) -> None:
        super().__init__(keys)
        self._refused = refused

    def unwrap_key(self, wrapped_key: str, master_key_identifier: str) -> bytes:
        try:
            return super().unwrap_key(wrapped_key, master_key_identifier)
        except KeyError:
            self._refused.append(master_key_identifier)
            raise


def open_duckdb(
    source: PoolSource,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
    spill_dir: Path | None = None,
) -> PoolTable:
    """The pool table of ``source`` on a fresh in-memory DuckDB connection."""
    refused: list[str] = []
    factory = pe.CryptoFactory(lambda _config: _RecordedKeys(source.keys, refused))
    connection, decryption = pe.KmsConnectionConfig(), pe.DecryptionConfiguration()
    raw = duckdb.connect()
    raw.execute("SET temp_directory = ?", [str(spill_dir) if spill_dir is not None else ""])
    if memory_limit is not None:
        raw.execute("SET memory_limit = ?", [memory_limit])
    if threads is not None:
        raw.execute(f"SET threads = {int(threads)}")
    raw.register(VIEW, encrypted_dataset(source.root, source.paths, factory, connection, decryption))
    opened: list[bool] = []

    def open_every_file() -> None:
        # Each file's signed footer is checked here, in this thread, with the factory the scan uses: a key that
        # does not open fails now (a key refused inside pyarrow's scanning threads can leave the scan hanging),
        # and the keys that do open are cached, so the scan itself never calls back into Python.
        properties = factory.file_decryption_properties(connection, decryption)
        for path in source.paths:
            pq.read_metadata(path, decryption_properties=properties)
        opened.append(True)

    def run(expr: Any) -> pa.Table:
        refused.clear()
        if not opened:
            open_every_file()
        sql, schema = compiled(expr, "duckdb")
        table: pa.Table = raw.sql(sql).to_arrow_table()
        return table.cast(schema)

    def materialize(expr: Any) -> Any:
        refused.clear()
        if not opened:
            open_every_file()
        name = f"kept_{secrets.token_hex(8)}"
        sql, _schema = compiled(expr, "duckdb")
        raw.execute(f'CREATE TEMP TABLE "{name}" AS {sql}')
        return ibis.table(expr.schema(), name=name)

    def was_refused(error: BaseException) -> bool:
        return bool(refused) and isinstance(error, duckdb.Error | KeyError)

    return PoolTable("duckdb", pool_expression(VIEW), run, was_refused, raw.close, materialize)
