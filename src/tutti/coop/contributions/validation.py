"""Validating uploads in the background: ``submit`` stores an upload and queues its job; the job runs the pipeline.

``submit`` (in the upload request's transaction) writes the sealed upload (it follows the transaction), creates
the contribution as *pending* with a pending report, and enqueues a ``validate-contribution`` job whose unique
key is the contribution, so one job ever validates it. The request then answers at once.

The job (``validate``) loads the contribution in a short session, unseals the upload into a private scratch
folder and runs ``pipeline.run`` with an intake that loads what the checks need in short sessions and decides in
the job's settling transaction: the lease is checked first and the job is marked done with the decision, so a
worker that lost its lease (it stalled, another finished the job) changes nothing. Progress shows the files read
and the stages passed. An upload that cannot be validated (its sealed file is gone or does not open, or every
attempt failed) is rejected with a reason the member can act on; the error code stays in the job for the
operator.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from tutti.coop import audit, crypto, staged
from tutti.coop.actions import CONTRIBUTE, require
from tutti.coop.contributions import known, pipeline, sealed_reports, uploads
from tutti.coop.contributions.known import Known
from tutti.coop.contributions.report import ContributionReport
from tutti.coop.contributions.uploads import SealedUpload
from tutti.coop.db import settings_of
from tutti.coop.errors import DecryptionFailed, KeyDestroyed
from tutti.coop.jobs import JobFailed, JobKind, JobRun, queue
from tutti.coop.models import Contribution, ContributionStatus, Job, Member, new_id, utcnow
from tutti.coop.scratch import scratch_folder, scratch_root
from tutti.coop.settings import CoopSettings

KIND = "validate-contribution"
NOT_VALIDATED = "the server could not finish checking this upload; please upload it again"
# Progress is written at most this often (and complete once the job is done): a zip of many files is no stream
# of writes.
PROGRESS_EVERY = 0.5


def job_key(contribution_id: str) -> str:
    return f"{KIND}:{contribution_id}"


def submit(
    session: Session, settings: CoopSettings, member: Member, sealed: SealedUpload, *, now: datetime | None = None
) -> Contribution:
    """Store a sealed upload of ``member`` and queue its validation, in the caller's transaction."""
    require(CONTRIBUTE, member)
    when = now or utcnow()
    contribution_id = new_id()
    path = uploads.upload_path(settings, member.id, contribution_id)
    # The sealed file moves into place (within the data folder: a rename) and appears when the session commits.
    staged.write_on_commit(session, path, lambda to: shutil.move(sealed.path, to))
    contribution = Contribution(
        id=contribution_id,
        member_id=member.id,
        created_utc=when,
        status=ContributionStatus.PENDING,
        report=pipeline.pending_report(contribution_id).to_json(),
        upload_path=str(path.relative_to(settings.data_dir)),
    )
    session.add(contribution)
    job = queue.enqueue(
        session,
        KIND,
        {"contribution_id": contribution_id},
        unique_key=job_key(contribution_id),
        max_attempts=VALIDATE_CONTRIBUTION.max_attempts,
        now=when,
    )
    session.flush()
    contribution.job_id = job.id
    session.flush()
    return contribution


@dataclass
class _InJob:
    """The pipeline's intake in a job: short sessions to load, the job's settling transaction to decide."""

    run: JobRun
    member_id: str
    settings: CoopSettings = field(init=False)

    def __post_init__(self) -> None:
        self.settings = self.run.settings

    def known(self) -> Known:
        with self.run.sessions.begin() as session:
            member = session.get_one(Member, self.member_id)
            return known.load(session, self.settings, member)

    @contextmanager
    def looking(self) -> Iterator[Session]:
        with self.run.sessions() as session:
            yield session

    @contextmanager
    def deciding(self) -> Iterator[Session]:
        with self.run.settle() as session:
            yield session


def validate(run: JobRun) -> None:
    """The ``validate-contribution`` handler (see the module docstring)."""
    contribution_id = str(run.payload["contribution_id"])
    run.result = {"contribution_id": contribution_id}
    with run.sessions.begin() as session:
        contribution = session.get(Contribution, contribution_id)
        if contribution is None or contribution.status is not ContributionStatus.PENDING:
            return  # decided or erased already: nothing to do
        if contribution.upload_path is None:
            raise JobFailed("upload-missing", "the pending contribution names no sealed upload")
        member = session.get_one(Member, contribution.member_id)
        sealed_path = run.settings.data_dir / contribution.upload_path
        try:
            key = crypto.member_key(session, member, run.settings)
        except KeyDestroyed:
            return  # the member withdrew meanwhile; the withdrawal settled the contribution
    # An earlier attempt that died left its unsealed files behind: this attempt holds the job now.
    for earlier in scratch_root(run.settings).glob(f"job-{run.lease.job_id}-*"):
        shutil.rmtree(earlier, ignore_errors=True)
    with scratch_folder(run.settings, f"job-{run.lease.job_id}-") as scratch:
        paths = _unseal(sealed_path, key, scratch)
        reporter = _Reporter(run)
        pipeline.run(
            _InJob(run, member.id),
            contribution_id,
            paths,
            now=utcnow(),
            roots=[scratch],
            progress=reporter.progress,
            spool=scratch,
        )


def _unseal(sealed_path: Path, key: bytes, folder: Path) -> list[Path]:
    try:
        return uploads.unseal(sealed_path, key, folder)
    except FileNotFoundError:
        raise JobFailed("upload-missing", "the sealed upload file is not there") from None
    except DecryptionFailed:
        raise JobFailed("upload-unreadable", "the sealed upload does not open with the member's key") from None


@dataclass
class _Reporter:
    run: JobRun
    last: float = 0.0

    def progress(self, done: int, total: int, note: str) -> None:
        moment = time.monotonic()
        if moment - self.last >= PROGRESS_EVERY:
            self.last = moment
            self.run.progress(done, total, note)
        else:
            self.run.check()


def reject_unvalidated(session: Session, job: Job) -> None:
    """The job failed for good: its contribution, if still pending, is rejected, and its upload goes."""
    contribution = session.get(Contribution, str(job.payload.get("contribution_id")))
    if contribution is None or contribution.status is not ContributionStatus.PENDING:
        return
    if contribution.upload_path is not None:
        staged.delete_on_commit(session, settings_of(session).data_dir / contribution.upload_path)
    report = ContributionReport(contribution.id, ContributionStatus.REJECTED, reasons=(NOT_VALIDATED,))
    try:
        codes = sealed_reports.store(
            session, settings_of(session), contribution, report, codes=(sealed_reports.NOT_VALIDATED,)
        )
    except KeyDestroyed:
        return  # the member withdrew meanwhile; the withdrawal settled the contribution
    contribution.upload_path = None
    session.flush()
    audit.record(session, audit.ContributionRejected(contribution.member_id, contribution.id, codes))


VALIDATE_CONTRIBUTION = JobKind(
    KIND,
    "Check an uploaded export (read, check, fingerprint, score) and pool its new plays, or reject it with the "
    "reasons; the upload waits sealed until then.",
    handler=validate,
    max_attempts=3,
    lease=timedelta(seconds=60),
    gave_up=reject_unvalidated,
)
