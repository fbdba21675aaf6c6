"""Sales after the vote: a release's state, its delivery to its buyer (links that expire and count downloads,
each file needing the buyer's login too), and buyers' aggregate queries on sales with query access. Nothing here
builds a release (the ``build-release`` job does, for an executed sale) or reads a release for anyone else.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, status
from fastapi.responses import FileResponse, HTMLResponse, Response

from tutti.coop.errors import NotAllowed, NotFound
from tutti.coop.models import Role
from tutti.coop.sales import compute, delivery, releases
from tutti.coop.sales.sale import sale_of
from tutti.web.deps import ActingMember, CurrentMember, Db, PageContext, Settings, form_page
from tutti.web.sales_schemas import LinkCreate, LinkPublic, QueryAnswerPublic, QueryCreate, ReleasePublic

router = APIRouter(tags=["sales"])
FileName = Annotated[str, Path(max_length=100, pattern=r"^[a-z_]+\.(parquet|json)$")]
LinkToken = Annotated[str, Path(max_length=100)]


def _release(db: Db, member: CurrentMember, proposal_id: str) -> ReleasePublic:
    _proposal, terms = sale_of(db, proposal_id)
    if member.role is not Role.STEWARD and terms.buyer_id != member.id:
        raise NotFound("no such sale")
    release = releases.release_of(db, proposal_id)
    return ReleasePublic.model_validate({**{c: getattr(release, c) for c in ReleasePublic.model_fields}})


def _urls(made: delivery.MadeLink) -> list[str]:
    return [f"/api/releases/{made.token}/{name}" for name in made.files]


@router.get("/api/sales/{proposal_id}/release")
def release_api(proposal_id: str, db: Db, member: CurrentMember) -> ReleasePublic:
    """The release of a passed sale, for its buyer and the stewards: its state, what it holds, until when."""
    return _release(db, member, proposal_id)


@router.post("/api/sales/{proposal_id}/links", status_code=status.HTTP_201_CREATED)
def link_api(proposal_id: str, body: LinkCreate, db: Db, settings: Settings, member: ActingMember) -> LinkPublic:
    """A download link to the buyer's own release (shown once); every download through it is logged."""
    made = delivery.make_link(db, settings, member, proposal_id, hours=body.hours, downloads=body.downloads)
    db.commit()
    return LinkPublic(
        link_id=made.link_id, expires_utc=made.expires_utc, downloads=made.downloads, files=made.files, urls=_urls(made)
    )


@router.get("/api/releases/{token}/{file}", response_class=FileResponse)
def download_api(token: LinkToken, file: FileName, db: Db, settings: Settings, member: CurrentMember) -> FileResponse:
    """One file of the buyer's release through one of their links (their login is needed too)."""
    path = delivery.open_download(db, settings, member, token, file)
    db.commit()
    kind = "application/json" if file.endswith(".json") else "application/vnd.apache.parquet"
    return FileResponse(path, media_type=kind, filename=file)


@router.post("/api/sales/{proposal_id}/queries")
def query_api(
    proposal_id: str, body: QueryCreate, request: Request, db: Db, settings: Settings, member: ActingMember
) -> QueryAnswerPublic:
    """An aggregate query of the buyer's sale with query access: bounded, noised, and spent from its budget."""
    if member.role is not Role.BUYER:
        raise NotAllowed("only the buyer of a sale asks it queries")
    buyer_id = member.id
    db.commit()  # the engine runs without holding this request's database connection
    chosen = {
        k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in body.model_dump(exclude_none=True).items()
    }
    answer = compute.ask(request.app.state.sessions, settings, buyer_id, proposal_id, chosen)
    return QueryAnswerPublic(
        query_id=answer.query_id,
        tables=answer.tables,
        epsilon=answer.epsilon,
        delta=answer.delta,
        epsilon_left=answer.epsilon_left,
        members=answer.members,
    )


@router.get("/sales/{proposal_id}/release", include_in_schema=False)
def release_page(proposal_id: str, db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("release.html", release=_release(db, member, proposal_id), link=None)


@router.post("/sales/{proposal_id}/links", include_in_schema=False, dependencies=[form_page("release.html")])
def link_form(proposal_id: str, db: Db, settings: Settings, member: ActingMember, page: PageContext) -> Response:
    made = delivery.make_link(db, settings, member, proposal_id)
    db.commit()
    link = {"expires_utc": made.expires_utc, "files": list(zip(made.files, _urls(made), strict=True))}
    return page.render("release.html", release=_release(db, member, proposal_id), link=link)
