"""Contributions: upload an export, get the validation report itemised; list and reopen the member's reports."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop import actions, ratelimit
from tutti.coop.contributions import pipeline
from tutti.coop.models import Member
from tutti.coop.settings import CoopSettings
from tutti.web import views
from tutti.web.deps import ActingMember, CurrentMember, Db, PageContext, Settings, form_page
from tutti.web.pages import Page, is_htmx, redirect
from tutti.web.schemas import ContributionReportPublic, ContributionSummaryPublic
from tutti.web.uploads import ACCEPTED_SUFFIXES, MAX_UPLOAD_BYTES, save_uploads

router = APIRouter(tags=["contributions"])

Files = Annotated[
    list[UploadFile],
    File(description="The export: its zip as the service sent it, or any of its files (several at once)."),
]


def _contribute(
    db: Session, settings: CoopSettings, member: Member, files: list[UploadFile]
) -> ContributionReportPublic:
    actions.require(actions.CONTRIBUTE, member)
    # Counted before anything is written, and kept even when the upload is refused.
    ratelimit.hit(db, "upload", member.id)
    with tempfile.TemporaryDirectory(prefix="tutti-upload-") as scratch:
        paths = save_uploads(files, Path(scratch))
        report = pipeline.contribute(db, settings, member, paths)
    db.commit()
    return views.fresh_report(report)


def _upload_form(page: Page, member: Member) -> None:
    # Kept on the page, so a refused upload shows the same form again with the reason.
    page.extra.update(
        allowed=actions.allowed(actions.CONTRIBUTE, member),
        accept=",".join(ACCEPTED_SUFFIXES),
        max_mib=MAX_UPLOAD_BYTES // 1024**2,
    )


@router.get("/contribute", include_in_schema=False)
def upload_page(member: CurrentMember, page: PageContext) -> HTMLResponse:
    _upload_form(page, member)
    return page.render("contribute.html")


@router.post("/contribute", include_in_schema=False, dependencies=[form_page("contribute.html")])
def upload_form(
    request: Request, db: Db, settings: Settings, member: ActingMember, page: PageContext, files: Files
) -> Response:
    _upload_form(page, member)
    report = _contribute(db, settings, member, files)
    url = f"/contributions/{report.contribution_id}"
    if is_htmx(request):
        return page.render("_report.html", report=report, headers={"HX-Push-Url": url})
    return redirect(url, request)


@router.get("/contributions/{contribution_id}", include_in_schema=False)
def report_page(contribution_id: str, db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("report.html", report=views.contribution_of(db, member, contribution_id))


@router.post("/api/contributions", status_code=status.HTTP_201_CREATED)
def contribute_api(db: Db, settings: Settings, member: ActingMember, files: Files) -> ContributionReportPublic:
    """Validate an upload and pool its new plays: the report says accepted or rejected, and exactly why.

    A rejected upload is still a contribution (its report is kept), so both outcomes answer 201.
    """
    return _contribute(db, settings, member, files)


@router.get("/api/contributions")
def contributions_api(db: Db, member: CurrentMember) -> list[ContributionSummaryPublic]:
    """The member's contributions, newest first."""
    return views.contributions_of(db, member)


@router.get("/api/contributions/{contribution_id}")
def contribution_api(contribution_id: str, db: Db, member: CurrentMember) -> ContributionReportPublic:
    return views.contribution_of(db, member, contribution_id)
