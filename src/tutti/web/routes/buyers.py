"""Buyers and roles: an organisation applies for a buyer account; stewards decide, and change members' roles."""

from __future__ import annotations

from fastapi import APIRouter, status

from tutti.coop.governance import buyers
from tutti.coop.members import accounts
from tutti.web.deps import ActingMember, ActingSteward, CurrentMember, Db, Steward
from tutti.web.governance_schemas import (
    BuyerApplicationCreate,
    BuyerApplicationPublic,
    BuyerDecision,
    MemberRolePublic,
    RoleUpdate,
)
from tutti.web.governance_views import application_public

router = APIRouter(tags=["buyers"])


@router.post("/api/buyer-applications", status_code=status.HTTP_201_CREATED)
def apply_api(body: BuyerApplicationCreate, db: Db, member: ActingMember) -> BuyerApplicationPublic:
    """Ask for this account to become an organisation's buyer account; a steward decides (audited)."""
    row = buyers.apply(db, member, body.organisation, body.kind, body.purpose)
    db.commit()
    return application_public(row)


@router.get("/api/buyer-applications")
def my_applications_api(db: Db, member: CurrentMember) -> list[BuyerApplicationPublic]:
    """This account's buyer applications and what was decided."""
    return [application_public(row) for row in buyers.applications_of(db, member)]


@router.get("/api/steward/buyer-applications")
def pending_api(db: Db, member: Steward) -> list[BuyerApplicationPublic]:
    """Applications waiting for a steward, oldest first."""
    return [application_public(row) for row in buyers.pending(db)]


@router.post("/api/steward/buyer-applications/{application_id}/decision")
def decide_api(application_id: str, body: BuyerDecision, db: Db, member: ActingSteward) -> BuyerApplicationPublic:
    """Approve (the account becomes a buyer) or refuse a pending application; audited."""
    row = buyers.decide(db, member, application_id, body.approve)
    db.commit()
    return application_public(row)


@router.put("/api/steward/members/{member_id}/role")
def role_api(member_id: str, body: RoleUpdate, db: Db, member: ActingSteward) -> MemberRolePublic:
    """Make a member a steward, a buyer or a plain member again; audited. The last steward cannot step down."""
    target = accounts.get_member(db, member_id)
    accounts.set_role(db, member, target, body.role)
    db.commit()
    return MemberRolePublic(member_id=target.id, role=target.role)
