"""Run one importer over a path the way `tutti import` does, and collect what it yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pyarrow as pa

from tutti.importers import ReadOptions
from tutti.importers._archive import open_export
from tutti.model import (
    PLAY_SCHEMA,
    ImportProblem,
    LibraryItem,
    Play,
    PlayBatch,
    Playlist,
    ServiceRecap,
    Skipped,
    table_to_plays,
)


@dataclass
class ReadResult:
    table: pa.Table
    problems: list[ImportProblem] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    library: list[LibraryItem] = field(default_factory=list)
    playlists: list[Playlist] = field(default_factory=list)
    recaps: list[ServiceRecap] = field(default_factory=list)

    @property
    def plays(self) -> list[Play]:
        return table_to_plays(self.table)

    def skipped_count(self, reason_fragment: str = "") -> int:
        return sum(s.count for s in self.skipped if reason_fragment in s.reason)


def read_with(module: ModuleType, path: Path, options: ReadOptions | None = None) -> ReadResult:
    """Read every file of ``path`` that ``module`` sniffs as its own."""
    entries = [e for e in open_export(path) if module.sniff(e.head(), e.name)]
    assert entries, f"{module.NAME} claimed no file of {path}"
    tables: list[pa.Table] = []
    result = ReadResult(table=PLAY_SCHEMA.empty_table())
    for item in module.read(entries, options or ReadOptions()):
        if isinstance(item, PlayBatch):
            assert item.table.schema.equals(PLAY_SCHEMA), item.table.schema
            tables.append(item.table)
        elif isinstance(item, ImportProblem):
            result.problems.append(item)
        elif isinstance(item, Skipped):
            result.skipped.append(item)
        elif isinstance(item, LibraryItem):
            result.library.append(item)
        elif isinstance(item, Playlist):
            result.playlists.append(item)
        elif isinstance(item, ServiceRecap):
            result.recaps.append(item)
        else:  # pragma: no cover
            raise AssertionError(f"unexpected item {item!r}")
    if tables:
        result.table = pa.concat_tables(tables)
    return result
