"""Onboarding: at most ``capacity`` members are admitted per UTC day; the rest wait in signup order.

The capacity is a cooperative policy: the founding value comes from the server's settings, and after that only
a passed policy proposal changes it (``governance.policy.apply`` is the one caller of ``change_capacity``), each
change kept (``onboarding_policy``) and audited. No steward, route or command sets it directly: who joins, and
how fast, is the members' decision.

The queue moves whenever there is room: a signup first admits those waiting, a passed raise of the capacity
admits up to it at once, and a new UTC day is handled by ``admit_waiting``, which the server runs periodically
(reading the queue never admits anyone).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.db import settings_of
from tutti.coop.errors import InvalidInput
from tutti.coop.models import Cooperative, Member, OnboardingPolicy, Status, WaitlistEntry, utcnow

MAX_CAPACITY = 1_000_000


def capacity(session: Session) -> int:
    """Members admitted per day under the policy in force."""
    latest = session.scalars(select(OnboardingPolicy).order_by(OnboardingPolicy.id.desc()).limit(1)).first()
    return latest.capacity_per_day if latest is not None else settings_of(session).onboarding_capacity


def admitted_on(session: Session, day: date) -> int:
    start = datetime.combine(day, time.min, tzinfo=UTC)
    count = session.scalar(
        select(func.count())
        .select_from(Member)
        .where(Member.activated_utc >= start, Member.activated_utc < start + timedelta(days=1))
    )
    return count or 0


def remaining_on(session: Session, day: date) -> int:
    return max(0, capacity(session) - admitted_on(session, day))


def waiting(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(WaitlistEntry)) or 0


def waitlist_position(session: Session, member: Member) -> int | None:
    """1-based place of ``member`` in the queue; None when they are not waiting."""
    entry = session.scalars(select(WaitlistEntry).where(WaitlistEntry.member_id == member.id)).one_or_none()
    if entry is None:
        return None
    ahead = session.scalar(
        select(func.count())
        .select_from(WaitlistEntry)
        .where(tuple_(WaitlistEntry.created_utc, WaitlistEntry.id) < tuple_(entry.created_utc, entry.id))
    )
    return (ahead or 0) + 1


@dataclass(frozen=True)
class QueuedMember:
    """A member waiting: their 1-based place in the queue and since when they wait."""

    position: int
    member_id: str
    since_utc: datetime


def queue(session: Session, limit: int | None = None) -> list[QueuedMember]:
    """The members waiting, in the order they will be admitted (the first ``limit`` of them, if given)."""
    entries = session.scalars(select(WaitlistEntry).order_by(WaitlistEntry.created_utc, WaitlistEntry.id).limit(limit))
    return [QueuedMember(i, e.member_id, e.created_utc) for i, e in enumerate(entries, start=1)]


def _serialise(session: Session) -> None:
    # A no-op write on the cooperative row: takes its row lock (PostgreSQL) or the write lock (SQLite), so two
    # signups cannot both take the last place of the day.
    session.execute(
        update(Cooperative).where(Cooperative.id == 1).values(audit_seq=Cooperative.audit_seq),
        execution_options={"synchronize_session": False},
    )


def _activate(session: Session, member: Member, when: datetime) -> None:
    member.status = Status.ACTIVE
    member.activated_utc = when
    session.execute(delete(WaitlistEntry).where(WaitlistEntry.member_id == member.id))
    session.flush()
    audit.record(session, audit.MemberAdmitted(member_id=member.id), now=when)


def admit_waiting(session: Session, today: date | None = None, *, now: datetime | None = None) -> list[Member]:
    """Admit the longest-waiting members up to what is left of ``today``'s capacity; returns them in order.

    Admissions are stamped ``now``, or the start of ``today`` when admitting for another day than now's.
    """
    _serialise(session)
    when = now or utcnow()
    day = today or when.date()
    if when.date() != day:
        when = datetime.combine(day, time.min, tzinfo=UTC)
    room = remaining_on(session, day)
    if room == 0:
        return []
    queue = session.execute(
        select(Member)
        .join(WaitlistEntry, WaitlistEntry.member_id == Member.id)
        .order_by(WaitlistEntry.created_utc, WaitlistEntry.id)
        .limit(room)
    ).scalars()
    admitted = list(queue)
    for member in admitted:
        _activate(session, member, when)
    return admitted


def placed(session: Session, member: Member) -> bool:
    """Whether the member has been admitted or queued (a new account is neither until its address is confirmed)."""
    if member.status is not Status.WAITLISTED or member.activated_utc is not None:
        return True
    return session.scalar(select(WaitlistEntry.member_id).where(WaitlistEntry.member_id == member.id)) is not None


def place(session: Session, member: Member, *, now: datetime | None = None) -> bool:
    """Admit a new member if today has room once those already waiting are admitted; else queue them.

    Records MemberJoined (and MemberAdmitted when admitted); True when the member is active now.
    """
    when = now or utcnow()
    admit_waiting(session, now=when)
    has_room = remaining_on(session, when.date()) > 0
    audit.record(session, audit.MemberJoined(member_id=member.id, waitlisted=not has_room), now=when)
    if has_room:
        _activate(session, member, when)
    else:
        session.add(WaitlistEntry(member_id=member.id, created_utc=when))
        session.flush()
    return has_room


def change_capacity(
    session: Session, per_day: int, *, proposal_id: str, now: datetime | None = None
) -> OnboardingPolicy:
    """Put a passed proposal's daily capacity in force (for ``governance.policy.apply`` only; 0 pauses onboarding);
    more room today admits the longest-waiting members at once."""
    if not 0 <= per_day <= MAX_CAPACITY:
        raise InvalidInput(f"the capacity must be between 0 and {MAX_CAPACITY:,} members per day")
    when = now or utcnow()
    previous = capacity(session)
    policy = OnboardingPolicy(capacity_per_day=per_day, changed_by=None, changed_utc=when)
    session.add(policy)
    session.flush()
    change = audit.CapacityChanged(capacity=per_day, previous=previous, proposal_id=proposal_id)
    audit.record(session, change, now=when)
    admit_waiting(session, now=when)
    return policy
