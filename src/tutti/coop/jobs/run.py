"""A job as its handler sees it while it runs: the payload, progress to report, and the transaction that settles it.

A handler computes without holding a database connection (it opens short sessions to load what it needs), then
writes its effects inside ``settle()``: one transaction that first holds the lease (``queue.hold``) and ends by
marking the job done (``queue.complete``), so the job's outcome and its effects commit together or not at all.
A handler that lost its lease meanwhile gets ``LeaseLost`` from ``progress``, ``check`` or ``settle`` and
changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tutti.coop.errors import CoopError
from tutti.coop.jobs import queue
from tutti.coop.jobs.queue import Lease, LeaseLost
from tutti.coop.settings import CoopSettings


class JobFailed(CoopError):
    """A handler's refusal to go on: ``code`` names the failure for the operator, ``retry`` says whether another
    attempt could succeed (a missing file will not reappear; a database that was down may be back)."""

    def __init__(self, code: str, message: str, *, retry: bool = False) -> None:
        self.code = code
        self.retry = retry
        super().__init__(f"{code}: {message}")


@dataclass
class JobRun:
    """One attempt at one job, handed to the kind's handler."""

    lease: Lease
    sessions: sessionmaker[Session]
    settings: CoopSettings
    # Set by the heartbeat when another worker took the job over: the handler stops at its next report.
    lost: threading.Event = field(default_factory=threading.Event)
    result: dict[str, Any] = field(default_factory=dict)
    settled: bool = False

    @property
    def payload(self) -> dict[str, Any]:
        return self.lease.payload

    def check(self) -> None:
        """LeaseLost if the heartbeat found the job taken over."""
        if self.lost.is_set():
            raise LeaseLost(f"job {self.lease.job_id} was taken over by another worker")

    def progress(self, done: int, total: int | None, note: str = "") -> None:
        """Show how far the job is (in a short transaction of its own); LeaseLost when no longer ours."""
        self.check()
        try:
            with self.sessions.begin() as session:
                queue.progress(session, self.lease, done, total, note)
        except LeaseLost:
            self.lost.set()
            raise

    @contextmanager
    def settle(self) -> Iterator[Session]:
        """The transaction that writes the job's effects and marks it done with ``result``; see the module."""
        self.check()
        with self.sessions.begin() as session:
            queue.hold(session, self.lease)
            yield session
            queue.complete(session, self.lease, self.result)
        self.settled = True
