"""What an upload is measured against on its member's side: the plays of theirs already pooled.

Loaded in a short session before the upload is checked (``load``), so the checks run holding no database
connection, and read again in the transaction that decides (``refresh``): another upload of the same member
pooled meanwhile changes which plays are new. Other members' histories are not loaded at all: the copy check asks
the cooperative's index of shingles in the deciding transaction (``matching``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pyarrow as pa
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import crypto
from tutti.coop.contributions.queries import report_of
from tutti.coop.models import Contribution, ContributionStatus, Member, PoolFile
from tutti.coop.pool.files import Pool, pool_of
from tutti.coop.settings import CoopSettings


@dataclass(frozen=True)
class Known:
    """The uploading member (and their key) and their pool files."""

    member_id: str
    pseudonym: str
    member_key: bytes = field(repr=False, compare=False)
    own_files: tuple[str, ...]
    pool: Pool = field(compare=False)

    def own_plays(self) -> pa.Table:
        """The member's plays already in the pool (pool rows), decrypted with their key."""
        return self.pool.member_table(self.pseudonym, self.member_key)


def _own_files(session: Session, member_id: str) -> tuple[str, ...]:
    return tuple(session.scalars(select(PoolFile.path).where(PoolFile.member_id == member_id).order_by(PoolFile.path)))


def load(session: Session, settings: CoopSettings, member: Member) -> Known:
    """What the upload of ``member`` is measured against, read through ``session``."""
    return Known(
        member_id=member.id,
        pseudonym=member.pseudonym,
        member_key=crypto.member_key(session, member, settings),
        own_files=_own_files(session, member.id),
        pool=pool_of(settings),
    )


def refresh(session: Session, known: Known) -> Known:
    """``known`` as it stands now (in the deciding transaction); equal to it when nothing changed."""
    return dataclasses.replace(known, own_files=_own_files(session, known.member_id))


def prior_raw(session: Session, member_id: str) -> int:
    """The member's raw points (before diminishing returns) over their accepted contributions so far."""
    rows = session.scalars(
        select(Contribution).where(
            Contribution.member_id == member_id, Contribution.status == ContributionStatus.ACCEPTED
        )
    )
    reports = (report_of(session, row) for row in rows)
    return sum(report.score.raw for report in reports if report.score is not None)
