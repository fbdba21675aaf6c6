"""The audit log: declared events only, no personal data, a signed hash chain that shows any tampering."""

from __future__ import annotations

import dataclasses
import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import func, select, text, update

from tests.coop.conftest import CoopDb
from tutti.coop import actions, audit
from tutti.coop.members import accounts
from tutti.coop.models import AuditEvent, Cooperative, Member, Role, Status

PASSWORD = "a long enough password"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _fill(db: CoopDb, events: int = 5) -> None:
    with db.sessions.begin() as session:
        for n in range(events):
            audit.record(
                session,
                audit.ContributionAccepted(member_id=f"m{n}", contribution_id=f"c{n}", plays_added=n, score=n),
                now=T0 + timedelta(seconds=n),
            )


def test_events_chain_from_the_founding_link(coop_db: CoopDb) -> None:
    _fill(coop_db)
    with coop_db.sessions() as session:
        rows = session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
        assert rows[0].kind == "cooperative-founded" and rows[0].prev_hash == "0" * 64
        assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(rows))
        assert rows[3].payload == '{"contribution_id":"c2","member_id":"m2","plays_added":2,"score":2}'
        assert audit.verify_chain(session) == (True, None)
        assert session.scalars(select(Cooperative.audit_head)).one() == rows[-1].hash


def test_events_read_back_as_the_typed_events_recorded(coop_db: CoopDb) -> None:
    event = audit.ContributionRejected(member_id="m1", contribution_id="c1", reasons=("too few plays", "a copy"))
    with coop_db.sessions.begin() as session:
        audit.record(session, event)
    with coop_db.sessions() as session:
        assert [audit.load_event(row) for row in audit.events_about(session, "m1")] == [event]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload", '{"contribution_id":"c2","member_id":"m2","plays_added":2000,"score":2}'),
        ("kind", "member-withdrew"),
        ("member_id", "m9"),
        ("created_utc", datetime(2030, 1, 1, tzinfo=UTC)),
    ],
)
def test_editing_any_field_of_a_link_is_caught_at_that_link(coop_db: CoopDb, column: str, value: object) -> None:
    _fill(coop_db)
    with coop_db.sessions.begin() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 4).values({column: value}))
    with coop_db.sessions() as session:
        assert audit.verify_chain(session) == (False, 4)


def test_rehashing_an_edited_link_without_the_signing_key_is_caught(coop_db: CoopDb) -> None:
    _fill(coop_db)
    with coop_db.sessions.begin() as session:
        row = session.get_one(AuditEvent, 6)
        row.payload = row.payload.replace('"score":4', '"score":400')
        row.hash = audit.link_hash(row.seq, row.kind, row.created_utc, row.member_id, row.payload, row.prev_hash)
        session.execute(update(Cooperative).values(audit_head=row.hash))
    with coop_db.sessions() as session:
        assert audit.verify_chain(session) == (False, 6)


@pytest.mark.parametrize(("deleted", "first_bad"), [(3, 3), (6, 6)], ids=["middle", "newest"])
def test_removing_links_is_caught(coop_db: CoopDb, deleted: int, first_bad: int) -> None:
    _fill(coop_db)
    with coop_db.sessions.begin() as session:
        session.execute(text("DELETE FROM audit_event WHERE seq = :seq"), {"seq": deleted})
    with coop_db.sessions() as session:
        assert audit.verify_chain(session) == (False, first_bad)


def test_only_declared_events_are_recorded(coop_db: CoopDb) -> None:
    @dataclass(frozen=True)
    class Undeclared(audit.Event):
        kind: ClassVar[str] = "undeclared"
        member_id: str

    with coop_db.sessions() as session, pytest.raises(TypeError, match="not a declared audit event"):
        audit.record(session, Undeclared(member_id="m1"))


def test_no_event_can_carry_personal_data_or_secrets() -> None:
    for cls in audit.EVENTS:
        for field in dataclasses.fields(cls):
            assert not audit.FORBIDDEN_NAME_PARTS & set(field.name.split("_")), (cls, field.name)

    @dataclass(frozen=True)
    class Leaky(audit.Event):
        kind: ClassVar[str] = "leaky"
        member_email: str

    with pytest.raises(TypeError, match="member_email"):
        audit.check_declaration(Leaky)


def test_the_log_of_a_signup_holds_no_email_or_password(coop_db: CoopDb) -> None:
    with coop_db.sessions.begin() as session:
        accounts.signup(session, "Private.Person@example.org", PASSWORD)
    with coop_db.sessions.begin() as session:
        _, token, csrf = accounts.login(session, "private.person@example.org", PASSWORD)
    with coop_db.engine.connect() as connection:
        dump = " ".join(str(row) for row in connection.execute(text("SELECT * FROM audit_event"))).lower()
    for secret in ("private.person", "example.org", PASSWORD, token.lower(), csrf.lower()):
        assert secret not in dump


def test_every_action_names_declared_events_and_checks_who_acts() -> None:
    assert len({action.name for action in actions.ACTIONS}) == len(actions.ACTIONS)
    for action in actions.ACTIONS:
        assert action.description and action.events
        assert all(event in audit.EVENTS for event in action.events)
    visitor, steward = None, _member(Role.STEWARD, Status.ACTIVE)
    waiting = _member(Role.MEMBER, Status.WAITLISTED)
    assert actions.allowed(actions.SIGNUP, visitor) and not actions.allowed(actions.SIGNUP, steward)
    assert actions.allowed(actions.OPEN_VOTE, steward)
    assert not actions.allowed(actions.CONTRIBUTE, waiting) and actions.allowed(actions.WITHDRAW, waiting)
    assert not actions.allowed(actions.CONTRIBUTE, _member(Role.BUYER, Status.ACTIVE))
    assert not actions.allowed(actions.EXPORT_DATA, _member(Role.MEMBER, Status.WITHDRAWN))


def _member(role: Role, status: Status) -> Member:
    return Member(id="x", role=role, status=status)


def test_concurrent_writers_append_one_unbroken_chain(coop_db: CoopDb) -> None:
    def write(worker: int) -> None:
        for n in range(8):
            with coop_db.sessions.begin() as session:
                audit.record(session, audit.MemberAdmitted(member_id=f"w{worker}-{n}"))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(4)))
    with coop_db.sessions() as session:
        assert audit.verify_chain(session) == (True, None)
        assert session.scalar(select(func.count()).select_from(AuditEvent)) == 1 + 4 * 8
