"""The crash test, on SQLite and PostgreSQL: a real worker process (``tutti coop worker``) is killed with SIGKILL in
the middle of validating a real export; a new worker takes the job over once its short lease expires and completes
it exactly once, and the pool and the database agree afterwards."""

from __future__ import annotations

import base64
import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, select

from tests.coop.conftest import CoopDb, EmptyDb, cli_database_url, events, files_of, join, migrated_cooperative, submit
from tutti.coop import audit
from tutti.coop.models import Contribution, ContributionStatus, Job, JobStatus, PoolFile
from tutti.coop.pool import catalog
from tutti.coop.pool.files import pool_of
from tutti.coop.scratch import scratch_root
from tutti.coop.settings import LEASE_SECONDS, MASTER_KEY, WORKERS, CoopSettings

# A real export of 84,630 plays in nine files: long enough to be caught reading it.
EXPORT = ("spotify-account", "fedecalendino-2021-01", "MyData")
EXPORT_PLAYS = 84_630
LEASE = 2
EMAIL = "fede@example.org"


@pytest.fixture
def db(empty_db: EmptyDb, coop_settings: CoopSettings) -> CoopDb:
    """A founded cooperative under a random master key: the worker process refuses the tests' well-known one."""
    settings = dataclasses.replace(coop_settings, master_key=os.urandom(32), session_secret=os.urandom(32))
    return migrated_cooperative(empty_db, settings)


@pytest.fixture
def start_worker(db: CoopDb, empty_db: EmptyDb, tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    started: list[tuple[subprocess.Popen[bytes], IO[bytes]]] = []
    env = {
        **os.environ,
        MASTER_KEY.env: base64.b64encode(db.settings.master_key).decode(),
        LEASE_SECONDS.env: str(LEASE),
        WORKERS.env: "0",
    }

    def start(name: str) -> subprocess.Popen[bytes]:
        log = (tmp_path / f"{name}.log").open("wb")
        args = ["coop", "worker", "--home", str(tmp_path), "--database-url", cli_database_url(empty_db)]
        process = subprocess.Popen(
            [sys.executable, "-c", "from tutti.cli import app; app(prog_name='tutti')", *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log))
        return process

    yield start
    for process, log in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        log.close()


def _job(db: CoopDb, job_id: int) -> Job:
    with db.sessions() as session:
        return session.get_one(Job, job_id)


def _wait(what: str, ready: Callable[[], bool], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@pytest.mark.samples
def test_a_worker_killed_mid_validation_leaves_its_job_to_another_that_completes_it_once(
    db: CoopDb, start_worker: Callable[[str], subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    assert db.settings.data_dir == tmp_path / "coop"  # where `--home tmp_path` puts the worker's data folder
    member = join(db, EMAIL)
    cid = submit(db, member, files_of(*EXPORT))
    with db.sessions() as session:
        job_id = session.get_one(Contribution, cid).job_id
    assert job_id is not None

    doomed = start_worker("first")
    _wait("the first worker to be reading", lambda: _job(db, job_id).progress_done >= 1)
    doomed.send_signal(signal.SIGKILL)
    assert doomed.wait(timeout=30) == -signal.SIGKILL
    caught = _job(db, job_id)
    assert caught.status is JobStatus.RUNNING and caught.attempts == 1 and caught.lease_token is not None
    assert caught.progress_total is not None and 1 <= caught.progress_done < caught.progress_total, "not mid-way"
    with db.sessions() as session:
        assert session.get_one(Contribution, cid).status is ContributionStatus.PENDING
        assert session.scalar(select(func.count()).select_from(PoolFile)) == 0
    # The killed worker left its scratch folder (the unsealed export) behind.
    [left_behind] = list(scratch_root(db.settings).iterdir())

    survivor = start_worker("second")
    _wait("the job to be done", lambda: _job(db, job_id).status is JobStatus.DONE)
    survivor.send_signal(signal.SIGTERM)  # stops once the jobs under way are finished
    assert survivor.wait(timeout=60) == 0

    done = _job(db, job_id)
    assert done.attempts == 2 and done.result == {"contribution_id": cid} and done.progress_done == done.progress_total
    with db.sessions() as session:
        row = session.get_one(Contribution, cid)
        assert row.status is ContributionStatus.ACCEPTED and row.plays_added == EXPORT_PLAYS
        assert row.upload_path is None and not any((db.settings.data_dir / "contributions" / member).glob("*.upload"))
        assert session.scalar(select(func.count()).select_from(PoolFile)) == 1
        assert catalog.counts(session).total == EXPORT_PLAYS
        assert [e.member_id for e in events(session, "contribution-accepted")] == [member]
        assert audit.verify_chain(session) == (True, None)
        assert catalog.reconcile(session, pool_of(db.settings)).consistent
    # The next attempt removed what the dead one had unsealed before unsealing its own, and removed its own after.
    assert not left_behind.exists() and not any(scratch_root(db.settings).iterdir())
    log = (tmp_path / "second.log").read_text()
    assert f"job {job_id} (validate-contribution): its lease expired; now queued" in log
    assert EMAIL not in log and "Traceback" not in log
