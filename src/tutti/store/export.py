"""Writing a profile's plays out in open formats: JSON lines of listens (``tutti.listens``), and Parquet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tutti.listens import to_listen
from tutti.model import PLAY_COLUMNS
from tutti.store import Store, sql_literal
from tutti.store._sql import run

_BATCH = 20_000


def _rows(store: Store, profile: str) -> Iterator[dict[str, Any]]:
    cursor = store.con.execute(
        f"SELECT play_id, {', '.join(PLAY_COLUMNS)} FROM ({store.active_plays_sql(profile)}) "
        "ORDER BY coalesce(start_utc, end_utc), play_id"
    )
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(_BATCH):
        for values in batch:
            yield dict(zip(names, values, strict=True))


def export_jsonl(store: Store, profile: str, out: Path) -> int:
    """Write every play of ``profile`` as one ListenBrainz-shaped listen per line; returns the count."""
    store.require_profile(profile)
    count = 0
    with out.open("wb") as fp:
        for row in _rows(store, profile):
            fp.write(orjson.dumps(to_listen(row)))
            fp.write(b"\n")
            count += 1
    return count


def export_parquet(store: Store, profile: str, out: Path) -> int:
    """Write every play of ``profile`` with all its fields to one Parquet file; returns the count."""
    store.require_profile(profile)
    query = (
        f"SELECT play_id, {', '.join(PLAY_COLUMNS)} FROM ({store.active_plays_sql(profile)}) "
        "ORDER BY coalesce(start_utc, end_utc), play_id"
    )
    run(store.con, f"COPY ({query}) TO {sql_literal(str(out))} (FORMAT parquet, COMPRESSION zstd)")
    row = store.con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(str(out))})").fetchall()[0]
    return int(row[0]) if row else 0
