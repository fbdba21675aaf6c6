"""The member's own resource: dashboard, waitlist place, pool share, uses, export of all their data, withdrawal."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy.orm import Session
from starlette.background import BackgroundTask
from starlette.responses import Response

from tutti.coop.audit import transparency
from tutti.coop.errors import Conflict, InvalidInput
from tutti.coop.ledger import erasure
from tutti.coop.members import data_export, withdrawal
from tutti.coop.models import Member, Status, utcnow
from tutti.coop.settings import CoopSettings
from tutti.web import views
from tutti.web.deps import ActingMember, CurrentMember, Db, PageContext, Settings, clear_login_cookie, form_page
from tutti.web.governance_views import dashboard_votes
from tutti.web.pages import redirect
from tutti.web.schemas import (
    DataUsesPublic,
    MemberPublic,
    PoolSharePublic,
    WaitlistPositionPublic,
    WithdrawalCreate,
    WithdrawalProofPublic,
)

router = APIRouter(tags=["me"])
CONFIRM_WORD = "withdraw"


def _export(db: Session, settings: CoopSettings, member: Member) -> FileResponse:
    folder = Path(tempfile.mkdtemp(prefix="tutti-export-"))
    name = f"tutti-coop-my-data-{utcnow():%Y-%m-%d}.zip"
    try:
        written = data_export.export_member_data(db, settings, member, folder / name)
        db.commit()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(
        written.path,
        media_type="application/zip",
        filename=name,
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )


@router.get("/", include_in_schema=False)
def home(request: Request, db: Db, page: PageContext) -> Response:
    if page.member is not None:
        return redirect("/waitlist" if page.member.status is Status.WAITLISTED else "/dashboard", request)
    return page.render("index.html", onboarding=views.onboarding(db))


@router.get("/dashboard", include_in_schema=False)
def dashboard(request: Request, db: Db, settings: Settings, member: CurrentMember, page: PageContext) -> Response:
    if member.status is Status.WAITLISTED:
        return redirect("/waitlist", request)
    mine = views.contributions_of(db, member)
    return page.render(
        "dashboard.html",
        contributions=mine,
        points=sum(c.points for c in mine),
        accepted=sum(1 for c in mine if c.status == "accepted"),
        pool=views.pool_share(db, settings, member),
        uses=views.data_uses(db, member),
        checkpoint=transparency.latest_checkpoint(db),
        votes=dashboard_votes(db, member),
    )


@router.get("/waitlist", include_in_schema=False)
def waitlist_page(request: Request, db: Db, member: CurrentMember, page: PageContext) -> Response:
    if member.status is not Status.WAITLISTED:
        return redirect("/dashboard", request)
    return page.render("waitlist.html", place=views.position_public(db, member))


@router.get("/waitlist/position", include_in_schema=False)
def waitlist_fragment(db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("_position.html", place=views.position_public(db, member))


@router.post("/export", include_in_schema=False)
def export_download(db: Db, settings: Settings, member: ActingMember) -> FileResponse:
    return _export(db, settings, member)


@router.get("/withdraw", include_in_schema=False)
def withdraw_page(db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("withdraw.html", form={}, balance_note=erasure.what_happens(db, member))


@router.post("/withdraw", include_in_schema=False, dependencies=[form_page("withdraw.html")])
def withdraw_form(
    request: Request,
    db: Db,
    settings: Settings,
    member: ActingMember,
    page: PageContext,
    confirm: Annotated[str, Form()] = "",
) -> HTMLResponse:
    if confirm.strip().lower() != CONFIRM_WORD:
        raise InvalidInput(f'type the word "{CONFIRM_WORD}" to confirm; nothing was erased')
    proof = views.proof_public(withdrawal.withdraw(db, settings, member))
    db.commit()
    page.member, page.is_steward = None, False
    response = page.render("withdrawn.html", proof=proof)
    clear_login_cookie(response, request)
    return response


@router.get("/api/me")
def me_api(db: Db, member: CurrentMember) -> MemberPublic:
    """The member asking: role, status and, while waitlisted, their place in the queue."""
    return views.member_public(db, member)


@router.get("/api/me/waitlist")
def waitlist_api(db: Db, member: CurrentMember) -> WaitlistPositionPublic:
    return views.position_public(db, member)


@router.get("/api/me/pool")
def pool_api(db: Db, settings: Settings, member: CurrentMember) -> PoolSharePublic:
    """How many of the member's plays the pool holds, by source, counted from the pool files."""
    return views.pool_share(db, settings, member)


@router.get("/api/me/uses")
def uses_api(db: Db, member: CurrentMember) -> DataUsesPublic:
    """Every sale the member was in or left out of (and why), what of theirs went in, and every use since."""
    return views.data_uses(db, member)


@router.post(
    "/api/me/export",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "plays, contributions, audit events"}},
)
def export_api(db: Db, settings: Settings, member: ActingMember) -> FileResponse:
    """Everything the cooperative holds about the member, as one zip."""
    return _export(db, settings, member)


@router.post("/api/me/withdraw")
def withdraw_api(body: WithdrawalCreate, db: Db, settings: Settings, member: ActingMember) -> WithdrawalProofPublic:
    """Leave for good: pool files, sealed uploads and the data key are destroyed; the answer proves it. A member
    with a balance is told first what happens to it (409 with the sentence) until they send ``forfeit_balance``."""
    note = erasure.what_happens(db, member)
    if note is not None and not body.forfeit_balance:
        raise Conflict(f"{note} To withdraw all the same, send forfeit_balance: true.")
    proof = views.proof_public(withdrawal.withdraw(db, settings, member))
    db.commit()
    return proof
