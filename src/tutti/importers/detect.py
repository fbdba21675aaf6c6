"""Which importer reads which file of an export, decided by content."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from tutti.importers import IMPORTERS, Importer
from tutti.importers._archive import Entry
from tutti.importers._personal import PERSONAL_FILES


@dataclass(frozen=True)
class Unread:
    """A file no importer reads, and why."""

    path: str
    reason: str


@dataclass
class Detected:
    """The files of one export, grouped by the importer that reads them."""

    claims: list[tuple[Importer, list[Entry]]] = field(default_factory=list)
    unread: list[Unread] = field(default_factory=list)


def detect(entries: Sequence[Entry]) -> Detected:
    """Group an export's files by importer; list the rest with the reason they are not read."""
    by_importer: dict[str, tuple[Importer, list[Entry]]] = {}
    unread: list[Unread] = []
    for entry in entries:
        base = entry.basename.lower()
        if base in PERSONAL_FILES:
            unread.append(Unread(entry.path, "personal data, never read"))
            continue
        head = entry.head()
        for importer in IMPORTERS:
            if importer.sniff(head, entry.name):
                by_importer.setdefault(importer.NAME, (importer, []))[1].append(entry)
                break
        else:
            unread.append(Unread(entry.path, "not a listening-history file Tutti knows"))
    return Detected(claims=list(by_importer.values()), unread=unread)
