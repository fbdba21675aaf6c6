"""Rate limits kept in the database, so every server process counts the same attempts: fixed windows
(``hit``), and for logins a back-off that grows with each failure (``attempt``).

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
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, Engine, case, delete, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, SessionTransactionOrigin

from tutti.coop.db import settings_of
from tutti.coop.errors import RateLimited
from tutti.coop.limits import LIMITS_BY_ACTION, Rule
from tutti.coop.models import RateLimitWindow, utcnow

__all__ = ["LIMITS_BY_ACTION", "attempt", "hit", "purge", "succeeded"]


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


# Logins: past a bucket's allowed failures, each attempt waits, the wait doubling from this up to the rule's window.
FIRST_WAIT_SECONDS = 30


def wait_after(failures: int, allowed: int, longest: int) -> int:
    """Seconds the next attempt waits after ``failures`` in a row (none while within ``allowed``)."""
    if failures < allowed:
        return 0
    return int(min(longest, FIRST_WAIT_SECONDS * 2 ** min(failures - allowed, 32)))


Bucket = tuple[str, str]  # (action, subject): whose attempts are counted together


def _backoff_key(secret: bytes, bucket: Bucket) -> str:
    return _key(secret, f"backoff:{bucket[0]}", bucket[1])


def attempt(session: Session, buckets: Sequence[Bucket], *, now: datetime | None = None) -> None:
    """Count one login attempt in each bucket, as a failure until ``succeeded`` says otherwise; RateLimited (with
    the seconds left) while any bucket waits, and then nothing is counted.

    Counted before the password is checked, in a transaction of its own and committed at once (see ``hit``): many
    attempts sent at once each count, so none slips past a wait that an earlier one set. A bucket's row (in the
    rate limit table) keeps the failures in a row and, as ``window_start``, the moment its next attempt may come;
    ``purge`` forgets a bucket quiet for longer than the longest limit's window.
    """
    settings = settings_of(session)
    moment = int((now or utcnow()).timestamp())
    rules = {b: settings.limits.get(b[0]) or LIMITS_BY_ACTION[b[0]].default for b in buckets}
    keys = {b: _backoff_key(settings.session_secret, b) for b in buckets}
    engine = _engine_of(session)
    _release_reads(session)
    _count_attempt(engine, buckets, keys, rules, moment)


def _count_attempt(
    engine: Engine, buckets: Sequence[Bucket], keys: dict[Bucket, str], rules: dict[Bucket, Rule], moment: int
) -> None:
    with engine.begin() as connection:
        # Every bucket's row made first if missing, then read locked: concurrent attempts queue here, each reading
        # what the one before it wrote (SQLite: the insert takes the write lock; PostgreSQL: the rows' locks).
        insert_new = sqlite_insert if connection.dialect.name == "sqlite" else postgresql_insert
        connection.execute(
            insert_new(RateLimitWindow)
            .values([{"key": key, "hits": 0, "window_start": 0} for key in keys.values()])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        rows = {
            key: (hits, until)
            for key, hits, until in connection.execute(
                select(RateLimitWindow.key, RateLimitWindow.hits, RateLimitWindow.window_start)
                .where(RateLimitWindow.key.in_(keys.values()))
                .with_for_update()
            )
        }
        waiting = [(rows[keys[b]][1] - moment, b[0]) for b in buckets if rows[keys[b]][1] > moment]
        if waiting:
            seconds, action = max(waiting)
            raise RateLimited(action, retry_after=max(1, seconds))
        for bucket in buckets:
            failures = rows[keys[bucket]][0] + 1
            rule = rules[bucket]
            until = moment + wait_after(failures, rule.attempts, rule.window_seconds)
            connection.execute(
                update(RateLimitWindow)
                .where(RateLimitWindow.key == keys[bucket])
                .values(hits=failures, window_start=until)
            )


def succeeded(
    session: Session, *, forget: Sequence[Bucket], give_back: Sequence[Bucket], now: datetime | None = None
) -> None:
    """A login attempt succeeded, in the caller's transaction: the ``forget`` buckets (the account, the device)
    start again from nothing; the ``give_back`` ones (the client, which may be guessing at other accounts) have
    this attempt taken off their failures, no more."""
    settings = settings_of(session)
    moment = int((now or utcnow()).timestamp())
    if forget:
        keys = [_backoff_key(settings.session_secret, b) for b in forget]
        session.execute(delete(RateLimitWindow).where(RateLimitWindow.key.in_(keys)))
    for bucket in give_back:
        rule = settings.limits.get(bucket[0]) or LIMITS_BY_ACTION[bucket[0]].default
        row = session.get(RateLimitWindow, _backoff_key(settings.session_secret, bucket))
        if row is not None:
            row.hits = max(0, row.hits - 1)
            row.window_start = moment + wait_after(row.hits, rule.attempts, rule.window_seconds) if row.hits else moment


def purge(session: Session, *, now: datetime | None = None) -> int:
    """Forget windows older than the longest limit."""
    longest = max(rule.window_seconds for rule in settings_of(session).limits.values())
    oldest = int((now or utcnow()).timestamp()) - longest
    result = session.execute(delete(RateLimitWindow).where(RateLimitWindow.window_start < oldest))
    return int(getattr(result, "rowcount", 0) or 0)
