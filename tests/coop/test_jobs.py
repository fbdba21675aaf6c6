"""The job queue on SQLite and PostgreSQL: claims, leases, fencing, retries, recovery, and several workers (threads
and processes) on one queue running each job exactly once."""

from __future__ import annotations

import dataclasses
import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import ROOT
from tests.coop.conftest import CoopDb, EmptyDb
from tests.helpers import job_kinds
from tutti.coop.jobs import LeaseLost, queue
from tutti.coop.jobs.queue import Lease
from tutti.coop.jobs.registry import KINDS
from tutti.coop.jobs.run import JobRun
from tutti.coop.jobs.worker import SCHEDULE_EVERY, Worker, period_key
from tutti.coop.models import Job, JobStatus, utcnow

T0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
LEASES = {kind.name: kind.lease for kind in job_kinds.KINDS}
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def db(coop_db: CoopDb) -> Iterator[CoopDb]:
    job_kinds.create_effects(coop_db.engine)
    job_kinds.RELEASE.clear()
    yield coop_db
    job_kinds.RELEASE.set()


def enqueue(
    db: CoopDb, kind: str = "test-record", *, key: str | None = None, now: datetime = T0, **payload: object
) -> int:
    with db.sessions.begin() as session:
        return queue.enqueue(session, kind, payload, unique_key=key, now=now).id


def claim(db: CoopDb, now: datetime = T0) -> Lease | None:
    with db.sessions.begin() as session:
        return queue.claim(session, LEASES, now=now)


def job(db: CoopDb, job_id: int) -> Job:
    with db.sessions() as session:
        return session.get_one(Job, job_id)


def test_a_unique_key_makes_one_job_per_subject(db: CoopDb) -> None:
    first = enqueue(db, key="validate:c1")
    assert enqueue(db, key="validate:c1") == first
    assert enqueue(db, key="validate:c2") != first
    # Once the job is done, its key still names it: the subject is not worked on twice.
    lease = claim(db)
    assert lease is not None and lease.job_id == first
    with db.sessions.begin() as session:
        queue.complete(session, lease)
    assert enqueue(db, key="validate:c1") == first
    with db.sessions() as session:
        assert len(session.scalars(select(Job)).all()) == 2


def test_a_claim_takes_the_oldest_due_job_under_a_fresh_lease(db: CoopDb) -> None:
    later = enqueue(db, now=T0 + MINUTE)
    first = enqueue(db)
    enqueue(db, "a-kind-this-worker-does-not-know")
    lease = claim(db)
    assert lease is not None and (lease.job_id, lease.attempt, lease.kind) == (first, 1, "test-record")
    row = job(db, first)
    assert row.status is JobStatus.RUNNING and row.lease_token == lease.token and row.attempts == 1
    assert row.lease_expires_utc == T0 + job_kinds.RECORD.lease and row.started_utc == T0
    # The later job is not due yet; the unknown kind is never claimed.
    assert claim(db) is None
    second = claim(db, T0 + MINUTE)
    assert second is not None and second.job_id == later and second.token != lease.token
    assert claim(db, T0 + 60 * MINUTE) is None


def test_progress_and_heartbeats_push_the_lease_and_show_how_far_it_is(db: CoopDb) -> None:
    job_id = enqueue(db)
    lease = claim(db)
    assert lease is not None
    with db.sessions.begin() as session:
        queue.progress(session, lease, 3, 9, "reading file 4 of 9", now=T0 + MINUTE)
    row = job(db, job_id)
    assert (row.progress_done, row.progress_total, row.progress_note) == (3, 9, "reading file 4 of 9")
    assert row.lease_expires_utc == T0 + MINUTE + lease.duration
    with db.sessions.begin() as session:
        queue.heartbeat(session, lease, now=T0 + 2 * MINUTE)
    assert job(db, job_id).lease_expires_utc == T0 + 2 * MINUTE + lease.duration


def test_a_worker_that_lost_its_lease_changes_nothing(db: CoopDb) -> None:
    job_id = enqueue(db)
    stale = claim(db)
    assert stale is not None
    # Its worker stalls past the lease; another worker recovers the job and claims it.
    late = T0 + stale.duration + MINUTE
    assert queue.recover(db.sessions, now=late) == [queue.Recovered(job_id, "test-record", JobStatus.QUEUED)]
    current = claim(db, late)
    assert current is not None and current.job_id == job_id and current.attempt == 2
    for write in (
        lambda s: queue.progress(s, stale, 1, 2, "still here"),
        lambda s: queue.heartbeat(s, stale),
        lambda s: queue.hold(s, stale),
        lambda s: queue.complete(s, stale, {"by": "stale"}),
        lambda s: queue.fail(s, stale, "stale: gave up"),
    ):
        with pytest.raises(LeaseLost), db.sessions.begin() as session:
            write(session)
    # The stale worker's settling transaction fails before writing anything.
    run = JobRun(stale, db.sessions, db.settings)
    with pytest.raises(LeaseLost), run.settle():
        raise AssertionError("the block of a lost lease must not run")
    assert job_kinds.effects_per_job(db.engine) == {}
    with db.sessions.begin() as session:
        queue.complete(session, current, {"by": "current"})
    row = job(db, job_id)
    assert row.status is JobStatus.DONE and row.result == {"by": "current"} and row.lease_token is None


