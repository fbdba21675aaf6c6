"""Withdrawal: a member leaves, and their data goes with them, provably, even if the server dies half-way.

A withdrawal is a recorded state machine (``models.Withdrawal``), each step committed before the next begins and
each safe to run again:

1. **decided** (one transaction, under the cooperative's lock): the member becomes *withdrawn* (so they can no
   longer log in, contribute or be pooled, and are kept out of every future sale), their sealed email, password
   hash, logins, API tokens and waitlist place go, their pool catalog rows go, their contributions keep only
   ids, counts and points (the ledger needs them; fingerprints, sealed reports and reason codes are blanked, an
   upload still pending is rejected unchecked) and the audit log records ``member-withdrew``;
2. **files-removed**: their pool folder, their folder of sealed plays and uploads, the scratch folders of
   their validation jobs and the messages about them still in the outbox are deleted: only now, after the
   commit that decided it, so a rollback never loses a file and a crash never leaves a file the database still
   counts;
3. **key-destroyed**: their wrapped data key is wiped (``key-destroyed`` in the log): any copy of their files,
   sealed email or reports that survived somewhere (a backup, a database page) can no longer be opened;
4. **done**, after the database is scrubbed (``scrub``): SQLite's WAL checkpointed and truncated (every
   connection runs with ``secure_delete``, so the freed bytes in the database file are zeroed), PostgreSQL's
   affected tables vacuumed.

A withdrawal interrupted at any point is completed when the cooperative next opens (``complete_pending``, from
``bootstrap.open_cooperative``, which the server, the workers and the operator's commands run), and each step
happens exactly once: the audit events are written in the transactions that advance the step.

Test hook: with ``TUTTI_COOP_CRASH_AT`` set to a name of ``CRASH_POINTS``, the process kills itself (SIGKILL) at
that point; the crash tests use it, and it is never set in production.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.orm import Session

from tutti.coop import audit, crypto, db, mail
from tutti.coop.actions import WITHDRAW, require
from tutti.coop.contributions import cases
from tutti.coop.contributions.report import erased as erased_report
from tutti.coop.contributions.sealing import member_folder
from tutti.coop.db import lock_cooperative
from tutti.coop.members import emails
from tutti.coop.members.accounts import logout_everywhere
from tutti.coop.models import (
    ApiToken,
    Consent,
    Contribution,
    ContributionStatus,
    HistoryShingle,
    Member,
    PoolFile,
    SaleOptOut,
    Status,
    WaitlistEntry,
    Withdrawal,
    WithdrawalStep,
    utcnow,
)
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of
from tutti.coop.scratch import scratch_root
from tutti.coop.settings import CoopSettings

CRASH_AT = "TUTTI_COOP_CRASH_AT"
CRASH_POINTS = ("decided", "removing-files", "files-removed", "key-destroyed", "scrubbed", "done")
# Tables whose rows a withdrawal deletes or blanks: PostgreSQL vacuums them afterwards.
SCRUBBED_TABLES = ("member", "member_key", "contribution", "pool_file", "login_session", "api_token", "waitlist_entry")
_log = logging.getLogger(__name__)


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


def _crash_point(name: str) -> None:
    if os.environ.get(CRASH_AT) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def withdraw(
    session: Session, settings: CoopSettings, member: Member, *, now: datetime | None = None
) -> WithdrawalProof:
    """Erase the member's data and close their membership, every step to the end (see the module docstring).

    This commits ``session`` (whatever else it holds) at each step; the session is usable afterwards.
    """
    require(WITHDRAW, member)
    member_id = member.id
    decide(session, settings, member, now=now)
    session.commit()
    _crash_point(WithdrawalStep.DECIDED.value)
    complete(session, settings, member_id, now=now)
    return proof_of(session, member_id)


def decide(session: Session, settings: CoopSettings, member: Member, *, now: datetime | None = None) -> None:
    """Step 1, in the caller's transaction (which must commit before files go): see the module docstring."""
    when = now or utcnow()
    lock_cooperative(session)
    if session.get(Withdrawal, member.id) is not None:
        return  # decided already (a second submission of the form)
    before = catalog.counts(session)
    files = catalog.member_counts(session, member).files
    session.execute(delete(PoolFile).where(PoolFile.member_id == member.id))
    blobs = 0
    for contribution in session.scalars(select(Contribution).where(Contribution.member_id == member.id)):
        blobs += (contribution.blob_path is not None) + (contribution.upload_path is not None)
        if contribution.status in (ContributionStatus.PENDING, ContributionStatus.HELD):
            contribution.status = ContributionStatus.REJECTED
        contribution.blob_path = contribution.upload_path = None
        contribution.fingerprint = contribution.sealed_report = None
        contribution.report = erased_report(contribution.id, contribution.status, when).to_json()
        contribution.reasons = []
    # Before their shingles leave the index: the copies of their history others hold are found by them.
    cases.on_withdrawal(session, settings, member, now=when)
    session.execute(delete(HistoryShingle).where(HistoryShingle.member_id == member.id))
    logout_everywhere(session, member)
    session.execute(
        update(ApiToken).where(ApiToken.member_id == member.id, ApiToken.revoked_utc.is_(None)).values(revoked_utc=when)
    )
    session.execute(delete(WaitlistEntry).where(WaitlistEntry.member_id == member.id))
    # Their consent and opt-outs go too: a withdrawn member is in no sale whatever they chose.
    session.execute(delete(Consent).where(Consent.member_id == member.id))
    session.execute(delete(SaleOptOut).where(SaleOptOut.member_id == member.id))
    from tutti.coop.ledger import erasure  # the ledger depends on members, not the reverse

    erasure.on_withdrawal(session, member, now=when)
    emails.forget(member)
    member.password_hash = None
    member.status = Status.WITHDRAWN
    member.withdrawn_utc = when
    session.add(
        Withdrawal(
            member_id=member.id,
            step=WithdrawalStep.DECIDED,
            member_rows=before.per_member.get(member.pseudonym, 0),
            pool_rows=before.total,
            pool_files=files,
            blobs=blobs,
            started_utc=when,
        )
    )
    session.flush()
    audit.record(session, audit.MemberWithdrew(member_id=member.id), now=when)


