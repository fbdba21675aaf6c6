"""The listener's local store: one DuckDB file holding every profile's plays and library."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from tutti.errors import StoreError, UsageError
from tutti.settings import STORE_FILE, home_dir
from tutti.store._sql import run
from tutti.store.schema import migrate

# A stored play counts unless an active merge has folded it into another copy of the same listening event.
# (An uncorrelated NOT IN runs as one hash anti-join: ~20 ms for a million plays, against ~150 ms correlated.)
NOT_MERGED_SQL = "p.play_id NOT IN (SELECT duplicate_id FROM merges WHERE profile = $profile AND NOT undone)"
ACTIVE_PLAYS_SQL = f"SELECT p.* FROM plays p WHERE p.profile = $profile AND {NOT_MERGED_SQL}"


@dataclass(frozen=True)
class ProfileInfo:
    name: str
    events: int
    first_utc: datetime | None
    last_utc: datetime | None


def checked_profile(profile: str) -> str:
    """A profile name is letters, digits, '-' and '_' only."""
    if not profile or len(profile) > 64 or not profile.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"profile name {profile!r} must be 1-64 letters, digits, '-' or '_'")
    return profile


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class Store:
    """An open store. Use ``open_store``; close it (or use it as a context manager) when done."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None) -> None:
        self.con = con
        self.path = path

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: an error inside leaves the store exactly as it was."""
        run(self.con, "BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            run(self.con, "ROLLBACK")
            raise
        run(self.con, "COMMIT")

    def ensure_profile(self, profile: str) -> None:
        checked_profile(profile)
        run(self.con, "INSERT INTO profiles (name) VALUES (?) ON CONFLICT DO NOTHING", [profile])

    def has_profile(self, profile: str) -> bool:
        row = self.con.execute("SELECT count(*) FROM profiles WHERE name = ?", [profile]).fetchall()[0]
        return bool(row and row[0])

    def require_profile(self, profile: str) -> None:
        if not self.has_profile(profile):
            known = ", ".join(p.name for p in self.profiles()) or "none yet"
            raise UsageError(f"no profile named {profile!r} (profiles: {known}); import something first")

    def active_plays_sql(self, profile: str) -> str:
        """A SELECT of the profile's plays after de-duplication, to use as a subquery."""
        return ACTIVE_PLAYS_SQL.replace("$profile", sql_literal(checked_profile(profile)))

    def profiles(self) -> list[ProfileInfo]:
        rows = self.con.execute(
            """
            SELECT pr.name, count(p.play_id), min(coalesce(p.start_utc, p.end_utc)),
                   max(coalesce(p.start_utc, p.end_utc))
            FROM profiles pr
            LEFT JOIN plays p ON p.profile = pr.name AND NOT EXISTS (
                SELECT 1 FROM merges m WHERE m.profile = p.profile AND m.duplicate_id = p.play_id AND NOT m.undone)
            GROUP BY pr.name ORDER BY pr.name
            """
        ).fetchall()
        return [ProfileInfo(name, events, first, last) for name, events, first, last in rows]


def damaged(path: Path | None, exc: duckdb.Error) -> StoreError:
    """The one message for a store file DuckDB cannot read: which file, what DuckDB said, what to do."""
    said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    where = str(path) if path else "the in-memory store"
    return StoreError(f"{where}: the store is damaged and cannot be read ({said}); move it away and import again")


def open_store(home: Path | None = None, *, memory: bool = False) -> Store:
    """Open (creating when needed) the store in ``home`` (see ``settings.home_dir``), or an in-memory one.

    A store file that cannot be opened or read (another program holds it, it is not a DuckDB file, it was cut
    short) raises ``StoreError`` naming the file, never a DuckDB exception.
    """
    path: Path | None = None
    try:
        if memory:
            con = duckdb.connect(":memory:")
        else:
            folder = home_dir(home)
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / STORE_FILE
            con = duckdb.connect(str(path))
    except (duckdb.Error, OSError) as exc:
        where = path or home_dir(home)
        raise StoreError(f"{where}: cannot open the store ({str(exc).splitlines()[0]})") from exc
    try:
        run(con, "SET TimeZone = 'UTC'")
        migrate(con)
    except duckdb.Error as exc:
        # A file cut short opens, then fails on its first read: the catalogue is at its end.
        con.close()
        raise damaged(path, exc) from exc
    return Store(con, path)


__all__ = [
    "ACTIVE_PLAYS_SQL",
    "NOT_MERGED_SQL",
    "ProfileInfo",
    "Store",
    "checked_profile",
    "damaged",
    "open_store",
    "sql_literal",
]
