"""Workers: claim a job, run it under a lease kept alive by heartbeats, record how it ended; recover jobs whose
worker died; schedule the periodic kinds.

A worker is a loop in a thread (``tutti coop worker`` runs one or more, ``tutti coop serve`` some inside the
server): each turn recovers expired leases, schedules what is due, claims one job and runs it, or sleeps
``poll`` seconds when nothing is due. A job's handler runs in the worker's thread while a second thread
heartbeats its lease every third of the lease; if the heartbeat finds the lease gone (this worker stalled and
another took the job), the handler stops at its next report and writes nothing.

How an attempt ends: the handler settled (effects and ``done`` in one transaction); it raised ``JobFailed``
(retried if it says so and attempts remain, else failed); it crashed (retried: the error code names the
exception type and where, never its message, which could carry personal data); or it lost its lease (nothing
is recorded: the job belongs to another worker now).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from tutti.coop.jobs import queue
from tutti.coop.jobs.kinds import JobKind
from tutti.coop.jobs.queue import Lease, LeaseLost
from tutti.coop.jobs.run import JobFailed, JobRun
from tutti.coop.models import Job, JobStatus, utcnow
from tutti.coop.settings import CoopSettings

POLL_SECONDS = 1.0
SCHEDULE_EVERY = timedelta(minutes=1)
_log = logging.getLogger("tutti.coop.jobs")


def period_key(kind: JobKind, now: datetime) -> str:
    """The unique key of a periodic kind's job for the period holding ``now`` (periods count from the epoch)."""
    assert kind.every is not None
    every = int(kind.every.total_seconds())
    start = int(now.timestamp()) // every * every
    return f"{kind.name}@{datetime.fromtimestamp(start, now.tzinfo).strftime('%Y-%m-%dT%H:%M')}"


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    return f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "unknown place"


