"""Placeholder: being written."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from tutti.importers._archive import Entry
from tutti.importers.options import ReadOptions
from tutti.model import ImportItem

NAME = "apple_music"
DESCRIPTION = "apple_music"


def sniff(head: bytes, name: str) -> bool:
    return False


def read(entries: Sequence[Entry], options: ReadOptions) -> Iterator[ImportItem]:
    yield from ()
