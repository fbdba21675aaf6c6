"""Accounts: signup, login and logout, as pages and as the API's session resource."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, status
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop import bootstrap, mail
from tutti.coop.members import accounts, devices, notices
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
from tutti.web.pages import DEFAULT_NAME, is_https, redirect, safe_next
from tutti.web.schemas import (
    MAX_EMAIL,
    MAX_PASSWORD,
    ErrorPublic,
    LoginCreate,
    SessionPublic,
    SignupAccepted,
    SignupCreate,
)

router = APIRouter(tags=["session"])

SIGNUP_ANSWER = (
    "Thank you. A message is on its way to that address and says what comes next: a new account is confirmed "
    "from the link in it, and then you can log in."
)
CONFIRMED = "Your address is confirmed: you can log in now."

Email = Annotated[str, Form(max_length=MAX_EMAIL)]
Password = Annotated[str, Form(max_length=MAX_PASSWORD)]


def _signup(
    request: Request, db: Session, settings: CoopSettings, email: str, password: str, client: str | None
) -> None:
    """Sign up and write to the address: a welcome, or to an existing account's owner that someone tried. The
    answer that follows is the same either way, so it tells nobody whether the address has an account."""
    member, waiting = accounts.register(db, email, password, client=client)
    site = str(request.base_url).rstrip("/")
    link = f"{site}/confirm?token={accounts.confirmation_token(db, member)}"
    db.commit()
    address = accounts.normalise_email(email)
    name = bootstrap.existing_name(db) or DEFAULT_NAME
    notice = notices.WELCOME if waiting else notices.ALREADY_A_MEMBER
    mail.send(settings, notice.compose(settings, address, name, site, link), about=member.id)


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
    _signup(request, db, settings, email, password, client)
    return redirect("/login?joined=1", request)


@router.get("/confirm", include_in_schema=False)
def confirm_page(page: PageContext, token: Annotated[str, Query(max_length=200)] = "") -> HTMLResponse:
    """The link mailed at signup opens this page; its button confirms (a link checker opening it confirms
    nothing)."""
    return page.render("confirm.html", form={"token": token})


@router.post("/confirm", include_in_schema=False, dependencies=[form_page("confirm.html")])
def confirm_form(request: Request, db: Db, _: AnonymousForm, token: Annotated[str, Form(max_length=200)]) -> Response:
    accounts.confirm_email(db, token)
    db.commit()
    return redirect("/login?confirmed=1", request)


@router.get("/login", include_in_schema=False)
def login_page(
    page: PageContext,
    wanted: Annotated[str | None, Query(alias="next")] = None,
    joined: bool = False,
    confirmed: bool = False,
) -> HTMLResponse:
    notice = SIGNUP_ANSWER if joined else CONFIRMED if confirmed else None
    return page.render("login.html", form={"next": safe_next(wanted)}, notice=notice)


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


@router.post("/api/signup", status_code=status.HTTP_202_ACCEPTED)
def signup_api(body: SignupCreate, request: Request, db: Db, settings: Settings, client: Client) -> SignupAccepted:
    """Ask for an account. The answer is the same whether or not the email already has one: a new account is made
    (active while today's capacity lasts, else waitlisted) and mailed a link that confirms the address; the owner
    of an existing one is told by mail instead. Once the address is confirmed, log in with `POST /api/session`
    (until then a login answers as a wrong password does)."""
    _signup(request, db, settings, body.email, body.password, client)
    return SignupAccepted(detail=SIGNUP_ANSWER)


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
