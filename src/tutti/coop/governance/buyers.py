"""Buyers: an organisation applies for a buyer account, a steward approves or refuses, both logged.

An application comes from an account (signed up as anyone does); an approval makes that account a buyer and, if
it was waiting for a place, active without taking a member's place (buyers hold no data and do not vote). A
buyer drafts sales and sees only their own drafts (``proposals``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.actions import APPLY_AS_BUYER, DECIDE_BUYER, require
from tutti.coop.errors import Conflict, InvalidInput, NotFound
from tutti.coop.models import BuyerApplication, Member, Role, Status, WaitlistEntry, new_id, utcnow

KINDS: dict[str, str] = {
    "ai-developer": "develops AI tools",
    "researcher": "academic or public-interest research",
    "music-business": "a label, publisher, artist team or music service",
    "other": "something else, explained in the purpose",
}
PENDING, APPROVED, REFUSED = "pending", "approved", "refused"
MAX_ORGANISATION = 200
MAX_PURPOSE = 4000


def apply(
    session: Session, member: Member, organisation: str, kind: str, purpose: str, *, now: datetime | None = None
) -> BuyerApplication:
    """``member``'s account asks to become the buyer account of ``organisation``; one pending application at once."""
    require(APPLY_AS_BUYER, member)
    name, why = organisation.strip(), purpose.strip()
    if not name or len(name) > MAX_ORGANISATION:
        raise InvalidInput(f"the organisation's name must be 1 to {MAX_ORGANISATION} characters")
    if not why or len(why) > MAX_PURPOSE:
        raise InvalidInput(f"the purpose must be 1 to {MAX_PURPOSE:,} characters")
    if kind not in KINDS:
        raise InvalidInput(f"the kind of organisation must be one of {', '.join(KINDS)}")
    if member.role is Role.BUYER:
        raise Conflict("this account is a buyer already")
    if member.role is Role.STEWARD:
        raise Conflict("a steward's account cannot become a buyer: apply with the organisation's own account")
    if applications_of(session, member, status=PENDING):
        raise Conflict("this account has an application waiting already")
    when = now or utcnow()
    row = BuyerApplication(
        id=new_id(), member_id=member.id, organisation=name, kind=kind, purpose=why, status=PENDING, created_utc=when
    )
    session.add(row)
    session.flush()
    audit.record(session, audit.BuyerApplied(member_id=member.id, application_id=row.id), now=when)
    return row


def applications_of(session: Session, member: Member, *, status: str | None = None) -> list[BuyerApplication]:
    query = select(BuyerApplication).where(BuyerApplication.member_id == member.id)
    if status is not None:
        query = query.where(BuyerApplication.status == status)
    return list(session.scalars(query.order_by(BuyerApplication.created_utc, BuyerApplication.id)))


def pending(session: Session) -> list[BuyerApplication]:
    """Applications waiting for a steward, oldest first."""
    query = select(BuyerApplication).where(BuyerApplication.status == PENDING)
    return list(session.scalars(query.order_by(BuyerApplication.created_utc, BuyerApplication.id)))


def decide(
    session: Session, steward: Member, application_id: str, approve: bool, *, now: datetime | None = None
) -> BuyerApplication:
    """A steward approves (the account becomes an active buyer) or refuses a pending application."""
    require(DECIDE_BUYER, steward)
    row = session.get(BuyerApplication, application_id)
    if row is None:
        raise NotFound("no such buyer application")
    if row.status != PENDING:
        raise Conflict(f"that application was {row.status} already")
    applicant = session.get_one(Member, row.member_id)
    if approve and applicant.status is Status.WITHDRAWN:
        raise Conflict("that account has withdrawn")
    if approve and applicant.role is Role.STEWARD:
        raise Conflict("a steward's account cannot become a buyer")
    when = now or utcnow()
    row.status, row.decided_by, row.decided_utc = (APPROVED if approve else REFUSED), steward.id, when
    audit.record(
        session,
        audit.BuyerDecided(member_id=steward.id, application_id=row.id, buyer_id=applicant.id, approved=approve),
        now=when,
    )
    if approve:
        applicant.role = Role.BUYER
        if applicant.status is Status.WAITLISTED:
            # A buyer takes no member's place: active without counting against the day's admissions.
            session.execute(delete(WaitlistEntry).where(WaitlistEntry.member_id == applicant.id))
            applicant.status = Status.ACTIVE
        session.flush()
        audit.record(session, audit.RoleChanged(member_id=applicant.id, role=Role.BUYER.value, changed_by=steward.id))
    session.flush()
    return row


def organisation_of(session: Session, buyer_id: str) -> str | None:
    """The organisation of an approved buyer account, as its application named it."""
    query = select(BuyerApplication.organisation).where(
        BuyerApplication.member_id == buyer_id, BuyerApplication.status == APPROVED
    )
    return session.scalars(query.order_by(BuyerApplication.decided_utc.desc())).first()
