"""Writing a profile's plays out in open formats: JSON lines in ListenBrainz's listen shape, and Parquet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson

from tutti.errors import UsageError
from tutti.model import PLAY_COLUMNS
from tutti.store import Store, sql_literal
from tutti.store._sql import run

_BATCH = 20_000


def _listen(row: dict[str, Any]) -> dict[str, Any]:
    """One play as a ListenBrainz listen; Tutti's own fields ride along in additional_info."""
    when = row["start_utc"] or row["end_utc"]
    info: dict[str, Any] = {
        "submission_client": "tutti",
        "music_service": row["source"],
        "duration_ms": row["duration_ms"],
        "ms_played": row["ms_played"],
        "recording_mbid": row["recording_mbid"],
        "artist_mbids": [row["artist_mbid"]] if row["artist_mbid"] else None,
        "release_mbid": row["release_mbid"],
        "isrc": row["isrc"],
        "spotify_id": row["spotify_uri"],
        "tutti_play_id": row["play_id"],
        "content_kind": row["content_kind"],
        "platform": row["platform"],
        "reason_start": row["reason_start"],
        "reason_end": row["reason_end"],
        "shuffle": row["shuffle"],
        "skipped": row["skipped"],
        "offline": row["offline"],
        "end_utc": row["end_utc"].isoformat() if row["end_utc"] else None,
    }
    metadata: dict[str, Any] = {
        "artist_name": row["artist"],
        "track_name": row["track"],
        "additional_info": {k: v for k, v in info.items() if v is not None},
    }
    if row["album"]:
        metadata["release_name"] = row["album"]
    return {"listened_at": int(when.timestamp()) if when else None, "track_metadata": metadata}


def _rows(store: Store, profile: str) -> Iterator[dict[str, Any]]:
    cursor = store.con.execute(
        f"SELECT play_id, {', '.join(PLAY_COLUMNS)} FROM ({store.active_plays_sql(profile)}) "
        "ORDER BY coalesce(start_utc, end_utc), play_id"
    )
    names = [d[0] for d in cursor.description]
    while batch := cursor.fetchmany(_BATCH):
        for values in batch:
            yield dict(zip(names, values, strict=True))


def _check_writable(out: Path) -> None:
    """Say which path cannot be written before anything is, rather than fail half-way."""
    if not out.parent.is_dir():
        missing = "is not a folder" if out.parent.exists() else "does not exist"
        raise UsageError(f"{out}: cannot write here: the folder {out.parent} {missing}")
    if out.is_dir():
        raise UsageError(f"{out}: cannot write here: it is a folder, give a file name")


def _cannot_write(out: Path, exc: BaseException) -> UsageError:
    said = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0]
    return UsageError(f"{out}: cannot write here ({said})")


def export_jsonl(store: Store, profile: str, out: Path) -> int:
    """Write every play of ``profile`` as one ListenBrainz-shaped listen per line; returns the count."""
    store.require_profile(profile)
    _check_writable(out)
    count = 0
    try:
        with out.open("wb") as fp:
            for row in _rows(store, profile):
                fp.write(orjson.dumps(_listen(row)))
                fp.write(b"\n")
                count += 1
    except OSError as exc:
        raise _cannot_write(out, exc) from exc
    return count


def export_parquet(store: Store, profile: str, out: Path) -> int:
    """Write every play of ``profile`` with all its fields to one Parquet file; returns the count."""
    store.require_profile(profile)
    _check_writable(out)
    query = (
        f"SELECT play_id, {', '.join(PLAY_COLUMNS)} FROM ({store.active_plays_sql(profile)}) "
        "ORDER BY coalesce(start_utc, end_utc), play_id"
    )
    try:
        run(store.con, f"COPY ({query}) TO {sql_literal(str(out))} (FORMAT parquet, COMPRESSION zstd)")
    except duckdb.IOException as exc:
        raise _cannot_write(out, exc) from exc
    row = store.con.execute(f"SELECT count(*) FROM read_parquet({sql_literal(str(out))})").fetchall()[0]
    return int(row[0]) if row else 0
