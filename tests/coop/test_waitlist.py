"""Onboarding capacity (changed only by passed policy proposals) and the FIFO waitlist, on SQLite and PostgreSQL."""

from __future__ import annotations

import inspect
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.coop.conftest import CoopDb, steward_of
from tests.helpers.governance import pass_policy
from tutti.coop import audit
from tutti.coop.errors import InvalidInput
from tutti.coop.governance import proposals
from tutti.coop.members import accounts, waitlist
from tutti.coop.models import AuditEvent, Member, OnboardingPolicy, Status

PASSWORD = "a long enough password"
DAY = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


def _signups(db: CoopDb, names: list[str], when: datetime = DAY) -> list[Member]:
    joined = []
    for n, name in enumerate(names):
        with db.sessions.begin() as session:
            joined.append(accounts.signup(session, f"{name}@example.org", PASSWORD, now=when + timedelta(minutes=n)))
    return joined


def _set_capacity(db: CoopDb, per_day: int, when: datetime = DAY) -> str:
    """The capacity changed at ``when`` by a passed policy proposal; the proposal's id."""
    return pass_policy(db.sessions, {"capacity_per_day": per_day}, in_force=when)


def test_signups_beyond_the_days_capacity_wait_in_order(founded_db: CoopDb) -> None:
    _set_capacity(founded_db, 2, DAY - timedelta(days=1))
    joined = _signups(founded_db, ["ana", "ben", "cy", "dee", "eve"])
    assert [m.status for m in joined] == [Status.ACTIVE] * 2 + [Status.WAITLISTED] * 3
    with founded_db.sessions() as session:
        positions = [waitlist.waitlist_position(session, m) for m in joined]
        assert positions == [None, None, 1, 2, 3]
        assert waitlist.waiting(session) == 3
        assert waitlist.remaining_on(session, DAY.date()) == 0


def test_the_next_day_admits_the_oldest_first(founded_db: CoopDb) -> None:
    _set_capacity(founded_db, 1, DAY - timedelta(days=1))
    ana, ben, cy, dee = _signups(founded_db, ["ana", "ben", "cy", "dee"])
    tomorrow = DAY.date() + timedelta(days=1)
    with founded_db.sessions.begin() as session:
        admitted = waitlist.admit_waiting(session, tomorrow)
        assert [m.id for m in admitted] == [ben.id]
        assert admitted[0].activated_utc == datetime(2025, 6, 3, tzinfo=UTC)
        assert waitlist.admit_waiting(session, tomorrow) == []
    with founded_db.sessions() as session:
        assert [waitlist.waitlist_position(session, m) for m in (ana, ben, cy, dee)] == [None, None, 1, 2]


def test_a_new_day_admits_without_anyone_signing_up(founded_db: CoopDb) -> None:
    _set_capacity(founded_db, 1, DAY - timedelta(days=1))
    ana, ben = _signups(founded_db, ["ana", "ben"])
    assert (ana.status, ben.status) == (Status.ACTIVE, Status.WAITLISTED)
    with founded_db.sessions.begin() as session:
        assert waitlist.admit_waiting(session, now=DAY + timedelta(hours=5)) == []  # the same day: still full
        [admitted] = waitlist.admit_waiting(session, now=DAY + timedelta(days=1, minutes=1))
        assert admitted.id == ben.id and admitted.activated_utc == DAY + timedelta(days=1, minutes=1)
        assert waitlist.waiting(session) == 0


def test_the_queue_lists_those_waiting_in_admission_order(founded_db: CoopDb) -> None:
    _set_capacity(founded_db, 1, DAY - timedelta(days=1))
    _, ben, cy, dee = _signups(founded_db, ["ana", "ben", "cy", "dee"])
    with founded_db.sessions() as session:
        assert waitlist.queue(session) == [
            waitlist.QueuedMember(1, ben.id, DAY + timedelta(minutes=1)),
            waitlist.QueuedMember(2, cy.id, DAY + timedelta(minutes=2)),
            waitlist.QueuedMember(3, dee.id, DAY + timedelta(minutes=3)),
        ]
        assert [q.member_id for q in waitlist.queue(session, 2)] == [ben.id, cy.id]
        assert [waitlist.waitlist_position(session, m) for m in (ben, cy, dee)] == [1, 2, 3]


def test_a_signup_on_a_new_day_lets_those_waiting_go_first(founded_db: CoopDb) -> None:
    _set_capacity(founded_db, 1, DAY - timedelta(days=1))
    _, ben = _signups(founded_db, ["ana", "ben"])
    (cy,) = _signups(founded_db, ["cy"], when=DAY + timedelta(days=1))
    with founded_db.sessions() as session:
        assert session.get_one(Member, ben.id).status is Status.ACTIVE
        assert cy.status is Status.WAITLISTED
        assert waitlist.waitlist_position(session, cy) == 1


