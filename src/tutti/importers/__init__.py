"""Importers, one module per export format, listed once here.

Each module exports:

* ``NAME``: the format's short name (used in CLI output and docs),
* ``DESCRIPTION``: one line for people,
* ``sniff(head: bytes, name: str) -> bool``: whether a file belongs to this format, judged by its content
  (``head`` is its first bytes; ``name`` its path inside the export, a hint only),
* ``read(entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]``: the records of the files
  it claimed from one export, as PlayBatches, ImportProblems, Skipped counts and library data. It touches no
  store, console or network.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Protocol, cast

from tutti.importers import (
    apple_music,
    lastfm,
    listenbrainz,
    spotify_account,
    spotify_extended,
    youtube_music,
)
from tutti.importers._archive import Entry
from tutti.importers.options import ReadOptions
from tutti.model import ImportItem


class Importer(Protocol):
    NAME: str
    DESCRIPTION: str

    def sniff(self, head: bytes, name: str) -> bool: ...

    def read(self, entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]: ...


def _as_importer(module: ModuleType) -> Importer:
    return cast(Importer, module)


IMPORTERS: tuple[Importer, ...] = tuple(
    _as_importer(m) for m in (spotify_extended, spotify_account, lastfm, listenbrainz, apple_music, youtube_music)
)


@dataclass(frozen=True)
class FormatInfo:
    name: str
    description: str


def formats() -> list[FormatInfo]:
    return [FormatInfo(i.NAME, i.DESCRIPTION) for i in IMPORTERS]


__all__ = ["IMPORTERS", "Entry", "FormatInfo", "Importer", "ReadOptions", "formats"]