class Worker:
    """Runs jobs of ``kinds`` (default: every kind of ``registry.KINDS``) from the cooperative's queue."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        settings: CoopSettings,
        kinds: Sequence[JobKind] | None = None,
        *,
        poll: float = POLL_SECONDS,
    ) -> None:
        if kinds is None:
            from tutti.coop.jobs.registry import KINDS  # the kinds import the domain, which imports the queue

            kinds = KINDS
        self.sessions = sessions
        self.settings = settings
        self.poll = poll
        self.kinds = {kind.name: kind for kind in kinds}
        override = timedelta(seconds=settings.lease_seconds) if settings.lease_seconds else None
        self.leases = {kind.name: override or kind.lease for kind in kinds}
        self._scheduled: datetime | None = None

    def run(self, stop: threading.Event) -> None:
        """Work until ``stop`` is set; the job under way is finished first."""
        while not stop.is_set():
            try:
                if self.run_one() is None:
                    stop.wait(self.poll)
            except Exception:
                # The database went away or refused: say so and try again, as a server would.
                _log.exception("the worker's turn failed; trying again in %g s", self.poll)
                stop.wait(self.poll)

    def run_one(self, *, now: datetime | None = None) -> Lease | None:
        """One turn: recover, schedule, claim a due job and run it. The job's lease, or None when none was due."""
        when = now or utcnow()
        for recovered in queue.recover(self.sessions, now=when, kinds=self.kinds, gave_up=self._gave_up):
            _log.warning("job %d (%s): its lease expired; now %s", recovered.job_id, recovered.kind, recovered.status)
        self.schedule(when)
        with self.sessions() as session:
            if not queue.claimable(session, self.leases, now=when):
                return None
        with self.sessions.begin() as session:
            lease = queue.claim(session, self.leases, now=when)
        if lease is not None:
            self.execute(lease)
        return lease

    def drain(self, *, limit: int = 10_000) -> int:
        """Run jobs until none is due (at most ``limit``); how many ran."""
        ran = 0
        while ran < limit and self.run_one() is not None:
            ran += 1
        return ran

    def schedule(self, now: datetime) -> None:
        """Enqueue each periodic kind's job for the current period, once a ``SCHEDULE_EVERY`` at most."""
        if self._scheduled is not None and now - self._scheduled < SCHEDULE_EVERY:
            return
        self._scheduled = now
        due = {period_key(kind, now): kind for kind in self.kinds.values() if kind.every is not None}
        if not due:
            return
        with self.sessions() as session:
            known = set(session.scalars(select(Job.unique_key).where(Job.unique_key.in_(list(due)))))
        missing = {key: kind for key, kind in due.items() if key not in known}
        if missing:
            with self.sessions.begin() as session:
                for key, kind in missing.items():
                    queue.enqueue(session, kind.name, unique_key=key, max_attempts=kind.max_attempts, now=now)

    def execute(self, lease: Lease) -> None:
        """Run one claimed job to its end (see the module docstring for how an attempt ends)."""
        kind = self.kinds[lease.kind]
        run = JobRun(lease, self.sessions, self.settings)
        finished = threading.Event()
        beat = threading.Thread(
            target=self._heartbeat, args=(run, finished), name=f"tutti-heartbeat-{lease.job_id}", daemon=True
        )
        beat.start()
        started = time.monotonic()
        try:
            kind.handler(run)
            if not run.settled:
                with run.settle():
                    pass
            _log.info("job %d (%s) done in %.1f s", lease.job_id, lease.kind, time.monotonic() - started)
        except LeaseLost:
            _log.warning(
                "job %d (%s) was taken over by another worker; this attempt changed nothing", lease.job_id, lease.kind
            )
        except JobFailed as exc:
            self._fail(run, str(exc), retry=exc.retry)
        except Exception as exc:
            # The frames, not the message: a message can quote a member's file or its contents.
            _log.error(
                "job %d (%s) crashed with %s:\n%s",
                lease.job_id,
                lease.kind,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            self._fail(run, f"crashed: {type(exc).__name__} at {_where(exc)}", retry=True)
        finally:
            finished.set()
            beat.join()

    def _fail(self, run: JobRun, error: str, *, retry: bool) -> None:
        lease = run.lease
        try:
            with self.sessions.begin() as session:
                status = queue.fail(session, lease, error, retry=retry)
                if status is JobStatus.FAILED:
                    self._gave_up(session, session.get_one(Job, lease.job_id))
        except LeaseLost:
            _log.warning("job %d (%s) failed after it was taken over; nothing recorded", lease.job_id, lease.kind)
            return
        _log.warning("job %d (%s), attempt %d: %s; %s", lease.job_id, lease.kind, lease.attempt, error, status)

    def _gave_up(self, session: Session, job: Job) -> None:
        kind = self.kinds.get(job.kind)
        if kind is not None and kind.gave_up is not None:
            kind.gave_up(session, job)

    def _heartbeat(self, run: JobRun, finished: threading.Event) -> None:
        interval = run.lease.duration.total_seconds() / 3
        while not finished.wait(interval):
            try:
                with self.sessions.begin() as session:
                    queue.heartbeat(session, run.lease)
            except LeaseLost:
                run.lost.set()
                return
            except Exception:
                _log.exception("job %d: a heartbeat failed; trying again", run.lease.job_id)


class Workers:
    """``count`` workers, each in a thread of its own, started and stopped together."""

    def __init__(
        self, sessions: sessionmaker[Session], settings: CoopSettings, count: int, *, poll: float = POLL_SECONDS
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.count = count
        self.poll = poll
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=Worker(self.sessions, self.settings, poll=self.poll).run,
                args=(self._stop,),
                name=f"tutti-worker-{n + 1}",
            )
            for n in range(self.count)
        ]
        for thread in self._threads:
            thread.start()

    def stop_soon(self) -> None:
        """Ask every worker to stop once the job under way (if any) is finished; safe from a signal handler."""
        self._stop.set()

    def stop(self) -> None:
        """Ask every worker to stop and wait for the jobs under way to finish."""
        self.stop_soon()
        self.wait()

    def wait(self) -> None:
        """Block until every worker has stopped."""
        for thread in self._threads:
            while thread.is_alive():
                thread.join(timeout=0.5)  # short waits: the main thread stays free to handle signals
