"""What an upload is measured against: the member's plays already pooled and every other member's fingerprints.

Loaded in a short session before the upload is checked (``load``), so the checks run holding no database
connection, and read again in the transaction that decides (``refresh``): contributions accepted meanwhile (or
members who withdrew) change the copy check, and another upload of the same member pooled meanwhile changes
which plays are new. ``refresh`` reads ids first and fetches only fingerprints it has not seen.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field

import pyarrow as pa
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from tutti.coop import crypto
from tutti.coop.db import settings_of
from tutti.coop.errors import KeyDestroyed
from tutti.coop.models import Contribution, ContributionStatus, Member, PoolFile, Status
from tutti.coop.pool.files import Pool, pool_of
from tutti.coop.settings import CoopSettings


@dataclass(frozen=True)
class Print:
    """One accepted contribution of another member, by its fingerprint."""

    contribution_id: str
    member_id: str
    pseudonym: str
    fingerprint: bytes = field(repr=False)


@dataclass(frozen=True)
class Known:
    """The uploading member (and their key), their pool files, and the fingerprints of everybody else."""

    member_id: str
    pseudonym: str
    member_key: bytes = field(repr=False, compare=False)
    own_files: tuple[str, ...]
    others: tuple[Print, ...]
    pool: Pool = field(compare=False)
    # Another member's key, for an exact comparison with a small upload (None once destroyed).
    key_of: Callable[[str], bytes | None] = field(repr=False, compare=False)

    def own_plays(self) -> pa.Table:
        """The member's plays already in the pool (pool rows), decrypted with their key."""
        return self.pool.member_table(self.pseudonym, self.member_key)


def _others_query(member_id: str) -> Select[str, str, str]:
    return (
        select(Contribution.id, Contribution.member_id, Member.pseudonym)
        .join(Member, Member.id == Contribution.member_id)
        .where(
            Contribution.status == ContributionStatus.ACCEPTED,
            Contribution.member_id != member_id,
            Contribution.fingerprint.is_not(None),
            Member.status != Status.WITHDRAWN,
        )
        .order_by(Contribution.id)
    )


def _own_files(session: Session, member_id: str) -> tuple[str, ...]:
    return tuple(session.scalars(select(PoolFile.path).where(PoolFile.member_id == member_id).order_by(PoolFile.path)))


def _prints(session: Session, member_id: str, seen: dict[str, Print]) -> tuple[Print, ...]:
    rows = session.execute(_others_query(member_id)).all()
    wanted = [cid for cid, _m, _p in rows if cid not in seen]
    fetched: dict[str, bytes | None] = {}
    if wanted:
        query = select(Contribution.id, Contribution.fingerprint).where(Contribution.id.in_(wanted))
        fetched = {cid: print_ for cid, print_ in session.execute(query)}
    return tuple(
        seen.get(cid) or Print(cid, owner, pseudonym, bytes(fetched[cid] or b"")) for cid, owner, pseudonym in rows
    )


def key_reader(session: Session, settings: CoopSettings) -> Callable[[str], bytes | None]:
    """Members' keys read through ``session`` (None for a member whose key was destroyed)."""

    def key_of(member_id: str) -> bytes | None:
        other = session.get(Member, member_id)
        try:
            return crypto.member_key(session, other, settings) if other is not None else None
        except KeyDestroyed:
            return None

    return key_of


def load(
    session: Session, settings: CoopSettings, member: Member, *, key_of: Callable[[str], bytes | None] | None = None
) -> Known:
    """What the upload of ``member`` is measured against, read through ``session``."""
    return Known(
        member_id=member.id,
        pseudonym=member.pseudonym,
        member_key=crypto.member_key(session, member, settings),
        own_files=_own_files(session, member.id),
        others=_prints(session, member.id, {}),
        pool=pool_of(settings),
        key_of=key_of or key_reader(session, settings),
    )


def refresh(session: Session, known: Known) -> Known:
    """``known`` as it stands now (in the deciding transaction); equal to it when nothing changed."""
    seen = {p.contribution_id: p for p in known.others}
    return dataclasses.replace(
        known,
        own_files=_own_files(session, known.member_id),
        others=_prints(session, known.member_id, seen),
        key_of=key_reader(session, settings_of(session)),
    )