def test_an_expired_lease_cannot_take_a_job_whose_outcome_is_being_written(db: CoopDb) -> None:
    job_id = enqueue(db)
    lease = claim(db)
    assert lease is not None
    recovered: list[queue.Recovered] = []
    with db.sessions.begin() as settling:
        queue.hold(settling, lease)
        # Meanwhile the lease expires and another worker tries to recover the job: it must wait, then find it done.
        other = threading.Thread(
            target=lambda: recovered.extend(queue.recover(db.sessions, now=T0 + 10 * lease.duration))
        )
        other.start()
        other.join(timeout=1)
        assert other.is_alive() or recovered == []
        queue.complete(settling, lease, {"by": "holder"})
    other.join(timeout=30)
    assert not other.is_alive() and recovered == []
    assert job(db, job_id).status is JobStatus.DONE


def test_a_stalled_worker_whose_job_was_taken_over_writes_nothing(db: CoopDb) -> None:
    job_id = enqueue(db, "test-pausing")
    stalled = threading.Thread(target=Worker(db.sessions, db.settings, job_kinds.KINDS).run_one)
    stalled.start()
    _wait_until(db, job_id, JobStatus.RUNNING)
    # The worker stalls past its lease (here: the clock of the recovering worker is an hour ahead).
    [recovered] = queue.recover(db.sessions, now=utcnow() + timedelta(hours=1))
    assert recovered.status is JobStatus.QUEUED
    job_kinds.RELEASE.set()  # the stalled handler wakes up and tries to go on
    stalled.join(timeout=30)
    assert job_kinds.effects_per_job(db.engine) == {}
    assert Worker(db.sessions, db.settings, job_kinds.KINDS).run_one() is not None
    assert job_kinds.effects_per_job(db.engine) == {job_id: 1}
    assert (job(db, job_id).status, job(db, job_id).attempts) == (JobStatus.DONE, 2)


def test_failures_retry_with_back_off_then_fail_for_good(db: CoopDb) -> None:
    assert [queue.retry_delay(n) for n in (1, 2, 3)] == [timedelta(seconds=s) for s in (15, 30, 60)]
    assert queue.retry_delay(40) == queue.RETRY_CAP
    job_id = enqueue(db)
    with db.sessions.begin() as session:
        session.get_one(Job, job_id).max_attempts = 2
    first = claim(db)
    assert first is not None
    with db.sessions.begin() as session:
        assert queue.fail(session, first, "database-busy: try later", now=T0) is JobStatus.QUEUED
    row = job(db, job_id)
    assert (row.status, row.run_after_utc, row.error, row.lease_token) == (
        JobStatus.QUEUED,
        T0 + queue.retry_delay(1),
        "database-busy: try later",
        None,
    )
    assert claim(db, T0 + queue.retry_delay(1) - timedelta(seconds=1)) is None
    second = claim(db, T0 + queue.retry_delay(1))
    assert second is not None and second.attempt == 2 and second.last_attempt
    with db.sessions.begin() as session:
        assert queue.fail(session, second, "database-busy: still", now=T0 + MINUTE) is JobStatus.FAILED
    row = job(db, job_id)
    assert row.status is JobStatus.FAILED and row.finished_utc == T0 + MINUTE and row.attempts == 2


def test_a_failure_without_retry_fails_at_once(db: CoopDb) -> None:
    job_id = enqueue(db)
    lease = claim(db)
    assert lease is not None and not lease.last_attempt
    with db.sessions.begin() as session:
        assert queue.fail(session, lease, "upload-missing: gone", retry=False) is JobStatus.FAILED
    assert job(db, job_id).error == "upload-missing: gone"


def test_recovery_requeues_expired_leases_and_gives_up_past_the_last_attempt(db: CoopDb) -> None:
    job_id = enqueue(db)
    gave_up: list[tuple[int, JobStatus]] = []
    now = T0
    for attempt in range(1, 4):
        lease = claim(db, now)
        assert lease is not None and lease.attempt == attempt
        # Not expired yet: nothing to recover.
        assert queue.recover(db.sessions, now=now + lease.duration - timedelta(seconds=1)) == []
        now += lease.duration + timedelta(seconds=1)
        found = queue.recover(db.sessions, now=now, gave_up=lambda s, j: gave_up.append((j.id, j.status)))
        assert [r.status for r in found] == [JobStatus.QUEUED if attempt < 3 else JobStatus.FAILED]
    row = job(db, job_id)
    assert row.status is JobStatus.FAILED and row.error == queue.LEASE_EXPIRED and row.lease_token is None
    # The kind's hook ran in the transaction that failed the job, and saw it failed.
    assert gave_up == [(job_id, JobStatus.FAILED)]
    assert claim(db, now) is None