def test_a_passed_raise_of_the_capacity_lets_more_in_today(founded_db: CoopDb) -> None:
    pause = _set_capacity(founded_db, 0, DAY - timedelta(days=1))
    waiting = _signups(founded_db, ["ana", "ben", "cy"])
    assert all(m.status is Status.WAITLISTED for m in waiting)
    raise_ = _set_capacity(founded_db, 2, DAY + timedelta(hours=1))
    with founded_db.sessions.begin() as session:
        # The raise admitted the two longest waiting by itself: nothing is left for today.
        statuses = [session.get_one(Member, m.id).status for m in waiting]
        assert statuses == [Status.ACTIVE, Status.ACTIVE, Status.WAITLISTED]
        assert [session.get_one(Member, m.id).activated_utc for m in waiting[:2]] == [DAY + timedelta(hours=1)] * 2
        assert waitlist.admit_waiting(session, now=DAY + timedelta(hours=1)) == []
    with founded_db.sessions() as session:
        assert waitlist.capacity(session) == 2
        assert waitlist.waitlist_position(session, waiting[2]) == 1
        policies = session.scalars(select(OnboardingPolicy).order_by(OnboardingPolicy.id)).all()
        assert [(p.capacity_per_day, p.changed_by) for p in policies] == [(100, None), (0, None), (2, None)]
        rows = session.scalars(select(AuditEvent).where(AuditEvent.kind == "capacity-changed").order_by(AuditEvent.seq))
        assert [audit.load_event(row) for row in rows] == [
            audit.CapacityChanged(capacity=0, previous=100, proposal_id=pause),
            audit.CapacityChanged(capacity=2, previous=0, proposal_id=raise_),
        ]


def test_no_steward_sets_the_capacity_outside_a_vote(founded_db: CoopDb) -> None:
    # The one function that changes it takes a proposal, not a member; nothing in the domain takes a steward's word.
    assert not hasattr(waitlist, "set_capacity")
    assert "member" not in inspect.signature(waitlist.change_capacity).parameters
    with founded_db.sessions() as session, pytest.raises(InvalidInput, match="between 0 and"):
        waitlist.change_capacity(session, -1, proposal_id="none")
    with founded_db.sessions() as session, pytest.raises(InvalidInput, match="capacity_per_day"):
        proposals.draft_policy(session, steward_of(session), "Too many", {"capacity_per_day": 10_000_000})


def test_admissions_are_counted_per_utc_day(founded_db: CoopDb) -> None:
    _set_capacity(founded_db, 3, DAY - timedelta(days=2))
    late = datetime(2025, 6, 2, 23, 59, tzinfo=UTC)
    _signups(founded_db, ["ana", "ben"], when=late - timedelta(minutes=5))
    with founded_db.sessions() as session:
        assert waitlist.admitted_on(session, date(2025, 6, 2)) == 2
        assert waitlist.admitted_on(session, date(2025, 6, 3)) == 0
        assert waitlist.remaining_on(session, date(2025, 6, 2)) == 1


def test_joining_and_admission_are_in_the_audit_log(founded_db: CoopDb) -> None:
    _set_capacity(founded_db, 0, DAY - timedelta(days=1))
    (ana,) = _signups(founded_db, ["ana"])
    _set_capacity(founded_db, 1, DAY + timedelta(hours=1))
    with founded_db.sessions.begin() as session:
        waitlist.admit_waiting(session, now=DAY + timedelta(hours=1))
    with founded_db.sessions() as session:
        events = [audit.load_event(row) for row in audit.events_about(session, ana.id)]
        assert events == [audit.MemberJoined(member_id=ana.id, waitlisted=True), audit.MemberAdmitted(member_id=ana.id)]
        assert audit.verify_chain(session) == (True, None)


def test_concurrent_signups_never_exceed_the_days_capacity(founded_db: CoopDb) -> None:
    _set_capacity(founded_db, 3, DAY - timedelta(days=1))

    def join(n: int) -> Status:
        with founded_db.sessions.begin() as session:
            return accounts.signup(session, f"racer{n}@example.org", PASSWORD, now=DAY).status

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(join, range(6)))
    assert statuses.count(Status.ACTIVE) == 3
    with founded_db.sessions() as session:
        assert waitlist.waiting(session) == 3
        assert sorted(waitlist.waitlist_position(session, m) or 0 for m in session.scalars(select(Member))) == [
            0,
            0,
            0,
            0,
            1,
            2,
            3,
        ]
