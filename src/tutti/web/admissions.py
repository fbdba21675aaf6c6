"""The waitlist moves on its own: while the server runs, it admits whoever today's capacity has room for.

Signups and stewards raising the capacity admit at once (``tutti.coop.members.waitlist``); what is left is a new UTC
day, noticed here by a pass every ``ADMIT_EVERY_SECONDS``, the first at startup. Pages and the API only read
the queue, so a waitlisted member polling their place never writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from tutti.coop.members import waitlist
from tutti.coop.models import utcnow

ADMIT_EVERY_SECONDS = 60.0
_log = logging.getLogger(__name__)


def admit_due(sessions: sessionmaker[Session], *, now: datetime | None = None) -> list[str]:
    """One pass: the ids of the members admitted, oldest first.

    Reads first, in a transaction of its own, so a full day or an empty queue (most passes) costs no write.
    """
    when = now or utcnow()
    with sessions() as session:
        if not waitlist.waiting(session) or not waitlist.remaining_on(session, when.date()):
            return []
    with sessions.begin() as session:
        return [member.id for member in waitlist.admit_waiting(session, now=when)]


async def _admit_periodically(sessions: sessionmaker[Session], every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            # In a worker thread: the database calls block, the event loop serves requests meanwhile.
            await asyncio.to_thread(admit_due, sessions)
        except Exception:
            _log.exception("admitting from the waitlist failed; trying again in %g s", every)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


@contextlib.asynccontextmanager
async def admitting(sessions: sessionmaker[Session], every: float | None) -> AsyncIterator[None]:
    """Run the admission passes (every ``every`` seconds; None runs none) for as long as the context lasts.

    On exit the pass under way finishes before the context ends, so no pass outlives the database engine.
    """
    if every is None:
        yield
        return
    stop = asyncio.Event()
    task = asyncio.create_task(_admit_periodically(sessions, every, stop), name="tutti-admissions")
    try:
        yield
    finally:
        stop.set()
        await task
