"""Background jobs: work that must not hold a web request or a database connection for seconds (validating an upload)
or that nobody asks for (housekeeping) is queued in the cooperative's own database, on SQLite and PostgreSQL alike,
and done by workers. ``queue`` holds the table's operations (enqueue with a unique key per subject, claim under a
lease, heartbeat, complete, fail and retry with back-off, recover expired leases), with fencing so that only the
current lease holder's outcome counts; ``run`` is a job as its handler sees it; ``kinds`` and ``registry`` declare
the kinds of jobs as data; ``worker`` runs them, and ``service`` is the ``tutti coop worker`` process;
``housekeeping`` is the periodic cleaning, and ``outbox`` sends kept mail again. No queueing library serves both
databases through SQLAlchemy, so this one is small and tested hard (tests/coop/test_jobs.py).
"""

from tutti.coop.jobs.kinds import JobKind
from tutti.coop.jobs.queue import Lease, LeaseLost
from tutti.coop.jobs.run import JobFailed, JobRun

__all__ = ["JobFailed", "JobKind", "JobRun", "Lease", "LeaseLost"]
