"""Which importer reads which file of an export, decided by content.

A file reached twice in one export (a zip beside the folder it unpacked to, a CSV beside its own zip, a zip
holding two copies of one file) is read once: two files with the same bytes are the same file, wherever they
sit. Files that differ are all read, even when their names are the same.
"""

from __future__ import annotations

from collections import Counter
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


def _repeats(entries: Sequence[Entry]) -> dict[str, str]:
    """Each entry whose bytes repeat an earlier entry's, with the path of that first one."""
    sizes = Counter(e.size for e in entries)
    first_by_digest: dict[str, str] = {}
    repeats: dict[str, str] = {}
    for entry in entries:
        if sizes[entry.size] > 1:  # only files of one size can have the same bytes: the rest are never hashed
            first = first_by_digest.setdefault(entry.digest(), entry.path)
            if first != entry.path:
                repeats[entry.path] = first
    return repeats


def detect(entries: Sequence[Entry]) -> Detected:
    """Group an export's files by importer; list the rest with the reason they are not read."""
    by_importer: dict[str, tuple[Importer, list[Entry]]] = {}
    unread: list[Unread] = []
    candidates = [e for e in entries if e.basename.lower() not in PERSONAL_FILES]
    repeats = _repeats(candidates)
    for entry in entries:
        base = entry.basename.lower()
        if base in PERSONAL_FILES:
            unread.append(Unread(entry.path, "personal data, never read"))
            continue
        if entry.path in repeats:
            unread.append(Unread(entry.path, f"the same bytes as {repeats[entry.path]}, read once"))
            continue
        head = entry.head()
        for importer in IMPORTERS:
            if importer.sniff(head, entry.name):
                by_importer.setdefault(importer.NAME, (importer, []))[1].append(entry)
                break
        else:
            unread.append(Unread(entry.path, "not a listening-history file Tutti knows"))
    return Detected(claims=list(by_importer.values()), unread=unread)
