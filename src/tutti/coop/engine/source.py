"""What one pool query may read: the files of the members it was given, and those members' keys, nothing more.

A ``PoolSource`` is the single gate between the pool and an engine. Its files come from the pool's catalog
(``tutti.coop.pool.catalog``), never from listing folders, and only for the members whose data keys the caller
passed; the engines decrypt with exactly those keys. A member left out of ``keys`` is neither listed nor
decryptable, which is where consent is enforced: the caller passes the members that agreed to this use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from tutti.coop.pool import catalog
from tutti.coop.pool.files import Pool


@dataclass(frozen=True)
class PoolSource:
    """Pool files by member pseudonym under ``root``, and the data key of every member they belong to."""

    root: Path
    files: Mapping[str, tuple[Path, ...]]
    keys: Mapping[str, bytes] = field(repr=False)

    def __post_init__(self) -> None:
        strangers = sorted(set(self.files) - set(self.keys))
        if strangers:
            raise ValueError(f"pool files of {len(strangers)} member(s) whose keys were not given")

    @property
    def paths(self) -> list[Path]:
        return [path for pseudonym in sorted(self.files) for path in self.files[pseudonym]]


def pool_source(session: Session, pool: Pool, keys: Mapping[str, bytes]) -> PoolSource:
    """The catalogued files of the members in ``keys`` (pseudonym -> member data key), ready to be opened."""
    found = catalog.files_of_pseudonyms(session, pool, keys)
    return PoolSource(pool.root, {p: tuple(paths) for p, paths in found.items()}, dict(keys))
