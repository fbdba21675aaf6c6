"""The queue's operations on the ``job`` table: enqueue, claim, heartbeat, complete, fail, retry, recover.

A job is *queued*, then *running* once a worker claims it under a lease (a fresh ``lease_token`` and an expiry the
worker pushes forward by heartbeats), then *done* or *failed*. A failure with a retry, or a lease that expired
(the worker died or stalled), puts it back in the queue; each claim counts one attempt, and past
``max_attempts`` the job fails with an error code.

Fencing: every write a worker makes about its job (progress, heartbeat, outcome) names its lease token and
changes nothing when the token is no longer the job's (``LeaseLost``). ``hold`` is the first statement of a
transaction that writes a job's effects: it takes the job row's lock (the database's write lock on SQLite), so
the lease cannot be taken over until that transaction ends, and ``complete`` marks the job done in the same
transaction. So at most one worker's outcome counts for a job, and a worker that lost its lease changes nothing.

Claiming is one statement on both databases: ``UPDATE job ... WHERE id = (SELECT id ... LIMIT 1 FOR UPDATE SKIP
LOCKED) AND status = 'queued' RETURNING ...``. PostgreSQL skips rows other workers are claiming; SQLite has one
writer at a time and ignores the row lock, and the repeated ``status = 'queued'`` keeps the claim exact there.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, func, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from tutti.coop.errors import Conflict
from tutti.coop.models import Job, JobStatus, UTCDateTime, utcnow

DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_LEASE = timedelta(seconds=60)
# A failed attempt waits RETRY_BASE * 2^(attempt - 1) before the next, at most RETRY_CAP.
RETRY_BASE = timedelta(seconds=15)
RETRY_CAP = timedelta(hours=1)
MAX_NOTE = 200
MAX_ERROR = 500
LEASE_EXPIRED = "lease-expired: its worker stopped answering, and no attempt is left"


class LeaseLost(Conflict):
    """The job is no longer held under this lease (it expired and was recovered, or the job is finished)."""


@dataclass(frozen=True)
class Lease:
    """A claimed job as its worker holds it: what to do, and the token that proves the claim is still current."""

    job_id: int
    kind: str
    payload: dict[str, Any]
    token: str
    attempt: int
    max_attempts: int
    duration: timedelta

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


def retry_delay(attempt: int) -> timedelta:
    """How long a job waits after its ``attempt``-th attempt failed (exponential, capped)."""
    delay: timedelta = RETRY_BASE * 2 ** max(attempt - 1, 0)
    return min(delay, RETRY_CAP)


def enqueue(
    session: Session,
    kind: str,
    payload: Mapping[str, Any] | None = None,
    *,
    unique_key: str | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    run_after: datetime | None = None,
    now: datetime | None = None,
) -> Job:
    """Add a job in the caller's transaction; with ``unique_key``, the job already holding that key if any.

    The key names the job's subject (a contribution; a kind of housekeeping and its period): whatever the
    existing job's state, it is the one job for that subject, so enqueueing twice, or from two processes at
    once, makes one job.
    """
    if unique_key is not None and (found := _by_key(session, unique_key)) is not None:
        return found
    when = now or utcnow()
    job = Job(
        kind=kind,
        payload=dict(payload or {}),
        status=JobStatus.QUEUED,
        unique_key=unique_key,
        attempts=0,
        max_attempts=max_attempts,
        run_after_utc=run_after or when,
        progress_done=0,
        progress_note="",
        created_utc=when,
    )
    try:
        with session.begin_nested():
            session.add(job)
    except IntegrityError:
        # Another process enqueued the same key between our look and our insert.
        if unique_key is None or (found := _by_key(session, unique_key)) is None:
            raise
        return found
    return job


def _by_key(session: Session, unique_key: str) -> Job | None:
    return session.scalars(select(Job).where(Job.unique_key == unique_key)).one_or_none()


def claimable(session: Session, kinds: Mapping[str, timedelta], *, now: datetime | None = None) -> bool:
    """Whether a job of these kinds waits to run: a read, so idle workers polling write nothing."""
    return bool(session.scalar(select(exists().where(*_waiting(kinds, now or utcnow())))))


def _waiting(kinds: Mapping[str, timedelta], now: datetime) -> tuple[Any, ...]:
    return (Job.status == JobStatus.QUEUED, Job.run_after_utc <= now, Job.kind.in_(list(kinds)))


def claim(session: Session, kinds: Mapping[str, timedelta], *, now: datetime | None = None) -> Lease | None:
    """Claim the oldest job due of one of ``kinds`` (each with its lease) for this worker; None when none is due.

    The caller commits at once: the claim is its own short transaction.
    """
    when = now or utcnow()
    token = secrets.token_hex(16)
    candidate = (
        select(Job.id)
        .where(*_waiting(kinds, when))
        .order_by(Job.run_after_utc, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    expires = case(
        {name: literal(when + lease, UTCDateTime()) for name, lease in kinds.items()},
        value=Job.kind,
        else_=literal(when + DEFAULT_LEASE, UTCDateTime()),
    )
    row = session.execute(
        update(Job)
        .where(Job.id == candidate, Job.status == JobStatus.QUEUED)
        .values(
            status=JobStatus.RUNNING,
            lease_token=token,
            lease_expires_utc=expires,
            attempts=Job.attempts + 1,
            started_utc=when,
            progress_done=0,
            progress_total=None,
            progress_note="",
        )
        .returning(Job.id, Job.kind, Job.payload, Job.attempts, Job.max_attempts),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    if row is None:
        return None
    job_id, kind, payload, attempts, max_attempts = row
    return Lease(job_id, kind, dict(payload or {}), token, attempts, max_attempts, kinds.get(kind, DEFAULT_LEASE))


def _fenced(session: Session, lease: Lease, **values: Any) -> None:
    changed = session.execute(
        update(Job)
        .where(Job.id == lease.job_id, Job.lease_token == lease.token, Job.status == JobStatus.RUNNING)
        .values(**values)
        .returning(Job.id),
        execution_options={"synchronize_session": False},
    ).one_or_none()
    if changed is None:
        raise LeaseLost(f"job {lease.job_id} is no longer held under this lease")


def heartbeat(session: Session, lease: Lease, *, now: datetime | None = None) -> None:
    """Push the lease's expiry forward; LeaseLost when it is no longer this worker's.

    As the first statement of a transaction it also *holds* the job: its row stays locked (on SQLite, the
    database) until that transaction ends, so no one can recover the job meanwhile.
    """
    _fenced(session, lease, lease_expires_utc=(now or utcnow()) + lease.duration)


hold = heartbeat


def progress(
    session: Session, lease: Lease, done: int, total: int | None, note: str = "", *, now: datetime | None = None
) -> None:
    """Record how far the job is (it counts as a heartbeat too); LeaseLost when the lease is gone."""
    _fenced(
        session,
        lease,
        progress_done=done,
        progress_total=total,
        progress_note=note[:MAX_NOTE],
        lease_expires_utc=(now or utcnow()) + lease.duration,
    )


def complete(
    session: Session, lease: Lease, result: Mapping[str, Any] | None = None, *, now: datetime | None = None
) -> None:
    """Mark the job done in the caller's transaction, the one that wrote its effects; LeaseLost if it is not ours."""
    _fenced(
        session,
        lease,
        status=JobStatus.DONE,
        progress_done=func.coalesce(Job.progress_total, Job.progress_done),
        result=dict(result or {}),
        error=None,
        lease_token=None,
        lease_expires_utc=None,
        finished_utc=now or utcnow(),
    )


