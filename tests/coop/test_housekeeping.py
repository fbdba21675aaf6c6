"""Housekeeping jobs on SQLite and PostgreSQL: what expired is purged, what crashes left is removed (or put back in
place when the database records it), and the pool's disagreements with its catalog are logged by path only."""

from __future__ import annotations

import logging
import os
import shutil
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests.conftest import samples_path
from tests.coop.conftest import CoopDb, files_of, join, submit, validation_worker
from tutti.coop import crypto, ratelimit, staged
from tutti.coop.jobs import housekeeping, queue
from tutti.coop.jobs.housekeeping import (
    LEFTOVER_AGE,
    PURGE_EXPIRED,
    RECONCILE_POOL,
    REMOVE_LEFTOVERS,
    remove_leftovers,
)
from tutti.coop.jobs.worker import Worker
from tutti.coop.members import accounts, withdrawal
from tutti.coop.models import (
    Contribution,
    ContributionStatus,
    Job,
    JobStatus,
    LoginSession,
    Member,
    PoolFile,
    RateLimitWindow,
    Withdrawal,
    WithdrawalStep,
    utcnow,
)
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of
from tutti.coop.scratch import scratch_root
from tutti.coop.settings import CoopSettings

PASSWORD = "a long enough passphrase"


def age(path: Path, by: timedelta = LEFTOVER_AGE + timedelta(minutes=5)) -> Path:
    moment = (utcnow() - by).timestamp()
    os.utime(path, (moment, moment))
    return path


def run_housekeeping(db: CoopDb) -> dict[str, dict[str, object]]:
    """Schedule and run every housekeeping kind once; each job's result by kind."""
    kinds = [PURGE_EXPIRED, REMOVE_LEFTOVERS, RECONCILE_POOL]
    assert Worker(db.sessions, db.settings, kinds).drain() == len(kinds)
    with db.sessions() as session:
        jobs = session.scalars(select(Job).where(Job.kind.in_([k.name for k in kinds]))).all()
    assert {j.status for j in jobs} == {JobStatus.DONE}
    return {j.kind: dict(j.result or {}) for j in jobs}


def test_expired_logins_old_rate_limit_windows_and_old_jobs_are_purged(coop_db: CoopDb) -> None:
    now = utcnow()
    with coop_db.sessions.begin() as session:
        accounts.signup(session, "ada@example.org", PASSWORD, now=now - timedelta(days=2))
    for moment in (now - timedelta(hours=13), now):
        with coop_db.sessions.begin() as session:
            accounts.login(session, "ada@example.org", PASSWORD, now=moment)
    with coop_db.sessions() as session:
        ratelimit.hit(session, "upload", "old subject", now=now - timedelta(days=2))
        ratelimit.hit(session, "upload", "new subject", now=now)
    with coop_db.sessions.begin() as session:
        old = queue.enqueue(session, "long-gone", now=now - timedelta(days=40))
        old.status, old.finished_utc = JobStatus.DONE, now - timedelta(days=31)
        recent = queue.enqueue(session, "recent", now=now - timedelta(days=2))
        recent.status, recent.finished_utc = JobStatus.FAILED, now - timedelta(days=1)
    results = run_housekeeping(coop_db)
    # One expired login, one old window, one old job; ada signed up confirmed, so her account stays.
    assert results["purge-expired"] == {
        "login_sessions": 1,
        "rate_limit_windows": 1,
        "jobs": 1,
        "unconfirmed_accounts": 0,
    }
    with coop_db.sessions() as session:
        assert [s.expires_utc > now for s in session.scalars(select(LoginSession))] == [True]
        # Left: the window of the upload just counted (a right password leaves its account no failures).
        starts = session.scalars(select(RateLimitWindow.window_start)).all()
        assert len(starts) == 1 and min(starts) > (now - timedelta(days=1)).timestamp()
        assert (
            set(session.scalars(select(Job.kind))) >= {"recent"}
            and "long-gone" not in session.scalars(select(Job.kind)).all()
        )


