"""Accounts: signup, login and logout, as pages and as the API's session resource."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop.members import accounts, devices
from tutti.coop.models import Member, Status
from tutti.coop.settings import CoopSettings
from tutti.web import views
from tutti.web.deps import (
    SESSION_COOKIE,
    ActingMember,
    AnonymousForm,
    Client,
    Db,
    PageContext,
    Settings,
    clear_login_cookie,
    form_page,
    set_login_cookie,
)
from tutti.web.pages import is_https, redirect, safe_next
from tutti.web.schemas import MAX_EMAIL, MAX_PASSWORD, ErrorPublic, LoginCreate, SessionPublic, SignupCreate

router = APIRouter(tags=["session"])

Email = Annotated[str, Form(max_length=MAX_EMAIL)]
Password = Annotated[str, Form(max_length=MAX_PASSWORD)]


def _signup_and_login(
    request: Request, db: Session, email: str, password: str, client: str | None
) -> tuple[Member, str, str]:
    accounts.signup(db, email, password, client=client)
    # Committed first: login counts its attempt in a transaction of its own, which must not wait on this one.
    db.commit()
    return _login(request, db, email, password, client)


def _login(request: Request, db: Session, email: str, password: str, client: str | None) -> tuple[Member, str, str]:
    device = request.cookies.get(devices.DEVICE_COOKIE)
    member, token, csrf_token = accounts.login(db, email, password, client=client, device=device)
    db.commit()
    return member, token, csrf_token


def _logged_in(response: Response, request: Request, settings: CoopSettings, member: Member, token: str) -> None:
    """The login cookie, and a device cookie for this account unless the device already has one."""
    set_login_cookie(response, request, token, settings.session_hours)
    secret = settings.session_secret
    if devices.recognised(secret, member.id, request.cookies.get(devices.DEVICE_COOKIE)) is None:
        response.set_cookie(
            devices.DEVICE_COOKIE,
            devices.issue(secret, member.id),
            max_age=devices.DEVICE_DAYS * 86400,
            httponly=True,
            samesite="lax",
            secure=is_https(request),
            path="/",
        )


def _landing(member: Member, wanted: str | None = None) -> str:
    return "/waitlist" if member.status is Status.WAITLISTED else safe_next(wanted)


@router.get("/signup", include_in_schema=False)
def signup_page(page: PageContext) -> HTMLResponse:
    return page.render("signup.html", form={})


@router.post("/signup", include_in_schema=False, dependencies=[form_page("signup.html")])
def signup_form(
    request: Request, db: Db, settings: Settings, client: Client, _: AnonymousForm, email: Email, password: Password
) -> Response:
    member, token, _csrf = _signup_and_login(request, db, email, password, client)
    response = redirect(_landing(member), request)
    _logged_in(response, request, settings, member, token)
    return response


@router.get("/login", include_in_schema=False)
def login_page(page: PageContext, wanted: Annotated[str | None, Query(alias="next")] = None) -> HTMLResponse:
    return page.render("login.html", form={"next": safe_next(wanted)})


@router.post("/login", include_in_schema=False, dependencies=[form_page("login.html")])
def login_form(
    request: Request,
    db: Db,
    settings: Settings,
    client: Client,
    _: AnonymousForm,
    email: Email,
    password: Password,
    wanted: Annotated[str, Form(alias="next")] = "/dashboard",
) -> Response:
    member, token, _csrf = _login(request, db, email, password, client)
    response = redirect(_landing(member, wanted), request)
    _logged_in(response, request, settings, member, token)
    return response


@router.post("/logout", include_in_schema=False)
def logout_form(request: Request, db: Db, member: ActingMember) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.logout(db, cookie)
        db.commit()
    response = redirect("/", request)
    clear_login_cookie(response, request)
    return response


@router.post("/api/signup", status_code=status.HTTP_201_CREATED)
def signup_api(
    body: SignupCreate, request: Request, response: Response, db: Db, settings: Settings, client: Client
) -> SessionPublic:
    """Create an account (active while today's capacity lasts, else waitlisted) and log in with a cookie."""
    member, token, csrf_token = _signup_and_login(request, db, body.email, body.password, client)
    _logged_in(response, request, settings, member, token)
    return SessionPublic(member=views.member_public(db, member), csrf_token=csrf_token)


@router.post("/api/session", responses={401: {"model": ErrorPublic, "description": "Email or password is wrong."}})
def login_api(
    body: LoginCreate, request: Request, response: Response, db: Db, settings: Settings, client: Client
) -> SessionPublic:
    """Log in: the session travels as an HttpOnly cookie; ``csrf_token`` goes back in ``X-CSRF-Token``."""
    member, token, csrf_token = _login(request, db, body.email, body.password, client)
    _logged_in(response, request, settings, member, token)
    return SessionPublic(member=views.member_public(db, member), csrf_token=csrf_token)


@router.delete("/api/session", status_code=status.HTTP_204_NO_CONTENT)
def logout_api(request: Request, response: Response, db: Db, member: ActingMember) -> None:
    """End the login session of the cookie sent (with an API token there is none to end)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        accounts.logout(db, cookie)
        db.commit()
    clear_login_cookie(response, request)
