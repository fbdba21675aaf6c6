"""Uploads validated by jobs, on SQLite and PostgreSQL: stored sealed and pending, decided by a worker against the
cooperative as it is when deciding, settled once; uploads that cannot be validated are rejected, not lost."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.coop.conftest import CoopDb, events, files_of, join, submit, validation_worker
from tutti.coop import crypto
from tutti.coop.contributions import pipeline, sealed_reports, uploads, validation
from tutti.coop.contributions.known import Known
from tutti.coop.contributions.queries import report_of
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.errors import DecryptionFailed, NotAllowed
from tutti.coop.jobs import queue
from tutti.coop.jobs.run import JobRun
from tutti.coop.jobs.worker import Worker
from tutti.coop.members.withdrawal import withdraw
from tutti.coop.models import Contribution, ContributionStatus, Job, JobStatus, Member, PoolFile, Status
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of
from tutti.coop.scratch import scratch_folder

# Every test here uploads a real export.
pytestmark = pytest.mark.samples

MICA = ("spotify-extended", "mica-92")
MICA_PLAYS = 3_290  # both files of the folder


def contribution(db: CoopDb, contribution_id: str) -> Contribution:
    with db.sessions() as session:
        return session.get_one(Contribution, contribution_id)


def report_for(db: CoopDb, contribution_id: str) -> ContributionReport:
    with db.sessions() as session:
        return report_of(session, session.get_one(Contribution, contribution_id))


def test_an_upload_waits_sealed_and_pending_until_a_worker_validates_it(coop_db: CoopDb) -> None:
    member = join(coop_db, "mica@example.org")
    files = files_of(*MICA)
    cid = submit(coop_db, member, files)
    row = contribution(coop_db, cid)
    assert row.status is ContributionStatus.PENDING and report_for(coop_db, cid) == ContributionReport(cid, row.status)
    assert row.upload_path == f"contributions/{member}/{cid}.upload" and row.job_id is not None
    sealed_path = coop_db.settings.data_dir / row.upload_path
    sealed = sealed_path.read_bytes()
    # Sealed: nothing of the export can be read from the file, and only the member's key opens it.
    assert files[-1].read_bytes()[:200] not in sealed and b"spotify" not in sealed.lower()
    with scratch_folder(coop_db.settings, "test-") as folder:
        with pytest.raises(DecryptionFailed):
            uploads.unseal(sealed_path, crypto.new_data_key(), folder)
        with coop_db.sessions() as session:
            key = crypto.member_key(session, session.get_one(Member, member), coop_db.settings)
        opened = uploads.unseal(sealed_path, key, folder)
        assert [p.read_bytes() for p in opened] == [p.read_bytes() for p in files]
        assert folder.stat().st_mode & 0o777 == 0o700
    with coop_db.sessions() as session:
        job = session.get_one(Job, row.job_id)
        assert (job.kind, job.status, job.unique_key) == (
            "validate-contribution",
            JobStatus.QUEUED,
            f"validate-contribution:{cid}",
        )
        assert catalog.counts(session).total == 0

    assert validation_worker(coop_db).drain() == 1
    row = contribution(coop_db, cid)
    report = report_for(coop_db, cid)
    assert row.status is ContributionStatus.ACCEPTED and report.accepted and report.plays_added == MICA_PLAYS
    assert row.upload_path is None and not (coop_db.settings.data_dir / f"contributions/{member}/{cid}.upload").exists()
    assert [f.name for f in report.files] == [f.name for f in files]  # names inside the upload, no scratch path
    with coop_db.sessions() as session:
        job = session.get_one(Job, row.job_id)
        assert job.status is JobStatus.DONE and job.attempts == 1 and job.result == {"contribution_id": cid}
        assert (job.progress_done, job.progress_total) == (len(files) + 4, len(files) + 4)
        assert [e.member_id for e in events(session, "contribution-accepted")] == [member]
        assert session.scalar(select(func.count()).select_from(PoolFile)) == 1
        assert catalog.reconcile(session, pool_of(coop_db.settings)).consistent
    assert not any((coop_db.settings.data_dir / "scratch").iterdir())


def test_only_active_members_may_submit(coop_db: CoopDb) -> None:
    member = join(coop_db, "later@example.org")
    with coop_db.sessions.begin() as session:
        session.get_one(Member, member).status = Status.WAITLISTED
    with pytest.raises(NotAllowed):
        submit(coop_db, member, files_of(*MICA))
    with coop_db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Job)) == 0


class Interleaved:
    """A job's intake that lets other work finish between the checks (and the look-up of the copy index) and the
    decision (a slower worker): ``meanwhile`` runs a job, or does whatever it is given."""

    def __init__(self, inner: pipeline.Intake, meanwhile: Worker | Callable[[], object]) -> None:
        self.inner = inner
        self.settings = inner.settings
        self.meanwhile = meanwhile.run_one if isinstance(meanwhile, Worker) else meanwhile

    def known(self) -> Known:
        return self.inner.known()

    def looking(self) -> AbstractContextManager[Session]:
        return self.inner.looking()

    @contextmanager
    def deciding(self) -> Iterator[Session]:
        assert self.meanwhile() is not None
        with self.inner.deciding() as session:
            yield session


def _validate_slowly(
    db: CoopDb, cid: str, member_id: str, meanwhile: Callable[[], object] | None = None
) -> ContributionReport | None:
    """Validate ``cid`` as its job would, while another worker decides the other queued upload meanwhile (or
    ``meanwhile`` is done)."""
    with db.sessions.begin() as session:
        lease = queue.claim(session, {validation.KIND: validation.VALIDATE_CONTRIBUTION.lease})
    assert lease is not None and lease.payload == {"contribution_id": cid}
    run = JobRun(lease, db.sessions, db.settings)
    intake = Interleaved(validation._InJob(run, member_id), meanwhile or validation_worker(db))
    with db.sessions() as session:
        row = session.get_one(Contribution, cid)
        key = crypto.member_key(session, session.get_one(Member, member_id), db.settings)
        sealed = db.settings.data_dir / str(row.upload_path)
    with scratch_folder(db.settings, "test-") as folder:
        return pipeline.run(intake, cid, uploads.unseal(sealed, key, folder), now=row.created_utc, roots=[folder])


def test_the_decision_sees_a_copy_accepted_while_the_upload_was_checked(coop_db: CoopDb) -> None:
    owner, copier = join(coop_db, "owner@example.org"), join(coop_db, "copier@example.org")
    copied = submit(coop_db, copier, files_of(*MICA))
    original = submit(coop_db, owner, files_of(*MICA))
    # The copy is checked first, when no other history exists; the original is accepted before the copy's decision,
    # which sees it: both are held, neither earns, nothing of either is in the pool.
    report = _validate_slowly(coop_db, copied, copier)
    assert report is not None and report.status is ContributionStatus.HELD
    assert contribution(coop_db, original).status is ContributionStatus.HELD
    assert report.copy_check is not None and report.copy_check.near_copy and report.copy_check.compared_members == 1
    assert report.copy_check.matched_member_id == owner and report.plays_added == 0
    pool = pool_of(coop_db.settings)
    with coop_db.sessions() as session:
        assert catalog.counts(session).total == 0
        assert {e.member_id for e in events(session, "contribution-held")} == {owner, copier}
        assert catalog.reconcile(session, pool).consistent


def test_a_history_withdrawn_while_the_upload_was_checked_holds_nothing(coop_db: CoopDb) -> None:
    owner, second = join(coop_db, "owner@example.org"), join(coop_db, "second@example.org")
    original = submit(coop_db, owner, files_of(*MICA))
    assert validation_worker(coop_db).run_one() is not None
    again = submit(coop_db, second, files_of(*MICA))

    def owner_withdraws() -> bool:
        with coop_db.sessions() as session:
            withdraw(session, coop_db.settings, session.get_one(Member, owner))
        return True

    # The look-up before the lock finds the owner's history; by the decision it is withdrawn, out of the index.
    report = _validate_slowly(coop_db, again, second, owner_withdraws)
    assert report is not None
    assert report.status is ContributionStatus.ACCEPTED, report.reasons
    assert contribution(coop_db, original).status is ContributionStatus.ACCEPTED  # its row keeps its counts
    with coop_db.sessions() as session:
        assert events(session, "contribution-held") == []


def test_two_uploads_of_one_export_racing_in_two_workers_are_never_both_accepted(coop_db: CoopDb) -> None:
    first, second = join(coop_db, "first@example.org"), join(coop_db, "second@example.org")
    ids = [submit(coop_db, member, files_of(*MICA)) for member in (first, second)]
    workers = [validation_worker(coop_db) for _ in ids]
    start = threading.Barrier(len(workers))

    def work(worker: Worker) -> None:
        start.wait()
        assert worker.run_one() is not None

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = [contribution(coop_db, cid) for cid in ids]
    assert [r.status for r in rows] == [ContributionStatus.HELD] * 2
    assert rows[0].case_id == rows[1].case_id is not None and sum(r.score for r in rows) == 0
    with coop_db.sessions() as session:
        assert catalog.counts(session).total == 0


def test_the_decision_counts_only_plays_not_pooled_meanwhile_by_the_same_member(coop_db: CoopDb) -> None:
    member = join(coop_db, "twice@example.org")
    later = submit(coop_db, member, files_of(*MICA))
    earlier = submit(coop_db, member, files_of(*MICA))
    report = _validate_slowly(coop_db, later, member)
    first = report_for(coop_db, earlier)
    assert first.accepted and first.plays_added == MICA_PLAYS
    # Checked when the pool held none of these plays, decided after they were pooled: nothing new, no points.
    assert report is not None and report.accepted and report.plays_added == 0 and report.points == 0
    with coop_db.sessions() as session:
        assert catalog.counts(session).total == MICA_PLAYS
        assert session.scalar(select(func.count()).select_from(PoolFile)) == 1


def test_an_upload_pending_when_its_member_withdraws_is_never_validated(coop_db: CoopDb) -> None:
    member = join(coop_db, "leaving@example.org")
    cid = submit(coop_db, member, files_of(*MICA))
    with coop_db.sessions() as session:
        proof = withdraw(session, coop_db.settings, session.get_one(Member, member))
    assert proof.blobs_destroyed == 1 and proof.erased
    row = contribution(coop_db, cid)
    assert row.status is ContributionStatus.REJECTED and row.upload_path is None
    assert report_for(coop_db, cid).erased_utc is not None
    assert not (coop_db.settings.data_dir / "contributions" / member).exists()
    assert validation_worker(coop_db).drain() == 1
    with coop_db.sessions() as session:
        assert session.get_one(Job, row.job_id).status is JobStatus.DONE
        assert catalog.counts(session).total == 0 and events(session, "contribution-rejected") == []


def test_an_upload_whose_sealed_file_is_gone_is_rejected_as_not_checked(coop_db: CoopDb) -> None:
    member = join(coop_db, "unlucky@example.org")
    cid = submit(coop_db, member, files_of(*MICA))
    (coop_db.settings.data_dir / str(contribution(coop_db, cid).upload_path)).unlink()
    assert validation_worker(coop_db).drain() == 1
    row = contribution(coop_db, cid)
    assert row.status is ContributionStatus.REJECTED and row.reasons == [sealed_reports.NOT_VALIDATED]
    assert report_for(coop_db, cid).reasons == (validation.NOT_VALIDATED,)
    with coop_db.sessions() as session:
        job = session.get_one(Job, row.job_id)
        assert job.status is JobStatus.FAILED and job.error == "upload-missing: the sealed upload file is not there"
        [rejected] = events(session, "contribution-rejected")
        # The log keeps the code; the sentence the member reads is sealed with their key.
        assert rejected.member_id == member and orjson.loads(rejected.payload)["reasons"] == ["not-validated"]


def test_an_upload_whose_every_attempt_died_is_rejected_as_not_checked(coop_db: CoopDb) -> None:
    member = join(coop_db, "crashy@example.org")
    cid = submit(coop_db, member, files_of(*MICA))
    leases = {validation.KIND: validation.VALIDATE_CONTRIBUTION.lease}
    moment = contribution(coop_db, cid).created_utc
    for _attempt in range(validation.VALIDATE_CONTRIBUTION.max_attempts):
        with coop_db.sessions.begin() as session:
            assert queue.claim(session, leases, now=moment) is not None
        # The worker dies: nothing renews the lease, and another worker recovers the job after it expired.
        moment += validation.VALIDATE_CONTRIBUTION.lease * 2
        queue.recover(coop_db.sessions, now=moment, gave_up=validation.VALIDATE_CONTRIBUTION.gave_up)
    row = contribution(coop_db, cid)
    assert row.status is ContributionStatus.REJECTED and row.reasons == [sealed_reports.NOT_VALIDATED]
    assert report_for(coop_db, cid).reasons == (validation.NOT_VALIDATED,)
    assert not (coop_db.settings.data_dir / f"contributions/{member}/{cid}.upload").exists()
    with coop_db.sessions() as session:
        assert session.get_one(Job, row.job_id).error == queue.LEASE_EXPIRED


def test_an_upload_whose_reading_ends_early_is_rejected_at_the_first_attempt(coop_db: CoopDb) -> None:
    """Its progress is shown past the files it did not read, instead of the job crashing on every attempt."""
    member = join(coop_db, "listener@example.org")
    # Last.fm files of every kind, good and broken: reading stops at a broken one, many files before the end.
    cid = submit(coop_db, member, sorted((Path(__file__).parents[1] / "data" / "lastfm").glob("*.*")))
    assert validation_worker(coop_db).run_one() is not None
    row = contribution(coop_db, cid)
    with coop_db.sessions() as session:
        job = session.get_one(Job, row.job_id)
    assert (job.status, job.attempts) == (JobStatus.DONE, 1)
    assert row.status is ContributionStatus.REJECTED and sealed_reports.NOT_VALIDATED not in row.reasons
