"""Connections held under load: the rate limiter never takes a second one, validation computes holding none,
and a pool smaller than a burst still serves every request of it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.coop.conftest import CoopDb, EmptyDb, files_of, join, submit, validation_worker
from tutti.coop import ratelimit
from tutti.coop.contributions import checking, copies, pipeline, reading, scoring
from tutti.coop.db import make_engine, session_factory
from tutti.coop.models import Contribution, ContributionStatus, Member

pytestmark = pytest.mark.samples


def _held(engine: Engine) -> int:
    checked_out: Callable[[], int] = getattr(engine.pool, "checkedout")  # noqa: B009 -- QueuePool only
    return checked_out()


def test_a_rate_limit_hit_after_reads_takes_no_second_connection(coop_db: CoopDb) -> None:
    member_id = join(coop_db, "reader@example.org")
    with coop_db.sessions() as session:
        session.get_one(Member, member_id)  # what authenticating a request does: a read, holding a connection
        assert _held(coop_db.engine) == 1
        most = []
        counting = ratelimit._count

        def count(connection: Any, key: str, window: int) -> int | None:
            most.append(_held(coop_db.engine))
            return counting(connection, key, window)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(ratelimit, "_count", count)
            ratelimit.hit(session, "upload", member_id)
        assert most == [1]
        assert session.get_one(Member, member_id).id == member_id  # the session goes on after the count


def test_requests_holding_every_connection_can_still_count(coop_db: CoopDb, empty_db: EmptyDb) -> None:
    # Every connection of the pool held by a request that has read and is about to count: counting on a second
    # connection would leave each waiting for one the other holds.
    engine = make_engine(empty_db.url, schema=empty_db.schema, connections=2)
    engine.pool._timeout = 5  # type: ignore[attr-defined]  # fail fast if it waits at all
    sessions = session_factory(engine, coop_db.settings)
    members = [join(coop_db, f"burst{n}@example.org") for n in range(2)]
    start, failures = threading.Barrier(len(members)), []

    def request(member_id: str) -> None:
        try:
            with sessions() as session:
                session.get_one(Member, member_id)
                start.wait(timeout=10)
                ratelimit.hit(session, "upload", member_id)
                session.get_one(Member, member_id)
        except Exception as exc:
            failures.append(repr(exc))

    threads = [threading.Thread(target=request, args=(m,)) for m in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    engine.dispose()
    assert failures == []


def test_a_hit_inside_a_transaction_begun_explicitly_leaves_it_open(coop_db: CoopDb) -> None:
    member_id = join(coop_db, "explicit@example.org")
    with coop_db.sessions.begin() as session:
        session.get_one(Member, member_id)
        ratelimit.hit(session, "upload", member_id)
        assert session.in_transaction()


def test_validation_computes_holding_no_connection(coop_db: CoopDb, monkeypatch: pytest.MonkeyPatch) -> None:
    member_id = join(coop_db, "mica@example.org")
    cid = submit(coop_db, member_id, files_of("spotify-extended", "mica-92"))
    held: dict[str, int] = {}
    for module, name in (
        (reading, "read_upload"),
        (checking, "check"),
        (copies, "fingerprint_upload"),
        (scoring, "score_new"),
    ):
        real = getattr(module, name)

        def watched(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            held[f"{_name} (before)"] = _held(coop_db.engine)
            result = _real(*args, **kwargs)
            held[f"{_name} (after)"] = _held(coop_db.engine)
            return result

        monkeypatch.setattr(module, name, watched)
    assert getattr(pipeline, "reading") is reading  # noqa: B009 -- the module the pipeline calls
    assert validation_worker(coop_db).drain() == 1
    with coop_db.sessions() as session:
        assert session.get_one(Contribution, cid).status is ContributionStatus.ACCEPTED
        assert session.scalar(select(Contribution.id)) == cid
    assert len(held) == 8 and set(held.values()) == {0}, held
