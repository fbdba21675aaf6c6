"""The pool's catalog: one ``pool_file`` row per pool file, written and deleted in the same transaction as the file.

A pool file and its row come and go together: the file follows the database transaction (``tutti.coop.staged``),
so a commit makes both appear (or go) and a rollback or a crash leaves neither. Questions about the pool ("how
many plays", "whose files", "under which key") are answered from the rows alone: no folder is listed and no file
opened. ``reconcile`` checks the promise the other way round, comparing the rows with the folder and each file's
plain footer; housekeeping and the crash tests use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from tutti.coop import staged
from tutti.coop.models import Contribution, ContributionStatus, Member, MemberKey, PoolFile, utcnow
from tutti.coop.pool.contract import POOL_SCHEMA_VERSION
from tutti.coop.pool.files import MemberCounts, Pool, PoolCounts
from tutti.identity import IDENTITY_VERSION


def add(
    session: Session,
    pool: Pool,
    member: Member,
    contribution_id: str,
    plays: pa.Table,
    member_key: bytes,
    *,
    now: datetime | None = None,
) -> PoolFile:
    """Write ``plays`` (pool rows) as the member's file for one contribution, and its catalog row, in the
    caller's transaction: both exist once it commits, neither if it rolls back."""
    key_row = session.scalars(select(MemberKey).where(MemberKey.member_id == member.id)).one()
    written = pool.write(member.pseudonym, contribution_id, plays, member_key, session=session)
    row = PoolFile(
        path=str(written.path.relative_to(pool.root)),
        member_id=member.id,
        contribution_id=contribution_id,
        member_key_id=key_row.id,
        rows=written.rows,
        bytes=written.bytes,
        schema_version=POOL_SCHEMA_VERSION,
        identity_version=IDENTITY_VERSION,
        created_utc=now or utcnow(),
    )
    session.add(row)
    session.flush()
    return row


def remove_member(session: Session, pool: Pool, member: Member) -> int:
    """Delete every pool file of the member and their rows (files go when the caller commits); how many."""
    rows = list(session.scalars(select(PoolFile).where(PoolFile.member_id == member.id)))
    for row in rows:
        staged.delete_on_commit(session, pool.root / row.path)
        session.delete(row)
    folder = pool.member_dir(member.pseudonym)
    if folder.exists():
        staged.delete_folder_on_commit(session, folder)
    session.flush()
    return len(rows)


def remove_contribution(session: Session, pool: Pool, contribution_id: str) -> int:
    """Delete the pool file of one contribution and its row (the file goes when the caller commits); how many."""
    rows = list(session.scalars(select(PoolFile).where(PoolFile.contribution_id == contribution_id)))
    for row in rows:
        staged.delete_on_commit(session, pool.root / row.path)
        session.delete(row)
    session.flush()
    return len(rows)


def counts(session: Session) -> PoolCounts:
    """Plays per member pseudonym and in total."""
    per_member = {
        pseudonym: int(rows)
        for pseudonym, rows in session.execute(
            select(Member.pseudonym, func.sum(PoolFile.rows))
            .join(Member, Member.id == PoolFile.member_id)
            .group_by(Member.pseudonym)
        )
    }
    return PoolCounts(per_member, sum(per_member.values()))


def member_counts(session: Session, member: Member) -> MemberCounts:
    plays, files = session.execute(
        select(func.coalesce(func.sum(PoolFile.rows), 0), func.count(PoolFile.id)).where(
            PoolFile.member_id == member.id
        )
    ).one()
    return MemberCounts(int(plays), int(files))


def files_of(session: Session, pool: Pool, member_ids: list[str]) -> dict[str, list[Path]]:
    """The pool files of the given members, by pseudonym (members without files are left out)."""
    return _files_where(session, pool, PoolFile.member_id.in_(member_ids))


def files_of_pseudonyms(session: Session, pool: Pool, pseudonyms: Iterable[str]) -> dict[str, list[Path]]:
    """The pool files of the members with these pseudonyms, by pseudonym (members without files are left out)."""
    return _files_where(session, pool, Member.pseudonym.in_(list(pseudonyms)))


def _files_where(session: Session, pool: Pool, condition: ColumnElement[bool]) -> dict[str, list[Path]]:
    """Files to open (a sale's, through ``engine.source.pool_source``): never those of a contribution held for the
    stewards (a copy case; a copy of a withdrawn member's history), whatever rows are left of it."""
    found: dict[str, list[Path]] = {}
    rows = session.execute(
        select(Member.pseudonym, PoolFile.path)
        .join(Member, Member.id == PoolFile.member_id)
        .join(Contribution, Contribution.id == PoolFile.contribution_id)
        .where(condition, Contribution.status != ContributionStatus.HELD)
        .order_by(Member.pseudonym, PoolFile.path)
    )
    for pseudonym, path in rows:
        found.setdefault(pseudonym, []).append(pool.root / path)
    return found


@dataclass(frozen=True)
class Reconciliation:
    """Where the catalog and the folder disagree: rows without a file, files without a row, wrong row counts."""

    missing_files: tuple[str, ...]
    unrecorded_files: tuple[str, ...]
    wrong_counts: tuple[str, ...]

    @property
    def consistent(self) -> bool:
        return not (self.missing_files or self.unrecorded_files or self.wrong_counts)


def reconcile(session: Session, pool: Pool) -> Reconciliation:
    """Compare every catalog row with the file it names (its plain footer's row count) and every file with its row."""
    recorded = {row.path: row.rows for row in session.scalars(select(PoolFile))}
    present = {str(path.relative_to(pool.root)): path for path in pool.all_files()}
    missing = tuple(sorted(set(recorded) - set(present)))
    unrecorded = tuple(sorted(set(present) - set(recorded)))
    wrong = tuple(
        sorted(p for p in set(recorded) & set(present) if pq.read_metadata(present[p]).num_rows != recorded[p])
    )
    return Reconciliation(missing, unrecorded, wrong)
