"""Fixed-window rate limits kept in the database, so every server process counts the same attempts.

Limits are declared once in ``tutti.coop.limits.LIMITS``; the cooperative's settings say each one's rule. A
subject (an email, a client address, a member id) is never stored: the row's key is an HMAC of action and subject
under the server's session secret.

Each hit is counted in its own short transaction and committed at once, so a failed login still counts even
though the caller rolls its own work back. Call ``hit`` before the caller's session writes anything: on SQLite
a second writer would wait for the caller's open write.

A request's session has usually read already (who is asking) and holds a connection for it. Counting on a
second connection meanwhile made each request hold two, and a burst that took every connection of the pool
waited for ever-missing second ones (until the pool's timeout). So the caller's reads are committed first and
its connection goes back to the pool, where the count takes it: one connection at a time. Only a transaction
the caller began explicitly (``with session.begin()``), which ``hit`` may not end, is left open.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import Connection, Engine, case, delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransactionOrigin

from tutti.coop.db import settings_of
from tutti.coop.errors import RateLimited
from tutti.coop.limits import LIMITS_BY_ACTION
from tutti.coop.models import RateLimitWindow, utcnow

__all__ = ["LIMITS_BY_ACTION", "hit", "purge"]


def _key(secret: bytes, action: str, subject: str) -> str:
    return hmac.new(secret, f"{action}\x00{subject}".encode(), hashlib.sha256).hexdigest()


def _count(connection: Connection, key: str, window: int) -> int | None:
    hits = connection.execute(
        update(RateLimitWindow)
        .where(RateLimitWindow.key == key)
        .values(
            # Both expressions read the row as it was: a new window restarts the count at 1.
            hits=case((RateLimitWindow.window_start == window, RateLimitWindow.hits + 1), else_=1),
            window_start=window,
        )
        .returning(RateLimitWindow.hits)
    ).scalar_one_or_none()
    return hits


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name == "sqlite" and session.in_transaction():
        dbapi = session.connection().connection.dbapi_connection
        # The stdlib driver opens a transaction at the first write; past it, a second writer (ours) would wait
        # out the busy timeout and fail.
        if dbapi is not None and getattr(dbapi, "in_transaction", False):
            raise RuntimeError("ratelimit.hit must be called before the session writes anything")
    return engine


def _release_reads(session: Session) -> None:
    """Commit the caller's implicit, read-only transaction, so its connection is free for the count."""
    transaction = session.get_transaction()
    if transaction is None or transaction.origin is not SessionTransactionOrigin.AUTOBEGIN:
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("ratelimit.hit must be called before the session writes anything")
    session.commit()


def hit(session: Session, action: str, subject: str, *, now: datetime | None = None) -> None:
    """Count one attempt of ``action`` by ``subject``; RateLimited (with seconds to wait) once over the limit."""
    settings = settings_of(session)
    limit = settings.limits.get(action) or LIMITS_BY_ACTION[action].default
    moment = int((now or utcnow()).timestamp())
    window = moment - moment % limit.window_seconds
    key = _key(settings.session_secret, action, subject)
    engine = _engine_of(session)
    _release_reads(session)
    with engine.begin() as connection:
        hits = _count(connection, key, window)
        if hits is None:
            try:
                with connection.begin_nested():
                    connection.execute(insert(RateLimitWindow).values(key=key, window_start=window, hits=1))
                hits = 1
            except IntegrityError:
                # Another process made the row between our update and insert: count on it.
                hits = _count(connection, key, window) or 1
    if hits > limit.attempts:
        raise RateLimited(action, retry_after=max(1, window + limit.window_seconds - moment))


def purge(session: Session, *, now: datetime | None = None) -> int:
    """Forget windows older than the longest limit."""
    longest = max(rule.window_seconds for rule in settings_of(session).limits.values())
    oldest = int((now or utcnow()).timestamp()) - longest
    result = session.execute(delete(RateLimitWindow).where(RateLimitWindow.window_start < oldest))
    return int(getattr(result, "rowcount", 0) or 0)
