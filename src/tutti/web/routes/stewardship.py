"""Stewards' pages and API: the onboarding capacity, the waitlist, and uploads flagged as near-copies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop.members import waitlist
from tutti.coop.models import Member
from tutti.web import views
from tutti.web.deps import ActingSteward, Db, PageContext, Steward, form_page
from tutti.web.pages import redirect
from tutti.web.schemas import FlaggedContributionPublic, OnboardingPublic, OnboardingUpdate, WaitlistEntryPublic

router = APIRouter(tags=["stewardship"])


def _set_capacity(db: Session, member: Member, per_day: int) -> OnboardingPublic:
    # More room today admits the longest-waiting members at once (the domain does it).
    waitlist.set_capacity(db, member, per_day)
    db.commit()
    return views.onboarding(db)


def _steward_page(db: Session, page: PageContext) -> None:
    page.extra.update(onboarding=views.onboarding(db), queue=views.waitlist_queue(db), flagged=views.flagged(db))


@router.get("/steward", include_in_schema=False)
def steward_page(db: Db, member: Steward, page: PageContext) -> HTMLResponse:
    _steward_page(db, page)
    return page.render("steward.html", form={})


@router.post("/steward/capacity", include_in_schema=False, dependencies=[form_page("steward.html")])
def capacity_form(
    request: Request,
    db: Db,
    member: ActingSteward,
    page: PageContext,
    capacity_per_day: Annotated[int, Form(ge=0, le=1_000_000)],
) -> Response:
    _steward_page(db, page)
    _set_capacity(db, member, capacity_per_day)
    return redirect("/steward", request)


@router.get("/api/steward/onboarding")
def onboarding_api(db: Db, member: Steward) -> OnboardingPublic:
    """Today's capacity, admissions and the length of the queue."""
    return views.onboarding(db)


@router.put("/api/steward/onboarding")
def set_onboarding_api(body: OnboardingUpdate, db: Db, member: ActingSteward) -> OnboardingPublic:
    """Set how many members are admitted per day (0 pauses onboarding); audited."""
    return _set_capacity(db, member, body.capacity_per_day)


@router.get("/api/steward/waitlist")
def waitlist_api(db: Db, member: Steward) -> list[WaitlistEntryPublic]:
    """The queue in admission order (member ids only)."""
    return views.waitlist_queue(db)


@router.get("/api/steward/flagged")
def flagged_api(db: Db, member: Steward) -> list[FlaggedContributionPublic]:
    """Uploads rejected as near-copies of another member's history, newest first, naming both members."""
    return views.flagged(db)
