"""Importing exports into the store: detect, read, key, insert, de-duplicate; all in one transaction.

A play's identity (``play_id``, see ``tutti.identity``) is a hash of its own recorded fields, so importing the same
export again adds nothing; identical second-precision records (a few exact duplicates in Spotify's extended
history) are one play. Each play is stored with its name keys (``artist_key``, ``track_key``: ``tutti.names``),
computed here, once, for every layer above.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa

from tutti.identity import keyed_sql
from tutti.importers import ReadOptions
from tutti.importers._archive import open_export
from tutti.importers.detect import Unread, detect
from tutti.model import (
    PLAY_COLUMNS,
    PLAY_SCHEMA,
    ImportItem,
    ImportProblem,
    LibraryItem,
    PlayBatch,
    Playlist,
    ServiceRecap,
    Skipped,
)
from tutti.names import KEY_COLUMNS, key_columns
from tutti.store import Store
from tutti.store._sql import run, run_many
from tutti.store.dedupe import MergeCounts, merge_cross_source_copies

Progress = Callable[[str, int], None]


@dataclass
class ImportReport:
    """What one export gave: read, added, already there, merged, skipped (by reason), problems."""

    path: str
    formats: dict[str, int] = field(default_factory=dict)
    plays_read: int = 0
    added: int = 0
    already_stored: int = 0
    exact_duplicates: int = 0
    merged_certain: int = 0
    merged_probable: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[ImportProblem] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)
    library_items: int = 0
    playlists: int = 0
    service_recaps: int = 0

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["problem_count"] = len(self.problems)
        return data


@dataclass
class _Collected:
    tables: list[pa.Table] = field(default_factory=list)
    library: list[LibraryItem] = field(default_factory=list)
    playlists: list[Playlist] = field(default_factory=list)
    recaps: list[ServiceRecap] = field(default_factory=list)


def _collect(items: Iterable[ImportItem], report: ImportReport, into: _Collected, progress: Progress) -> None:
    skipped: Counter[str] = Counter(report.skipped)
    for item in items:
        if isinstance(item, PlayBatch):
            into.tables.append(item.table)
            report.plays_read += len(item)
            progress(item.file, len(item))
        elif isinstance(item, ImportProblem):
            report.problems.append(item)
        elif isinstance(item, Skipped):
            skipped[item.reason] += item.count
        elif isinstance(item, LibraryItem):
            into.library.append(item)
        elif isinstance(item, Playlist):
            into.playlists.append(item)
        elif isinstance(item, ServiceRecap):
            into.recaps.append(item)
    report.skipped = dict(skipped)


_KEY_STAGED_SQL = f"CREATE OR REPLACE TEMP TABLE keyed AS {keyed_sql('staged')}"

# Exact twins are rare: find them with a cheap aggregate, then drop all but the first of each.
_DROP_TWINS_SQL = """
DELETE FROM keyed WHERE (play_id, source_file, record_index) IN (
    SELECT (play_id, source_file, record_index) FROM keyed
    WHERE play_id IN (SELECT play_id FROM keyed GROUP BY play_id HAVING count(*) > 1)
    QUALIFY row_number() OVER (PARTITION BY play_id ORDER BY source_file, record_index) > 1
)
"""

_STORED_COLUMNS = (*PLAY_COLUMNS, *KEY_COLUMNS)
_INSERT_NEW_SQL = f"""
INSERT INTO plays (play_id, profile, import_id, {", ".join(_STORED_COLUMNS)})
SELECT k.play_id, $profile, $import_id, {", ".join("k." + c for c in _STORED_COLUMNS)}
FROM keyed k
WHERE NOT EXISTS (SELECT 1 FROM plays p WHERE p.profile = $profile AND p.play_id = k.play_id)
"""


def _hash(*parts: object) -> str:
    return hashlib.md5(orjson.dumps(parts, default=str), usedforsecurity=False).hexdigest()


def _store_library(store: Store, profile: str, collected: _Collected) -> None:
    con = store.con
    for item in collected.library:
        item_id = _hash(item.source, item.kind, item.name, item.artist, item.album, item.uri, item.added_utc)
        run(
            con,
            """INSERT INTO library_items SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
               WHERE NOT EXISTS (SELECT 1 FROM library_items WHERE profile = ? AND item_id = ?)""",
            [
                item_id,
                profile,
                item.source,
                item.source_file,
                item.kind,
                item.name,
                item.artist,
                item.album,
                item.uri,
                item.added_utc,
                profile,
                item_id,
            ],
        )
    for playlist in collected.playlists:
        entries = [asdict(e) for e in playlist.entries]
        playlist_id = _hash(playlist.source, playlist.name, playlist.last_modified, entries)
        exists = con.execute(
            "SELECT count(*) FROM playlists WHERE profile = ? AND playlist_id = ?", [profile, playlist_id]
        ).fetchall()[0]
        if exists and exists[0]:
            continue
        run(
            con,
            "INSERT INTO playlists VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                playlist_id,
                profile,
                playlist.source,
                playlist.source_file,
                playlist.name,
                playlist.last_modified,
                playlist.description,
                playlist.followers,
            ],
        )
        run_many(
            con,
            "INSERT INTO playlist_entries VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [playlist_id, e.position, e.track, e.artist, e.album, e.uri, e.content_kind, e.added_date]
                for e in playlist.entries
            ],
        )
    for recap in collected.recaps:
        recap_id = _hash(recap.source, recap.year, recap.raw_json)
        run(
            con,
            """INSERT INTO service_recaps SELECT ?, ?, ?, ?, ?, ?
               WHERE NOT EXISTS (SELECT 1 FROM service_recaps WHERE profile = ? AND recap_id = ?)""",
            [
                recap_id,
                profile,
                recap.source,
                recap.source_file,
                recap.year,
                recap.raw_json,
                profile,
                recap_id,
            ],
        )


def _next_import_id(store: Store) -> int:
    row = store.con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0]
    return int(row[0]) if row else 1


def insert_items(
    store: Store,
    profile: str,
    label: str,
    items: Iterable[ImportItem],
    progress: Progress | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Store what importers yielded for one export (call inside ``store.transaction()``)."""
    report = report or ImportReport(path=label)
    collected = _Collected()
    _collect(items, report, collected, progress or (lambda _f, _n: None))
    import_id = _next_import_id(store)
    staged = pa.concat_tables(collected.tables) if collected.tables else PLAY_SCHEMA.empty_table()
    artist_keys, track_keys = key_columns(staged)
    staged = staged.append_column(KEY_COLUMNS[0], artist_keys).append_column(KEY_COLUMNS[1], track_keys)
    con = store.con
    con.register("staged", staged)
    try:
        run(con, _KEY_STAGED_SQL)
    finally:
        con.unregister("staged")
    run(con, _DROP_TWINS_SQL)
    distinct = int(con.execute("SELECT count(*) FROM keyed").fetchall()[0][0])
    report.exact_duplicates = report.plays_read - distinct
    run(con, _INSERT_NEW_SQL, {"profile": profile, "import_id": import_id})
    run(con, "DROP TABLE keyed")
    report.added = int(
        con.execute("SELECT count(*) FROM plays WHERE profile = ? AND import_id = ?", [profile, import_id]).fetchall()[
            0
        ][0]
    )
    report.already_stored = distinct - report.added

    _store_library(store, profile, collected)
    report.library_items = len(collected.library)
    report.playlists = len(collected.playlists)
    report.service_recaps = len(collected.recaps)

    merges: MergeCounts = merge_cross_source_copies(store, profile, import_id)
    report.merged_certain, report.merged_probable = merges.certain, merges.probable
    run(
        con,
        "INSERT INTO imports VALUES (?, ?, ?, now(), ?, ?, ?)",
        [
            import_id,
            profile,
            label,
            report.plays_read,
            report.added,
            orjson.dumps(report.to_json(), default=str).decode(),
        ],
    )
    return report


def _import_one(store: Store, profile: str, path: Path, options: ReadOptions, progress: Progress) -> ImportReport:
    detected = detect(open_export(path))
    report = ImportReport(path=str(path), unread=detected.unread)

    def items() -> Iterator[ImportItem]:
        for importer, entries in detected.claims:
            report.formats[importer.NAME] = len(entries)
            yield from importer.read(entries, options)

    return insert_items(store, profile, str(path), items(), progress, report)


def import_paths(
    store: Store,
    profile: str,
    paths: Sequence[Path],
    options: ReadOptions | None = None,
    progress: Progress | None = None,
) -> list[ImportReport]:
    """Import every path into ``profile``. One transaction: any error leaves the store as it was."""
    options = options or ReadOptions()
    with store.transaction():
        store.ensure_profile(profile)
        return [_import_one(store, profile, path, options, progress or (lambda _f, _n: None)) for path in paths]