def fail(session: Session, lease: Lease, error: str, *, retry: bool = True, now: datetime | None = None) -> JobStatus:
    """Record a failed attempt: queued again after ``retry_delay`` while attempts remain (and ``retry``), else
    failed for good. Returns the job's new status; LeaseLost if the lease is gone.

    ``error`` is a code and a sentence for the operator: never personal data or a traceback.
    """
    when = now or utcnow()
    again = retry and not lease.last_attempt
    _fenced(
        session,
        lease,
        status=JobStatus.QUEUED if again else JobStatus.FAILED,
        error=error[:MAX_ERROR],
        lease_token=None,
        lease_expires_utc=None,
        run_after_utc=when + retry_delay(lease.attempt) if again else Job.run_after_utc,
        finished_utc=None if again else when,
    )
    return JobStatus.QUEUED if again else JobStatus.FAILED


@dataclass(frozen=True)
class Recovered:
    """A job whose lease had expired: queued again, or failed because it had no attempt left."""

    job_id: int
    kind: str
    status: JobStatus


def recover(
    sessions: sessionmaker[Session],
    *,
    now: datetime | None = None,
    kinds: Collection[str] | None = None,
    gave_up: Callable[[Session, Job], None] | None = None,
) -> list[Recovered]:
    """Put back every running job (of ``kinds``, default all) whose lease expired; one with no attempt left fails
    (``lease-expired``).

    Each job in its own transaction, fenced by the expired token: if its worker finishes it meanwhile, that
    outcome stands and the job is left alone. ``gave_up`` runs in the transaction that fails a job, to settle
    what the job was for (a contribution that will not be validated): a worker recovers only the kinds it knows.
    """
    when = now or utcnow()
    expiring = [Job.status == JobStatus.RUNNING, Job.lease_expires_utc < when]
    if kinds is not None:
        expiring.append(Job.kind.in_(list(kinds)))
    with sessions() as session:
        expired = session.execute(select(Job.id, Job.lease_token).where(*expiring)).all()
    recovered = []
    for job_id, token in expired:
        attempts_left = Job.attempts < Job.max_attempts
        with sessions.begin() as session:
            row = session.execute(
                update(Job)
                .where(Job.id == job_id, Job.lease_token == token, Job.status == JobStatus.RUNNING)
                .values(
                    status=case((attempts_left, JobStatus.QUEUED.value), else_=JobStatus.FAILED.value),
                    error=case((attempts_left, Job.error), else_=LEASE_EXPIRED),
                    finished_utc=case((attempts_left, None), else_=when),
                    lease_token=None,
                    lease_expires_utc=None,
                )
                .returning(Job.kind, Job.status),
                execution_options={"synchronize_session": False},
            ).one_or_none()
            if row is None:
                continue  # its worker finished it (or another worker recovered it) meanwhile
            kind, status = row
            if status is JobStatus.FAILED and gave_up is not None:
                gave_up(session, session.get_one(Job, job_id, populate_existing=True))
            recovered.append(Recovered(job_id, kind, status))
    return recovered
