"""The waitlist moves on its own, on SQLite and PostgreSQL: a new day's room is filled by the server's periodic
pass, never by a page view (reading one's place writes nothing)."""

from __future__ import annotations

import time
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.coop.conftest import CoopDb, steward_of
from tests.helpers.governance import pass_policy
from tests.web.conftest import PASSWORD, api_login
from tutti.coop import audit
from tutti.coop.members import accounts
from tutti.coop.models import Base, Member, Status, utcnow
from tutti.web import admissions
from tutti.web.app import create_app

HTMX = {"HX-Request": "true"}


def waiting_since_yesterday(db: CoopDb) -> str:
    """Capacity 1, filled yesterday by the founding steward; ada signed up yesterday and waits. Today has room."""
    yesterday = utcnow() - timedelta(days=1)
    pass_policy(db.sessions, {"capacity_per_day": 1}, in_force=yesterday)
    with db.sessions.begin() as session:
        steward = steward_of(session)
        steward.activated_utc = yesterday
        ada = accounts.signup(session, "ada@example.org", PASSWORD, now=yesterday)
        assert ada.status is Status.WAITLISTED
        return ada.id


def snapshot(db: CoopDb) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the cooperative."""
    with db.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


def test_reading_ones_place_writes_nothing_and_the_periodic_pass_admits(
    founded_db: CoopDb, app: FastAPI, client: TestClient
) -> None:
    ada = waiting_since_yesterday(founded_db)
    api_login(client, "ada@example.org", PASSWORD)
    before = snapshot(founded_db)
    assert "You are number <strong>1</strong> on the waitlist" in client.get("/waitlist").text
    assert "hx-trigger" in client.get("/waitlist/position", headers=HTMX).text
    place = client.get("/api/me/waitlist").json()
    assert place == {"status": "waitlisted", "position": 1, "waiting": 1, "capacity_per_day": 1}
    assert client.get("/api/me").json()["status"] == "waitlisted"
    # Today has room, yet no page view admitted anyone: nothing at all was written.
    assert snapshot(founded_db) == before

    assert admissions.admit_due(app.state.sessions) == [ada]
    assert admissions.admit_due(app.state.sessions) == []
    assert client.get("/api/me/waitlist").json()["status"] == "active"
    assert client.get("/waitlist", follow_redirects=False).headers["location"] == "/dashboard"
    with founded_db.sessions() as session:
        logged = [audit.load_event(row) for row in audit.events_about(session, ada)]
        assert logged == [audit.MemberJoined(member_id=ada, waitlisted=True), audit.MemberAdmitted(member_id=ada)]
        assert audit.verify_chain(session) == (True, None)


def test_a_full_day_or_an_empty_queue_costs_the_pass_no_write(founded_db: CoopDb, app: FastAPI) -> None:
    before = snapshot(founded_db)
    assert admissions.admit_due(app.state.sessions) == []
    pass_policy(founded_db.sessions, {"capacity_per_day": 1}, in_force=utcnow())
    with founded_db.sessions.begin() as session:
        accounts.signup(session, "bo@example.org", PASSWORD)
    full = snapshot(founded_db)
    assert full != before
    assert admissions.admit_due(app.state.sessions) == []
    assert snapshot(founded_db) == full
    # The next day (passed explicitly) has room: bo goes in without anyone signing up.
    [bo] = admissions.admit_due(app.state.sessions, now=utcnow() + timedelta(days=1))
    with founded_db.sessions() as session:
        assert session.get_one(Member, bo).status is Status.ACTIVE


def test_the_server_admits_periodically_while_it_runs(founded_db: CoopDb) -> None:
    ada = waiting_since_yesterday(founded_db)
    app = create_app(founded_db.settings, engine=founded_db.engine, admit_every=0.05)
    with TestClient(app):
        deadline = time.monotonic() + 20
        while True:
            with founded_db.sessions() as session:
                if session.get_one(Member, ada).status is Status.ACTIVE:
                    break
            assert time.monotonic() < deadline, "the periodic pass never admitted the waiting member"
            time.sleep(0.05)
    # Stopped with the server: today is full again (ada), cy waits, and room made behind the domain's back (ada's
    # admission moved to yesterday) is not filled any more.
    with founded_db.sessions.begin() as session:
        cy = accounts.signup(session, "cy@example.org", PASSWORD).id
    with founded_db.sessions.begin() as session:
        session.get_one(Member, ada).activated_utc = utcnow() - timedelta(days=1)
    time.sleep(0.3)
    with founded_db.sessions() as session:
        assert session.get_one(Member, cy).status is Status.WAITLISTED
