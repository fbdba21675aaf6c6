"""Building a release and writing it for its buyer: Parquet files and a manifest, marked for that buyer.

``build_release`` runs a recipe's engine half over an opened pool table (only the members included in the sale)
and its finishing half in Python. ``write_release`` writes each table as Parquet and ``manifest.json`` beside them:
recipe and version, parameters, row counts, members included, the privacy spent, licence terms, a SHA-256 of every
file, and the buyer's watermark. The folder is written under a temporary name and renamed when whole, so a crash
leaves no half release.

**Watermark.** ``watermark = HMAC-SHA256(release key, b"tutti release watermark v1")`` (128 bits, hex) is written
into every file's Parquet metadata and the manifest. Stripping it does not hide a leaked copy: ``identify_leak``
also recognises a release by its content (a SHA-256 of each table's rows in canonical order) and, for row
releases, by its pseudonyms, which are keyed by the release key and so belong to one release to one buyer.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tutti.coop.engine.table import PoolTable
from tutti.coop.errors import InvalidInput
from tutti.coop.sales.privacy import release_pseudonym
from tutti.coop.sales.recipes import Recipe, ReleaseTables, parameters_to_dict

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
WATERMARK_KEY = b"tutti.watermark"


def build_release(recipe: Recipe, params: Any, table: PoolTable, release_key: bytes) -> ReleaseTables:
    """The recipe run over ``table`` (opened with the included members' keys only), protected as it says."""
    exprs = recipe.engine_tables(table.table, params, table.materialize)
    engine = {name: table.to_pyarrow(expr) for name, expr in exprs.items()}
    return recipe.finish(engine, params, release_key)


def watermark(release_key: bytes) -> str:
    return hmac.new(release_key, b"tutti release watermark v1", hashlib.sha256).digest()[:16].hex()


def content_digest(table: pa.Table) -> str:
    """SHA-256 of a table's rows in an order fixed by their values (metadata and row order do not change it)."""
    ordered = table.sort_by([(name, "ascending") for name in table.column_names])
    digest = hashlib.sha256()
    for row in ordered.to_pylist():
        digest.update(json.dumps(row, sort_keys=True, default=str).encode("utf-8") + b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class WrittenRelease:
    folder: Path
    manifest: dict[str, Any]


def write_release(
    folder: Path,
    built: ReleaseTables,
    *,
    recipe: Recipe,
    params: Any,
    release_key: bytes,
    licence: Mapping[str, Any],
    release_id: str,
) -> WrittenRelease:
    """The release's files and manifest in ``folder`` (which must not exist yet), written whole or not at all."""
    mark = watermark(release_key)
    staging = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.partial")
    staging.mkdir(parents=True)
    try:
        files = []
        for name, table in sorted(built.tables.items()):
            path = staging / f"{name}.parquet"
            marked = table.replace_schema_metadata({WATERMARK_KEY: mark.encode("ascii")})
            pq.write_table(marked, path, compression="zstd")
            files.append(
                {
                    "file": path.name,
                    "rows": table.num_rows,
                    "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                    "content_sha256": content_digest(table),
                }
            )
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "release": release_id,
            "recipe": {"name": recipe.name, "version": recipe.version, "title": recipe.title},
            "parameters": parameters_to_dict(params),
            "description": recipe.describe(params),
            "members_included": built.members,
            "privacy": {"epsilon": built.spend.epsilon, "delta": built.spend.delta},
            "licence": dict(licence),
            "watermark": mark,
            "files": files,
            "notes": list(built.notes),
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        for path in staging.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        staging.rename(folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return WrittenRelease(folder, manifest)


@dataclass(frozen=True)
class KnownRelease:
    """What the cooperative keeps to recognise one release: its key, its files' content digests, its members."""

    release_id: str
    release_key: bytes
    content_digests: frozenset[str]
    members: frozenset[str]  # pool pseudonyms of the members included


def identify_leak(path: Path, known: list[KnownRelease]) -> str | None:
    """The release a Parquet file found elsewhere came from, by watermark, content or pseudonyms; None if none.
    InvalidInput naming the file if it is not a Parquet file that can be read."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as error:
        raise InvalidInput(f"{path}: not a readable Parquet file ({error})") from None
    mark = (table.schema.metadata or {}).get(WATERMARK_KEY, b"").decode("ascii", "replace")
    for release in known:
        if mark and mark == watermark(release.release_key):
            return release.release_id
    plain = table.replace_schema_metadata(None)
    digest = content_digest(plain)
    for release in known:
        if digest in release.content_digests:
            return release.release_id
    if "member" in table.column_names:
        found = set(table.column("member").to_pylist())
        for release in known:
            ours = {release_pseudonym(release.release_key, m) for m in release.members}
            if found and len(found & ours) >= max(1, len(found) // 2):
                return release.release_id
    return None
