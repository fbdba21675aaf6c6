"""Kinds of jobs for the queue's tests: each settled attempt writes one row to a table of its own, so a test can
count how many times each job's effects were committed (exactly once, whatever the workers did).

A module of its own so that worker processes started by the tests (``spawn``) can import the kinds.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Integer, MetaData, String, Table, func, insert, select

from tutti.coop.db import make_engine, session_factory
from tutti.coop.jobs import JobFailed, JobKind, JobRun
from tutti.coop.jobs.worker import Worker
from tutti.coop.settings import CoopSettings

METADATA = MetaData()
EFFECTS = Table(
    "test_job_effect",
    METADATA,
    Column("id", Integer, primary_key=True),
    Column("job_id", Integer, nullable=False),
    Column("token", String(32), nullable=False),
    Column("worker", String(100), nullable=False),  # process id and thread name
)
# Handlers of PAUSING wait for this before settling (threads only): a test stalls a worker with it.
RELEASE = threading.Event()


def _worker_name() -> str:
    return f"{os.getpid()}/{threading.current_thread().name}"


def _record(run: JobRun) -> None:
    run.progress(0, 2, "working")
    time.sleep(float(run.payload.get("seconds", 0)))
    run.progress(1, 2, "settling")
    with run.settle() as session:
        session.execute(insert(EFFECTS).values(job_id=run.lease.job_id, token=run.lease.token, worker=_worker_name()))
        run.result = {"effect": True}


def _paused(run: JobRun) -> None:
    run.progress(0, 1, "waiting to be released")
    RELEASE.wait(30)
    _record(run)


def _refuse(run: JobRun) -> None:
    raise JobFailed("refused", "this job never works", retry=bool(run.payload.get("retry")))


def _crash(run: JobRun) -> None:
    raise ValueError("a message that must not reach the job's error: ada@example.org")


RECORD = JobKind("test-record", "Write one effect row.", handler=_record)
PAUSING = JobKind("test-pausing", "Wait for the test, then write one effect row.", handler=_paused)
REFUSING = JobKind("test-refusing", "Fail with JobFailed.", handler=_refuse, max_attempts=2)
CRASHING = JobKind("test-crashing", "Raise an unexpected error.", handler=_crash, max_attempts=2)
KINDS = (RECORD, PAUSING, REFUSING, CRASHING)


def create_effects(engine: Engine) -> None:
    METADATA.create_all(engine)


def effects_per_job(engine: Engine) -> dict[int, int]:
    with engine.connect() as connection:
        rows = connection.execute(select(EFFECTS.c.job_id, func.count()).group_by(EFFECTS.c.job_id)).all()
    return {int(job_id): int(n) for job_id, n in rows}


def work_in_process(url: str, schema: str | None, data_dir: str, start: Any) -> None:
    """A worker process's body (``multiprocessing`` spawn): once every process is ready (``start``, a barrier),
    run test jobs until none is due."""
    engine = make_engine(url, schema=schema)
    try:
        settings = CoopSettings.for_tests(Path(data_dir), url)
        worker = Worker(session_factory(engine, settings), settings, KINDS)
        start.wait()
        worker.drain()
    finally:
        engine.dispose()
