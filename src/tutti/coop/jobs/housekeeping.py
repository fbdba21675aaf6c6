"""Housekeeping, as periodic jobs the workers schedule themselves (one job per kind and period, by unique key).

* ``purge-expired``: login sessions past their expiry, rate-limit windows older than the longest limit,
  finished jobs older than ``JOB_HISTORY``, and accounts whose address was never confirmed once their link has
  expired (``accounts.purge_unconfirmed``), with the mail kept about them.
* ``remove-leftovers``: what crashed requests and workers leave beside the database, once older than
  ``LEFTOVER_AGE`` (younger ones may belong to work under way): scratch folders (but a running job's own),
  ``.partial`` files, and the hidden ``*.staged`` files of transactions that never finished theirs
  (``tutti.coop.staged``). A staged file whose file the database records but which is missing is put in place
  instead (its transaction committed and the process died before the rename, or it was put aside by a
  transaction that rolled back). Sealed uploads whose contribution is decided go whatever their age; one whose
  contribution this transaction cannot see goes once old (it may be an upload stored a moment ago).
  Withdrawals a crash interrupted are completed first (``members.withdrawal.complete_pending``; the cooperative
  does it when it opens, too).
* ``reconcile-pool``: compares the pool's catalog with its folder (``pool.catalog.reconcile``) and logs each
  disagreement by its path inside the pool (member pseudonym and contribution id: never personal data).
"""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tutti.coop import mail, ratelimit, staged
from tutti.coop.contributions.sealing import CONTRIBUTIONS_DIR
from tutti.coop.contributions.uploads import UPLOAD_SUFFIX
from tutti.coop.jobs.kinds import JobKind
from tutti.coop.jobs.run import JobRun
from tutti.coop.members import accounts, withdrawal
from tutti.coop.models import Contribution, ContributionStatus, Job, JobStatus, PoolFile, utcnow
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of
from tutti.coop.scratch import scratch_root
from tutti.coop.settings import CoopSettings

JOB_HISTORY = timedelta(days=30)
# Requests, transactions and attempts last minutes at most: anything an hour old is left from a crash.
LEFTOVER_AGE = timedelta(hours=1)
PARTIAL_SUFFIX = ".partial"
_log = logging.getLogger("tutti.coop.jobs.housekeeping")


def purge_expired(session: Session, *, now: datetime | None = None) -> dict[str, int]:
    """Delete what has expired, in the caller's transaction; how many of each."""
    when = now or utcnow()
    finished = session.execute(
        delete(Job).where(Job.status.in_([JobStatus.DONE, JobStatus.FAILED]), Job.finished_utc < when - JOB_HISTORY)
    )
    return {
        "login_sessions": accounts.purge_expired_sessions(session, now=when),
        "rate_limit_windows": ratelimit.purge(session, now=when),
        "jobs": int(getattr(finished, "rowcount", 0) or 0),
    }


@dataclass(frozen=True)
class Leftovers:
    """What ``remove_leftovers`` did, counted."""

    scratch_folders: int
    partial_files: int
    staged_removed: int
    staged_restored: int
    sealed_uploads: int


def _recorded(session: Session, settings: CoopSettings) -> set[str]:
    """Files the database records (paths relative to the data folder), the sealed uploads still pending among them."""
    pool = pool_of(settings).root.relative_to(settings.data_dir)
    recorded = {str(pool / path) for path in session.scalars(select(PoolFile.path))}
    recorded |= {p for p in session.scalars(select(Contribution.blob_path)) if p is not None}
    pending = {
        p
        for p in session.scalars(
            select(Contribution.upload_path).where(Contribution.status == ContributionStatus.PENDING)
        )
        if p is not None
    }
    return recorded | pending


def _older(path: Path, than: datetime) -> bool:
    try:
        return path.lstat().st_mtime < than.timestamp()
    except FileNotFoundError:
        return False


def _files(root: Path, pattern: str, skip: Path) -> list[Path]:
    """Files named like ``pattern`` under ``root``, outside ``skip``. The server works meanwhile (a worker starting
    cleans up while uploads come in): a folder that goes while it is walked is passed over, never an error."""
    found = []
    for folder, subfolders, names in os.walk(root):  # os.walk skips what it can no longer list
        here = Path(folder)
        subfolders[:] = [name for name in subfolders if here / name != skip]
        found += [here / name for name in names if fnmatch.fnmatchcase(name, pattern) and (here / name).is_file()]
    return found