@pytest.mark.samples
def test_leftovers_of_crashes_are_removed_and_committed_files_put_in_place(coop_db: CoopDb) -> None:
    settings, root = coop_db.settings, coop_db.settings.data_dir
    member = join(coop_db, "mica@example.org")
    decided = submit(coop_db, member, files_of("spotify-extended", "mica-92"))
    waiting = submit(
        coop_db, member, [samples_path("spotify-extended", "efrrowini", "Streaming_History_Audio_2022.json")]
    )
    with coop_db.sessions.begin() as session:
        # Decide only the first: the second stays pending with its sealed upload.
        session.get_one(Job, session.get_one(Contribution, waiting).job_id).run_after_utc = utcnow() + timedelta(days=1)
    assert validation_worker(coop_db).drain() == 1
    with coop_db.sessions() as session:
        pool_file = root / "pool" / session.scalars(select(PoolFile.path)).one()
        blob = root / str(session.get_one(Contribution, decided).blob_path)
        pending_upload = root / str(session.get_one(Contribution, waiting).upload_path)
    # A process died after its commit, before putting the pool file and the sealed plays in place.
    committed = [pool_file.rename(pool_file.with_name(f".{pool_file.name}.0123456789ab{staged.STAGED_SUFFIX}"))]
    committed.append(blob.rename(blob.with_name(f".{blob.name}.ba9876543210{staged.STAGED_SUFFIX}")))
    # ... another died before committing a pool file; a request died while saving; a writer left a .partial file.
    never = pool_file.with_name(f".part-never-committed.parquet.00000000aaaa{staged.STAGED_SUFFIX}")
    never.write_bytes(b"half a pool file")
    old_scratch = scratch_root(settings) / "upload-crashed"
    old_scratch.mkdir(parents=True)
    (old_scratch / "my_spotify_data.zip").write_bytes(b"PK")
    partial = root / "pool" / "part-x.parquet.partial"
    partial.write_bytes(b"partial")
    # ... and a sealed upload outlived its contribution, which was decided.
    orphan = pending_upload.with_name(f"{decided}.upload")
    orphan.write_bytes(b"sealed")
    for path in [*committed, never, old_scratch, partial]:
        age(path)
    # Recent leftovers may belong to work under way: they stay, whatever their kind.
    fresh_staged = pool_file.with_name(f".part-in-progress.parquet.00000000bbbb{staged.STAGED_SUFFIX}")
    fresh_staged.write_bytes(b"being written")
    fresh_scratch = scratch_root(settings) / "upload-under-way"
    fresh_scratch.mkdir()
    # ... and so does the folder of a job still running, however old.
    with coop_db.sessions.begin() as session:
        queue.enqueue(session, "test-long")
    with coop_db.sessions.begin() as session:
        running = queue.claim(session, {"test-long": timedelta(hours=3)})
    assert running is not None
    long_job = scratch_root(settings) / f"job-{running.job_id}-attempt"
    long_job.mkdir()
    age(long_job)
    with coop_db.sessions() as session:
        assert not catalog.reconcile(session, pool_of(settings)).consistent

    results = run_housekeeping(coop_db)
    assert results["remove-leftovers"] == {
        "withdrawals_completed": 0,
        "scratch_folders": 1,
        "partial_files": 1,
        "staged_removed": 1,
        "staged_restored": 2,
        "sealed_uploads": 1,
    }
    assert pool_file.is_file() and blob.is_file() and pending_upload.is_file() and fresh_staged.exists()
    assert fresh_scratch.is_dir() and long_job.is_dir()
    for gone in [*committed, never, old_scratch, partial, orphan]:
        assert not gone.exists(), gone
    assert results["reconcile-pool"]["consistent"] is True
    with coop_db.sessions() as session:
        assert catalog.reconcile(session, pool_of(settings)).consistent


