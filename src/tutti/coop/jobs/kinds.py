"""What a kind of job is, declared as data: ``registry.KINDS`` lists every kind (and a test checks each is
documented in the README)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from tutti.coop.jobs.queue import DEFAULT_LEASE, DEFAULT_MAX_ATTEMPTS
from tutti.coop.jobs.run import JobRun
from tutti.coop.models import Job


@dataclass(frozen=True)
class JobKind:
    """A kind of background work.

    ``handler`` does one attempt; ``lease`` is how long a worker may go without a heartbeat before the job is
    taken from it; ``every`` makes the workers schedule the kind once per period (housekeeping); ``gave_up``
    runs in the transaction that fails a job for good, to settle what it was for.
    """

    name: str
    description: str
    handler: Callable[[JobRun], None]
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    lease: timedelta = DEFAULT_LEASE
    every: timedelta | None = None
    gave_up: Callable[[Session, Job], None] | None = None