def _settled_uploads(session: Session, found: list[Path], cutoff: datetime) -> list[Path]:
    """The sealed uploads among ``found`` that no contribution waits for: its contribution is decided, or there is
    none and the file is older than ``cutoff``. A file appears only once its contribution is committed, so one
    younger than what this transaction can see (an upload stored while housekeeping runs) is left alone."""
    ids = [p.name.removesuffix(UPLOAD_SUFFIX) for p in found]
    status: dict[str, ContributionStatus] = {}
    for start in range(0, len(ids), 1_000):
        chunk = ids[start : start + 1_000]
        rows = session.execute(select(Contribution.id, Contribution.status).where(Contribution.id.in_(chunk)))
        status.update({cid: state for cid, state in rows})
    return [
        path
        for path, cid in zip(found, ids, strict=True)
        if (cid in status and status[cid] is not ContributionStatus.PENDING)
        or (cid not in status and _older(path, cutoff))
    ]


def remove_leftovers(session: Session, settings: CoopSettings, *, now: datetime | None = None) -> Leftovers:
    """Remove (or put in place) what crashed work left beside the database; see the module docstring."""
    root = settings.data_dir
    cutoff = (now or utcnow()) - LEFTOVER_AGE
    recorded = _recorded(session, settings)
    scratch = scratch_root(settings)
    running = {f"job-{job_id}-" for job_id in session.scalars(select(Job.id).where(Job.status == JobStatus.RUNNING))}
    folders = [
        f
        for f in (scratch.iterdir() if scratch.is_dir() else ())
        if f.is_dir() and _older(f, cutoff) and not f.name.startswith(tuple(running))
    ]
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    # Outside the scratch folders, whose files are members' uploads and may be named anything.
    partials = [p for p in _files(root, f"*{PARTIAL_SUFFIX}", scratch) if _older(p, cutoff)]
    for path in partials:
        path.unlink(missing_ok=True)
    removed = restored = 0
    for hidden in [p for p in _files(root, f".*{staged.STAGED_SUFFIX}", scratch) if _older(p, cutoff)]:
        target = staged.staged_target(hidden)
        if target is None:
            continue
        if str(target.relative_to(root)) in recorded and not target.exists():
            hidden.replace(target)
            restored += 1
        else:
            hidden.unlink(missing_ok=True)
            removed += 1
    sealed = root / CONTRIBUTIONS_DIR  # sealed uploads lie at <member>/<contribution><UPLOAD_SUFFIX>
    uploads = _settled_uploads(
        session, [p for p in _files(sealed, f"*{UPLOAD_SUFFIX}", scratch) if p.parent.parent == sealed], cutoff
    )
    for path in uploads:
        path.unlink(missing_ok=True)
    return Leftovers(len(folders), len(partials), removed, restored, len(uploads))


def _purge(run: JobRun) -> None:
    with run.settle() as session:
        unconfirmed = accounts.purge_unconfirmed(session)
        run.result = purge_expired(session) | {"unconfirmed_accounts": len(unconfirmed)}
    for member_id in unconfirmed:  # after the commit: their welcome mail, if it waits in the outbox
        for kept in mail.kept_about(run.settings, member_id):
            kept.unlink(missing_ok=True)


def _leftovers(run: JobRun) -> None:
    with run.sessions() as session:
        withdrawals = withdrawal.complete_pending(session, run.settings)
    with run.sessions() as session:
        done = remove_leftovers(session, run.settings)
    run.result = {
        "withdrawals_completed": withdrawals,
        "scratch_folders": done.scratch_folders,
        "partial_files": done.partial_files,
        "staged_removed": done.staged_removed,
        "staged_restored": done.staged_restored,
        "sealed_uploads": done.sealed_uploads,
    }


def _reconcile(run: JobRun) -> None:
    with run.sessions() as session:
        found = catalog.reconcile(session, pool_of(run.settings))
    for what, paths in (
        ("a catalog row without its file", found.missing_files),
        ("a file without its catalog row", found.unrecorded_files),
        ("a row count that differs from the file's", found.wrong_counts),
    ):
        for path in paths:
            _log.warning("pool: %s: %s", what, path)
    run.result = {
        "consistent": found.consistent,
        "missing_files": list(found.missing_files),
        "unrecorded_files": list(found.unrecorded_files),
        "wrong_counts": list(found.wrong_counts),
    }


PURGE_EXPIRED = JobKind(
    "purge-expired",
    "Delete expired login sessions, old rate-limit windows, finished jobs older than 30 days, and accounts whose "
    "address was never confirmed once their link has expired (7 days after their latest signup).",
    handler=_purge,
    every=timedelta(hours=1),
)
REMOVE_LEFTOVERS = JobKind(
    "remove-leftovers",
    "Remove what crashed uploads and workers left beside the database: scratch folders, `.partial` and "
    "`*.staged` files over an hour old (a staged file the database records is put in place instead), and sealed "
    "uploads whose contribution is decided (or unknown, over an hour old); and complete the withdrawals a crash "
    "interrupted.",
    handler=_leftovers,
    every=timedelta(hours=1),
)
RECONCILE_POOL = JobKind(
    "reconcile-pool",
    "Compare the pool's catalog with its files and log every disagreement by its path inside the pool.",
    handler=_reconcile,
    lease=timedelta(minutes=10),
    every=timedelta(days=1),
)
