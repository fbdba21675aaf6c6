"""``tutti coop worker``: a process that runs the cooperative's background jobs until it is told to stop.

It opens the cooperative as the server does (``bootstrap.open_cooperative``: migrations, the master key's check),
then runs its workers. SIGTERM or Ctrl-C stop it once the jobs under way are finished; SIGKILL stops it at once,
and another worker takes its job over when the lease expires.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path

from tutti.coop.bootstrap import open_cooperative
from tutti.coop.db import display_url, session_factory
from tutti.coop.jobs.worker import Worker, Workers


def work(
    home: Path | None,
    database_url: str | None,
    *,
    concurrency: int = 1,
    drain: bool = False,
    announce: Callable[[str], None] = print,
) -> int:
    """Run jobs with ``concurrency`` workers until stopped, or (``drain``) those due now; how many ran when
    draining, else 0."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    running = open_cooperative(home, database_url)
    try:
        sessions = session_factory(running.engine, running.settings)
        if drain:
            return Worker(sessions, running.settings).drain()
        workers = Workers(sessions, running.settings, concurrency)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _signum, _frame: workers.stop_soon())
        workers.start()
        where = display_url(running.settings.database_url)
        announce(f"working for the cooperative {running.name!r} with {concurrency} worker(s) (database {where})")
        workers.wait()
        announce("stopped")
        return 0
    finally:
        running.engine.dispose()