@pytest.mark.samples
def test_reconciling_logs_each_disagreement_by_its_path_in_the_pool(
    coop_db: CoopDb, caplog: pytest.LogCaptureFixture
) -> None:
    member = join(coop_db, "lost@example.org")
    submit(coop_db, member, files_of("spotify-extended", "mica-92"))
    assert validation_worker(coop_db).drain() == 1
    with coop_db.sessions() as session:
        path = session.scalars(select(PoolFile.path)).one()
    (pool_of(coop_db.settings).root / path).unlink()
    with caplog.at_level(logging.WARNING, logger="tutti.coop.jobs.housekeeping"):
        results = run_housekeeping(coop_db)
    assert results["reconcile-pool"] == {
        "consistent": False,
        "missing_files": [path],
        "unrecorded_files": [],
        "wrong_counts": [],
    }
    assert [r.getMessage() for r in caplog.records] == [f"pool: a catalog row without its file: {path}"]
    assert "lost@" not in caplog.text and member not in caplog.text


@pytest.mark.samples
def test_a_withdrawal_left_half_done_is_completed_by_the_workers_housekeeping(coop_db: CoopDb) -> None:
    member_id = join(coop_db, "half@example.org")
    submit(coop_db, member_id, files_of("spotify-extended", "mica-92"))
    # Decided and committed, then the process died: the sealed upload is still there, the key still exists.
    with coop_db.sessions() as session:
        withdrawal.decide(session, coop_db.settings, session.get_one(Member, member_id))
        session.commit()
    folder = coop_db.settings.data_dir / "contributions" / member_id
    assert any(folder.iterdir())
    results = run_housekeeping(coop_db)
    assert results[REMOVE_LEFTOVERS.name]["withdrawals_completed"] == 1
    assert not folder.exists()
    with coop_db.sessions() as session:
        assert session.get_one(Withdrawal, member_id).step is WithdrawalStep.DONE
        assert crypto.key_destroyed(session, session.get_one(Member, member_id))
    # Once done, the next run finds nothing to complete.
    with coop_db.sessions.begin() as session:
        session.execute(delete(Job))
    assert run_housekeeping(coop_db)[REMOVE_LEFTOVERS.name]["withdrawals_completed"] == 0


def test_cleaning_up_while_folders_come_and_go_is_no_error(coop_db: CoopDb) -> None:
    """A worker that starts cleans up while the server works: uploads' folders appear and vanish meanwhile."""
    root = coop_db.settings.data_dir
    stop = threading.Event()

    def churn() -> None:
        n = 0
        while not stop.is_set():
            for place in (root / "contributions" / f"m{n % 7}", root / "pool" / f"p{n % 5}" / "deep"):
                place.mkdir(parents=True, exist_ok=True)
                (place / "x.upload").write_bytes(b"x")
            for place in (root / "contributions" / f"m{(n + 3) % 7}", root / "pool" / f"p{(n + 2) % 5}"):
                shutil.rmtree(place, ignore_errors=True)
            n += 1

    churning = threading.Thread(target=churn)
    churning.start()
    try:
        for _ in range(40):
            with coop_db.sessions.begin() as session:
                remove_leftovers(session, coop_db.settings)
    finally:
        stop.set()
        churning.join()


@pytest.mark.samples
def test_an_upload_stored_while_leftovers_are_removed_is_kept_and_validated(
    coop_db: CoopDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Housekeeping reads which uploads wait, then looks at the files: an upload stored in between (its file
    appears once its contribution commits) waits for a contribution housekeeping cannot see yet."""
    member = join(coop_db, "mica@example.org")
    stored: list[str] = []
    real = housekeeping._recorded

    def recorded_then_an_upload_lands(session: Session, settings: CoopSettings) -> set[str]:
        found = real(session, settings)
        stored.append(submit(coop_db, member, files_of("spotify-extended", "mica-92")))
        return found

    monkeypatch.setattr(housekeeping, "_recorded", recorded_then_an_upload_lands)
    with coop_db.sessions.begin() as session:
        left = remove_leftovers(session, coop_db.settings)
    assert left.sealed_uploads == 0
    monkeypatch.undo()
    assert validation_worker(coop_db).drain() == 1
    with coop_db.sessions() as session:
        contribution = session.get_one(Contribution, stored[0])
        job = session.get_one(Job, contribution.job_id)
    assert contribution.status is ContributionStatus.ACCEPTED and job.status is JobStatus.DONE