def test_a_worker_runs_a_job_settles_it_and_records_failures_without_personal_data(db: CoopDb) -> None:
    record, refuse, retry, crash = (
        enqueue(db),
        enqueue(db, "test-refusing"),
        enqueue(db, "test-refusing", retry=True),
        enqueue(db, "test-crashing"),
    )
    worker = Worker(db.sessions, db.settings, job_kinds.KINDS, poll=0.01)
    assert worker.drain() == 4  # the retries wait for their back-off
    done = job(db, record)
    assert done.status is JobStatus.DONE and done.result == {"effect": True}
    # Done shows all the way done, with the last note shown.
    assert (done.progress_done, done.progress_total, done.progress_note) == (2, 2, "settling")
    assert job_kinds.effects_per_job(db.engine) == {record: 1}
    refused = job(db, refuse)
    assert refused.status is JobStatus.FAILED and refused.error == "refused: this job never works"
    assert job(db, retry).status is JobStatus.QUEUED and job(db, retry).attempts == 1
    crashed = job(db, crash)
    assert crashed.status is JobStatus.QUEUED and crashed.error is not None
    assert crashed.error.startswith("crashed: ValueError at job_kinds.py:") and "ada@" not in crashed.error


def test_periodic_kinds_are_scheduled_once_per_period(db: CoopDb) -> None:
    hourly = dataclasses.replace(job_kinds.RECORD, name="test-hourly", every=timedelta(hours=1))
    assert period_key(hourly, T0 + 59 * MINUTE) == "test-hourly@2026-03-01T12:00"
    worker = Worker(db.sessions, db.settings, [hourly])
    for moment in (T0, T0 + SCHEDULE_EVERY, T0 + 2 * SCHEDULE_EVERY, T0 + 60 * MINUTE):
        worker.schedule(moment)
    # A second worker scheduling the same period adds nothing.
    Worker(db.sessions, db.settings, [hourly]).schedule(T0 + 30 * MINUTE)
    with db.sessions() as session:
        keys = session.scalars(select(Job.unique_key).order_by(Job.id)).all()
    assert keys == ["test-hourly@2026-03-01T12:00", "test-hourly@2026-03-01T13:00"]


def test_every_job_kind_is_declared_and_documented() -> None:
    assert len({kind.name for kind in KINDS}) == len(KINDS)
    for kind in KINDS:
        assert kind.description and kind.max_attempts >= 1 and kind.lease > timedelta(0)
        assert f"| `{kind.name}` |" in README, f"job kind {kind.name} is missing from the README's table"


def test_several_worker_threads_run_each_job_exactly_once(db: CoopDb) -> None:
    jobs = [enqueue(db, seconds=0.01) for _ in range(40)]
    stop = threading.Event()
    workers = [Worker(db.sessions, db.settings, job_kinds.KINDS, poll=0.02) for _ in range(4)]
    threads = [threading.Thread(target=w.run, args=(stop,), name=f"w{n}") for n, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    try:
        _wait_until_done(db, jobs)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    assert job_kinds.effects_per_job(db.engine) == dict.fromkeys(jobs, 1)
    with db.sessions() as session:
        assert {j.attempts for j in session.scalars(select(Job))} == {1}


def test_several_worker_processes_run_each_job_exactly_once(db: CoopDb, empty_db: EmptyDb, tmp_path: Path) -> None:
    jobs = [enqueue(db, seconds=0.02) for _ in range(30)]
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Barrier(4)
    processes = [
        spawn.Process(
            target=job_kinds.work_in_process,
            args=(empty_db.url, empty_db.schema, str(db.settings.data_dir), start),
        )
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    start.wait(timeout=120)
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert job_kinds.effects_per_job(db.engine) == dict.fromkeys(jobs, 1)
    with db.sessions() as session:
        assert {(j.status, j.attempts) for j in session.scalars(select(Job))} == {(JobStatus.DONE, 1)}
        workers = {w.split("/")[0] for w in session.scalars(select(job_kinds.EFFECTS.c.worker))}
    assert len(workers) >= 2, "the jobs were not shared between processes"


def _wait_until(db: CoopDb, job_id: int, status: JobStatus, timeout: float = 30) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while job(db, job_id).status is not status:
        assert datetime.now(UTC) < deadline, f"job {job_id} never became {status}"
        threading.Event().wait(0.02)


def _wait_until_done(db: CoopDb, jobs: list[int], timeout: float = 60) -> None:
    deadline = datetime.now(UTC) + timedelta(seconds=timeout)
    while datetime.now(UTC) < deadline:
        with db.sessions() as session:
            statuses = set(session.scalars(select(Job.status).where(Job.id.in_(jobs))))
        if statuses == {JobStatus.DONE}:
            return
        threading.Event().wait(0.05)
    raise AssertionError(f"jobs not done in {timeout} s: {statuses}")