def _advance(session: Session, member_id: str, frm: WithdrawalStep, to: WithdrawalStep, when: datetime) -> bool:
    """Move the withdrawal from ``frm`` to ``to`` in the caller's transaction; False if another process did."""
    done = session.execute(
        update(Withdrawal)
        .where(Withdrawal.member_id == member_id, Withdrawal.step == frm)
        .values(step=to, finished_utc=when if to is WithdrawalStep.DONE else None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(done, "rowcount", 0))


def _folders(session: Session, settings: CoopSettings, member: Member) -> list[Path]:
    """Every folder that holds files of the member: their pool folder, sealed files, validation scratch."""
    jobs = session.scalars(
        select(Contribution.job_id).where(Contribution.member_id == member.id, Contribution.job_id.is_not(None))
    )
    scratch = scratch_root(settings)
    found = [pool_of(settings).member_dir(member.pseudonym), member_folder(settings, member.id)]
    for job_id in jobs:
        found += sorted(scratch.glob(f"job-{job_id}-*")) if scratch.is_dir() else []
    return found


def _remove_files(session: Session, settings: CoopSettings, member_id: str, when: datetime) -> None:
    member = session.get_one(Member, member_id)
    folders = _folders(session, settings, member)
    session.commit()  # no transaction open while the files go
    for number, folder in enumerate(folders):
        shutil.rmtree(folder, ignore_errors=True)
        if number == 0:
            _crash_point("removing-files")
    for message in mail.kept_about(settings, member_id):
        message.unlink(missing_ok=True)
    _advance(session, member_id, WithdrawalStep.DECIDED, WithdrawalStep.FILES_REMOVED, when)
    session.commit()
    _crash_point(WithdrawalStep.FILES_REMOVED.value)


def _destroy_key(session: Session, member_id: str, when: datetime) -> None:
    lock_cooperative(session)
    if _advance(session, member_id, WithdrawalStep.FILES_REMOVED, WithdrawalStep.KEY_DESTROYED, when):
        crypto.destroy_member_key(session, session.get_one(Member, member_id), now=when)
    session.commit()
    _crash_point(WithdrawalStep.KEY_DESTROYED.value)


def complete(session: Session, settings: CoopSettings, member_id: str, *, now: datetime | None = None) -> None:
    """Run the steps a decided withdrawal has left (none once done), committing each; see the module docstring."""
    when = now or utcnow()
    row = session.get(Withdrawal, member_id, populate_existing=True)
    if row is None or row.step is WithdrawalStep.DONE:
        session.commit()
        return
    if row.step is WithdrawalStep.DECIDED:
        _remove_files(session, settings, member_id, when)
    if session.get_one(Withdrawal, member_id, populate_existing=True).step is WithdrawalStep.FILES_REMOVED:
        _destroy_key(session, member_id, when)
    if session.get_one(Withdrawal, member_id, populate_existing=True).step is WithdrawalStep.KEY_DESTROYED:
        session.commit()
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        if not scrub(engine):
            _log.warning("withdrawal: the database could not be scrubbed yet; it is retried at the next start")
            return
        _crash_point("scrubbed")
        _advance(session, member_id, WithdrawalStep.KEY_DESTROYED, WithdrawalStep.DONE, when)
        session.commit()
        _crash_point(WithdrawalStep.DONE.value)
        scrub(engine)  # the step's own write leaves the WAL empty too


def complete_pending(session: Session, settings: CoopSettings) -> int:
    """Complete every withdrawal a crash interrupted (at start-up); how many there were."""
    pending = list(session.scalars(select(Withdrawal.member_id).where(Withdrawal.step != WithdrawalStep.DONE)))
    for member_id in pending:
        complete(session, settings, member_id)
    return len(pending)


def scrub(engine: Engine) -> bool:
    """Push what was deleted out of the database's side files (``db.scrub``); False when SQLite could not
    checkpoint everything (a reader held on), to be retried."""
    return db.scrub(engine, SCRUBBED_TABLES)


def proof_of(session: Session, member_id: str) -> WithdrawalProof:
    """The member's withdrawal as done so far, measured from the pool's catalog and the key's row."""
    member = session.get_one(Member, member_id)
    row = session.get_one(Withdrawal, member_id)
    after = catalog.counts(session)
    destroyed = crypto.key_destroyed(session, member)
    session.commit()
    assert member.withdrawn_utc is not None
    return WithdrawalProof(
        member_id=member_id,
        member_rows_before=row.member_rows,
        member_rows_after=after.per_member.get(member.pseudonym, 0),
        pool_rows_before=row.pool_rows,
        pool_rows_after=after.total,
        pool_files_removed=row.pool_files,
        blobs_destroyed=row.blobs,
        key_destroyed=destroyed,
        status=member.status.value,
        withdrawn_utc=member.withdrawn_utc,
        excluded_from_sales=member.status is Status.WITHDRAWN,
    )
