"""Withdrawal: a member leaves, and their data goes with them, provably.

In one transaction (the caller commits): the member's pool folder is deleted, the sealed copies of their uploads
are deleted, the fingerprints and reports of their contributions are blanked (an upload still waiting for its
validation is rejected unchecked), their data key is destroyed (so any
copy of a pool file or upload that survived somewhere, a backup say, can no longer be opened), their logins and
API tokens end, their email address and password hash are removed and their status becomes *withdrawn*, which
keeps them out of every future sale. What stays: the contribution rows' ids, counts and points (the ledger
needs them) and the audit log, which never held their plays.

The files go with the transaction: they leave the pool's listings at once, are deleted when the caller commits,
and are put back if it rolls back (``tutti.coop.staged``), their catalog rows with them. The returned proof
counts the pool rows before and after, from the pool's catalog (``tutti.coop.pool.catalog``). It takes the
cooperative's lock first (``db.lock_cooperative``), as deciding a contribution does: a validation job deciding one
of the member's uploads meanwhile either finished before (and its pool file is erased here) or finds the
contribution no longer pending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tutti.coop import audit, crypto, staged
from tutti.coop.actions import WITHDRAW, require
from tutti.coop.contributions.report import erased as erased_report
from tutti.coop.contributions.sealing import member_folder
from tutti.coop.db import lock_cooperative
from tutti.coop.members.accounts import logout_everywhere
from tutti.coop.models import (
    ApiToken,
    Contribution,
    ContributionStatus,
    HistoryShingle,
    Member,
    MemberKey,
    Status,
    WaitlistEntry,
    utcnow,
)
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of
from tutti.coop.settings import CoopSettings


@dataclass(frozen=True)
class WithdrawalProof:
    """What withdrawal did, measured: pool rows of the member and in total, before and after."""

    member_id: str
    member_rows_before: int
    member_rows_after: int
    pool_rows_before: int
    pool_rows_after: int
    pool_files_removed: int
    blobs_destroyed: int
    key_destroyed: bool
    status: str
    withdrawn_utc: datetime
    excluded_from_sales: bool

    @property
    def erased(self) -> bool:
        return self.member_rows_after == 0 and self.key_destroyed


def withdraw(
    session: Session, settings: CoopSettings, member: Member, *, now: datetime | None = None
) -> WithdrawalProof:
    """Erase the member's data and close their membership; see the module docstring for exactly what goes."""
    require(WITHDRAW, member)
    when = now or utcnow()
    lock_cooperative(session)
    pool = pool_of(settings)
    before = catalog.counts(session)
    files_removed = catalog.remove_member(session, pool, member)

    blobs = 0
    for contribution in session.scalars(select(Contribution).where(Contribution.member_id == member.id)):
        for kept in (contribution.blob_path, contribution.upload_path):
            if kept:
                blobs += staged.delete_on_commit(session, settings.data_dir / kept)
        if contribution.status in (ContributionStatus.PENDING, ContributionStatus.HELD):
            contribution.status = ContributionStatus.REJECTED
        contribution.blob_path = contribution.upload_path = None
        contribution.fingerprint = None
        contribution.report = erased_report(contribution.id, contribution.status, when).to_json()
        contribution.reasons = []
    session.execute(delete(HistoryShingle).where(HistoryShingle.member_id == member.id))
    folder = member_folder(settings, member.id)
    if folder.exists():
        staged.delete_folder_on_commit(session, folder)

    crypto.destroy_member_key(session, member, now=when)
    logout_everywhere(session, member)
    session.execute(
        update(ApiToken).where(ApiToken.member_id == member.id, ApiToken.revoked_utc.is_(None)).values(revoked_utc=when)
    )
    session.execute(delete(WaitlistEntry).where(WaitlistEntry.member_id == member.id))
    member.status = Status.WITHDRAWN
    member.withdrawn_utc = when
    member.email = None
    member.password_hash = None
    session.flush()
    audit.record(session, audit.MemberWithdrew(member_id=member.id), now=when)

    after = catalog.counts(session)
    key_row = session.scalars(select(MemberKey).where(MemberKey.member_id == member.id)).one()
    return WithdrawalProof(
        member_id=member.id,
        member_rows_before=before.per_member.get(member.pseudonym, 0),
        member_rows_after=after.per_member.get(member.pseudonym, 0),
        pool_rows_before=before.total,
        pool_rows_after=after.total,
        pool_files_removed=files_removed,
        blobs_destroyed=blobs,
        key_destroyed=key_row.wrapped_key is None and key_row.destroyed_utc is not None,
        status=member.status.value,
        withdrawn_utc=when,
        excluded_from_sales=member.status is Status.WITHDRAWN,
    )
