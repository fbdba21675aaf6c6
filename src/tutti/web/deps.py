"""Named dependencies: every route says what it needs (a database session, the member, a checked form) by type.

``CurrentMember`` reads: a login cookie or an API token. ``ActingMember`` changes things: with a login cookie the
request must also carry the session's CSRF token (form field or ``X-CSRF-Token`` header); API tokens are not
sent by browsers on their own, so they need none. ``AnonymousForm`` guards the forms shown before login.

A login cookie may do everything its member may; an API token only what its scopes allow (``tokens.SCOPES``):
reading needs ``read``, acting needs ``account``, uploading needs ``contribute`` (``Contributor``), and following
an upload either (``ContributionReader``). API tokens are taken on ``/api/`` only: pages are for people.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, params
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop import actions, bootstrap
from tutti.coop.errors import NotAllowed, Unauthenticated
from tutti.coop.members import accounts, tokens
from tutti.coop.models import Member
from tutti.coop.settings import CoopSettings
from tutti.web import csrf
from tutti.web.pages import DEFAULT_NAME, Page, is_https, visitor_page

SESSION_COOKIE = "tutti_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Auth:
    """Who is asking; ``csrf_token`` is None when they came with an API token, ``scopes`` None with a cookie."""

    member: Member
    csrf_token: str | None
    scopes: frozenset[str] | None = None

    def require(self, *any_of: tokens.Scope) -> None:
        """NotAllowed unless this is a login or a token holding one of ``any_of``."""
        if self.scopes is not None and not self.scopes & {scope.name for scope in any_of}:
            needed = " or ".join(f"`{scope.name}`" for scope in any_of)
            raise NotAllowed(f"this API token lacks the {needed} scope this needs")


def get_settings(request: Request) -> CoopSettings:
    settings: CoopSettings = request.app.state.settings
    return settings


Settings = Annotated[CoopSettings, Depends(get_settings)]


def get_db(request: Request) -> Iterator[Session]:
    """One session per request; routes commit what they changed, anything else is rolled back on close."""
    with request.app.state.sessions() as session:
        yield session


# scope="function": the session closes before the response leaves, so nothing is answered before it is settled.
Db = Annotated[Session, Depends(get_db, scope="function")]


def client_of(request: Request) -> str | None:
    """The client's address, only ever used keyed and hashed (rate limits); never stored or logged."""
    return request.client.host if request.client else None


Client = Annotated[str | None, Depends(client_of)]


def optional_auth(request: Request, db: Db) -> Auth | None:
    header = request.headers.get("Authorization")
    if header:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            raise Unauthenticated("send the API token as 'Authorization: Bearer <token>'")
        if not request.url.path.startswith("/api/"):
            raise Unauthenticated("API tokens are for the API (/api/...); pages need a login")
        found = tokens.authenticate(db, secret.strip())
        return Auth(found.member, None, found.scopes)
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    try:
        login = accounts.login_session(db, cookie)
        member = accounts.member_for_session(db, cookie)
    except Unauthenticated:
        return None
    return Auth(member, login.csrf_secret)


MaybeAuth = Annotated[Auth | None, Depends(optional_auth)]


def current_auth(auth: MaybeAuth) -> Auth:
    if auth is None:
        raise Unauthenticated("not logged in")
    return auth


CurrentAuth = Annotated[Auth, Depends(current_auth)]


def current_member(auth: CurrentAuth) -> Member:
    auth.require(tokens.READ)
    return auth.member


CurrentMember = Annotated[Member, Depends(current_member)]


async def _sent_token(request: Request) -> str | None:
    header = request.headers.get(csrf.CSRF_HEADER)
    if header:
        return header
    value = (await request.form()).get(csrf.CSRF_FIELD)
    return value if isinstance(value, str) else None


async def _checked(request: Request, db: Session, auth: Auth) -> Member:
    if auth.csrf_token is not None and request.method not in SAFE_METHODS:
        # Came with the login cookie (an API token needs no CSRF token): the domain checks it against that login.
        accounts.check_csrf(db, request.cookies.get(SESSION_COOKIE, ""), await _sent_token(request))
    return auth.member


async def acting_member(request: Request, db: Db, auth: CurrentAuth) -> Member:
    auth.require(tokens.ACCOUNT)
    return await _checked(request, db, auth)


ActingMember = Annotated[Member, Depends(acting_member)]


async def contributor(request: Request, db: Db, auth: CurrentAuth) -> Member:
    auth.require(tokens.CONTRIBUTE)
    return await _checked(request, db, auth)


Contributor = Annotated[Member, Depends(contributor)]


def contribution_reader(auth: CurrentAuth) -> Member:
    auth.require(tokens.CONTRIBUTE, tokens.READ)
    return auth.member


ContributionReader = Annotated[Member, Depends(contribution_reader)]


def _stewards_only(member: Member) -> Member:
    # Those who may resolve copy cases are the ones who see the waitlist and flagged uploads.
    if not actions.allowed(actions.RESOLVE_CASE, member):
        raise NotAllowed("only stewards may see this")
    return member


def steward(member: CurrentMember) -> Member:
    return _stewards_only(member)


def acting_steward(member: ActingMember) -> Member:
    return _stewards_only(member)


Steward = Annotated[Member, Depends(steward)]
ActingSteward = Annotated[Member, Depends(acting_steward)]


async def anonymous_form(request: Request, settings: Settings) -> None:
    csrf.check_form_token(settings.session_secret, request.cookies.get(csrf.FORM_COOKIE), await _sent_token(request))


AnonymousForm = Annotated[None, Depends(anonymous_form)]


def page_context(request: Request, db: Db, auth: MaybeAuth, settings: Settings) -> Page:
    """The page's context; kept on the request so the error handler can render a page with it too."""
    page = visitor_page(request, settings.session_secret)
    page.coop_name = bootstrap.existing_name(db) or DEFAULT_NAME
    if auth is not None:
        page.member = auth.member
        page.csrf_token = auth.csrf_token or ""
        page.is_steward = actions.allowed(actions.RESOLVE_CASE, auth.member)
    request.state.page = page
    return page


PageContext = Annotated[Page, Depends(page_context)]


def form_page(template: str, context: Callable[[Page], Mapping[str, Any]] | None = None) -> params.Depends:
    """A route dependency naming the template that shows the form again when the domain refuses it, and what
    else the template needs (``context``, from the page) when the refusal comes before the route could add it."""

    def mark(request: Request) -> None:
        request.state.form_template = template
        request.state.form_context = context

    return params.Depends(mark)


def set_login_cookie(response: Response, request: Request, token: str, hours: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=hours * 3600,
        httponly=True,
        samesite="lax",
        secure=is_https(request),
        path="/",
    )


def clear_login_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=is_https(request))
