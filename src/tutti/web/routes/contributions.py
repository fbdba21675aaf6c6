"""Contributions: upload an export (stored sealed and validated by a background job), follow its progress, read
the itemised report; list and reopen the member's contributions."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import APIRouter, File, Request, UploadFile, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop import actions, crypto, ratelimit
from tutti.coop.contributions import validation
from tutti.coop.contributions.uploads import seal
from tutti.coop.models import Member
from tutti.coop.scratch import scratch_folder
from tutti.coop.settings import CoopSettings
from tutti.web import views
from tutti.web.deps import (
    ActingMember,
    ContributionReader,
    Contributor,
    CurrentMember,
    Db,
    PageContext,
    Settings,
    form_page,
)
from tutti.web.pages import Page, is_htmx, redirect
from tutti.web.schemas import ContributionPublic, ContributionSummaryPublic
from tutti.web.uploads import ACCEPTED_SUFFIXES, MAX_UPLOAD_BYTES, UploadRoute, save_uploads

# Upload bodies are written on threads of their own (``UploadRoute``), never on the pages' threads.
router = APIRouter(tags=["contributions"], route_class=UploadRoute)

Files = Annotated[
    list[UploadFile],
    File(
        description="The export: its zip as the service sent it, or any of its files (several at once).",
        min_length=1,
    ),
]


def _upload_slots(request: Request, settings: CoopSettings) -> anyio.CapacityLimiter:
    slots = getattr(request.app.state, "upload_slots", None)
    if not isinstance(slots, anyio.CapacityLimiter):
        slots = request.app.state.upload_slots = anyio.CapacityLimiter(settings.uploads_at_once)
    return slots


async def _submit(
    request: Request, db: Session, settings: CoopSettings, member: Member, files: list[UploadFile]
) -> ContributionPublic:
    """Store the upload once one of the server's upload slots is free (``TUTTI_COOP_UPLOADS_AT_ONCE``).

    While it waits, the upload holds no thread of the server's pool (other pages' requests run on those) and no
    database connection: authenticating read with one, and it goes back to the pool first.
    """
    await anyio.to_thread.run_sync(db.commit)
    slots = _upload_slots(request, settings)
    return await anyio.to_thread.run_sync(partial(_store, db, settings, member, files), limiter=slots)


def _store(db: Session, settings: CoopSettings, member: Member, files: list[UploadFile]) -> ContributionPublic:
    actions.require(actions.CONTRIBUTE, member)
    # Counted before anything is written, and kept even when the upload is refused.
    ratelimit.hit(db, "upload", member.id)
    key = crypto.member_key(db, member, settings)
    # Saving and sealing the files needs no database: its connection goes back to the pool meanwhile.
    db.commit()
    with scratch_folder(settings, "upload-") as scratch:
        saved = scratch / "files"
        saved.mkdir()
        sealed = seal(save_uploads(files, saved), key, scratch / "sealed")
        contribution = validation.submit(db, settings, member, sealed)
        db.commit()
    return views.contribution_public(db, contribution)


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
async def upload_form(
    request: Request, db: Db, settings: Settings, member: ActingMember, page: PageContext, files: Files
) -> Response:
    _upload_form(page, member)
    contribution = await _submit(request, db, settings, member, files)
    url = f"/contributions/{contribution.contribution_id}"
    if is_htmx(request):
        return page.render("_contribution.html", c=contribution, headers={"HX-Push-Url": url})
    return redirect(url, request)


@router.get("/contributions/{contribution_id}", include_in_schema=False)
def report_page(contribution_id: str, db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("report.html", c=views.contribution_of(db, member, contribution_id))


@router.get("/contributions/{contribution_id}/progress", include_in_schema=False)
def progress_fragment(contribution_id: str, db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    """What the report page polls while the upload is checked: the progress, then the report itself."""
    return page.render("_contribution.html", c=views.contribution_of(db, member, contribution_id))


@router.post(
    "/api/contributions",
    status_code=status.HTTP_202_ACCEPTED,
    responses={202: {"description": "Stored, and queued for validation: the contribution is `pending`."}},
)
async def contribute_api(
    request: Request, db: Db, settings: Settings, member: Contributor, files: Files
) -> ContributionPublic:
    """Upload an export: it is stored sealed with the member's key and validated in the background.

    Answers at once (202) with the contribution, `pending`, and its progress. Follow it with
    `GET /api/contributions/{contribution_id}` until its status is `accepted` or `rejected`: then it carries the
    validation report, which says exactly why. A rejected upload is still a contribution (its report is kept).
    """
    return await _submit(request, db, settings, member, files)


@router.get("/api/contributions")
def contributions_api(db: Db, member: CurrentMember) -> list[ContributionSummaryPublic]:
    """The member's contributions, newest first."""
    return views.contributions_of(db, member)


@router.get("/api/contributions/{contribution_id}")
def contribution_api(contribution_id: str, db: Db, member: ContributionReader) -> ContributionPublic:
    """One contribution: its progress while `pending`, its validation report once `accepted` or `rejected`."""
    return views.contribution_of(db, member, contribution_id)
