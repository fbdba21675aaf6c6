"""API tokens for scripts: made on a page (or by the API), shown once, listed by prefix, revoked at will."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop.members import tokens
from tutti.coop.models import Member
from tutti.web.deps import ActingMember, CurrentMember, Db, PageContext, form_page
from tutti.web.pages import redirect
from tutti.web.schemas import MAX_DB_INT, TokenCreate, TokenCreated, TokenPublic

router = APIRouter(tags=["tokens"])
TokenId = Annotated[int, Path(ge=1, le=MAX_DB_INT)]


def _listed(db: Session, member: Member) -> list[TokenPublic]:
    return [TokenPublic.model_validate(t) for t in tokens.api_tokens(db, member)]


@router.get("/tokens", include_in_schema=False)
def tokens_page(request: Request, db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    page.extra["tokens"] = _listed(db, member)
    page.extra["server"] = str(request.base_url).rstrip("/")
    page.extra["scopes"] = tokens.SCOPES
    return page.render("tokens.html", form={})


@router.post("/tokens", include_in_schema=False, dependencies=[form_page("tokens.html")])
def create_token_form(
    request: Request,
    db: Db,
    member: ActingMember,
    page: PageContext,
    name: Annotated[str, Form(max_length=100)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[int, Form(ge=1, le=tokens.MAX_DAYS)] = tokens.DEFAULT_DAYS,
) -> HTMLResponse:
    page.extra["tokens"] = _listed(db, member)
    page.extra["server"] = str(request.base_url).rstrip("/")
    page.extra["scopes"] = tokens.SCOPES
    row, secret = tokens.create_api_token(db, member, name=name, scopes=scopes or [tokens.CONTRIBUTE.name], days=days)
    db.commit()
    created = TokenCreated.model_validate({**TokenPublic.model_validate(row).model_dump(), "secret": secret})
    return page.render("tokens.html", form={}, created=created, tokens=_listed(db, member))


@router.post("/tokens/{token_id}/revoke", include_in_schema=False)
def revoke_token_form(token_id: TokenId, request: Request, db: Db, member: ActingMember) -> Response:
    tokens.revoke_api_token(db, member, token_id)
    db.commit()
    return redirect("/tokens", request)


@router.get("/api/tokens")
def tokens_api(db: Db, member: CurrentMember) -> list[TokenPublic]:
    """The member's tokens (never their secrets)."""
    return _listed(db, member)


@router.post("/api/tokens", status_code=status.HTTP_201_CREATED)
def create_token_api(body: TokenCreate, db: Db, member: ActingMember) -> TokenCreated:
    """A new token with the scopes asked for (default: `contribute` only), valid ``expires_in_days``;
    ``secret`` is in this answer only. Needs a login or a token with the `account` scope."""
    row, secret = tokens.create_api_token(db, member, name=body.name, scopes=body.scopes, days=body.expires_in_days)
    db.commit()
    return TokenCreated.model_validate({**TokenPublic.model_validate(row).model_dump(), "secret": secret})


@router.delete("/api/tokens/{token_id}")
def revoke_token_api(token_id: TokenId, db: Db, member: ActingMember) -> TokenPublic:
    row = tokens.revoke_api_token(db, member, token_id)
    db.commit()
    return TokenPublic.model_validate(row)
