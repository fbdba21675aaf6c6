"""``tutti coop worker``: a process that runs the cooperative's background jobs until it is told to stop.

It works on a database that ``tutti coop init`` founded and ``tutti coop serve`` (or ``init``) migrated; it never
migrates itself, so servers and workers started together cannot race to. SIGTERM or Ctrl-C stop it once the jobs
under way are finished; SIGKILL stops it at once, and another worker takes its job over when the lease expires.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from tutti.coop.bootstrap import existing_name
from tutti.coop.db import current_revision, display_url, head_revision, make_engine, session_factory
from tutti.coop.errors import ConfigError
from tutti.coop.jobs.worker import Worker, Workers
from tutti.coop.settings import load_coop_settings


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
    settings = load_coop_settings(home, database_url)
    engine = make_engine(settings.database_url)
    try:
        where = display_url(settings.database_url)
        if current_revision(engine) != head_revision():
            raise ConfigError(f"{where} is not migrated to this version; run `tutti coop serve` (or init) first")
        with Session(engine) as session:
            name = existing_name(session)
        if name is None:
            raise ConfigError(f"{where} holds no cooperative yet; found one with `tutti coop init`")
        sessions = session_factory(engine, settings)
        if drain:
            return Worker(sessions, settings).drain()
        workers = Workers(sessions, settings, concurrency)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda _signum, _frame: workers.stop_soon())
        workers.start()
        announce(f"working for the cooperative {name!r} with {concurrency} worker(s) (database {where})")
        workers.wait()
        announce("stopped")
        return 0
    finally:
        engine.dispose()
