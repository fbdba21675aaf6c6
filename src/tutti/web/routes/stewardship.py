"""Stewards' pages and API: onboarding today and the waitlist, copy cases to resolve, flagged uploads.

The daily capacity is shown here but not set: only a passed policy proposal changes it (``governance.policy``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop.contributions import cases
from tutti.coop.db import settings_of
from tutti.coop.models import Member
from tutti.web import views
from tutti.web.deps import ActingSteward, Db, PageContext, Steward, form_page
from tutti.web.pages import redirect
from tutti.web.schemas import (
    CaseResolution,
    CopyCasePublic,
    FlaggedContributionPublic,
    OnboardingPublic,
    ResolvedCasePublic,
    WaitlistEntryPublic,
)

router = APIRouter(tags=["stewardship"])


def _steward_page(db: Session, page: PageContext) -> None:
    page.extra.update(
        onboarding=views.onboarding(db),
        queue=views.waitlist_queue(db),
        cases=views.copy_cases(db),
        resolutions=cases.RESOLUTIONS,
        flagged=views.flagged(db),
    )


@router.get("/steward", include_in_schema=False)
def steward_page(db: Db, member: Steward, page: PageContext) -> HTMLResponse:
    _steward_page(db, page)
    return page.render("steward.html", form={})


@router.get("/api/steward/onboarding")
def onboarding_api(db: Db, member: Steward) -> OnboardingPublic:
    """Today's capacity (changed only by a passed policy proposal), admissions and the length of the queue."""
    return views.onboarding(db)


@router.get("/api/steward/waitlist")
def waitlist_api(db: Db, member: Steward) -> list[WaitlistEntryPublic]:
    """The queue in admission order (member ids only)."""
    return views.waitlist_queue(db)


def _resolve(db: Session, member: Member, case_id: str, body: CaseResolution) -> ResolvedCasePublic:
    settings = settings_of(db)
    done = cases.resolve(db, settings, member, case_id, body.owner_member_id, body.resolution)
    db.commit()
    return ResolvedCasePublic(
        case_id=done.case_id,
        owner_member_id=done.owner_member_id,
        released=list(done.released),
        refused=list(done.refused),
    )


@router.post("/steward/cases/{case_id}", include_in_schema=False, dependencies=[form_page("steward.html")])
def resolve_form(
    request: Request,
    db: Db,
    member: ActingSteward,
    page: PageContext,
    case_id: str,
    resolution: Annotated[str, Form(max_length=32)],
    owner_member_id: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    _steward_page(db, page)
    body = CaseResolution.model_validate({"owner_member_id": owner_member_id or None, "resolution": resolution})
    _resolve(db, member, case_id, body)
    return redirect("/steward", request)


@router.get("/api/steward/cases")
def cases_api(db: Db, member: Steward) -> list[CopyCasePublic]:
    """Open copy cases, oldest first: each held contribution with its member, its period, and whether it reaches
    further in time than the others (what an owner's newer export shows)."""
    return views.copy_cases(db)


@router.post("/api/steward/cases/{case_id}/resolve")
def resolve_api(case_id: str, body: CaseResolution, db: Db, member: ActingSteward) -> ResolvedCasePublic:
    """Resolve a copy case: the owner's held contributions are accepted and pooled, the others rejected and their
    evidence deleted; audited with ids and the reason code."""
    return _resolve(db, member, case_id, body)


@router.get("/api/steward/flagged")
def flagged_api(db: Db, member: Steward) -> list[FlaggedContributionPublic]:
    """Uploads rejected as near-copies of another member's history, newest first, naming both members."""
    return views.flagged(db)
