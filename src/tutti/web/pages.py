"""Server-rendered pages: the Jinja2 environment, its filters, and ``Page``, which renders with the context every
page needs (who is logged in, the CSRF tokens, the cooperative's name)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from tutti import __version__
from tutti.coop.contributions.plausibility import ACCEPT_SCORE
from tutti.coop.models import Member
from tutti.web import csrf

HTMX_VERSION = "2.0.11"
DEFAULT_NAME = "Tutti cooperative"
FORM_COOKIE_SECONDS = 24 * 3600


def _when(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y, %H:%M UTC") if value is not None else "never"


def _day(value: datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value is not None else "—"


def _num(value: int | float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.3g}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}".replace("%", " %")


def _sentence(text: str) -> str:
    """The first letter capitalised, the rest as written (Jinja's ``capitalize`` lowercases names like API)."""
    return text[:1].upper() + text[1:]


def _humanise(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").capitalize()


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tutti.web", "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=_when, day=_day, num=_num, pct=_pct, humanise=_humanise, sentence=_sentence)
    env.globals.update(htmx_version=HTMX_VERSION, tutti_version=__version__, accept_score=ACCEPT_SCORE)
    return env


TEMPLATES = Jinja2Templates(env=_environment())


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def safe_next(target: str | None, default: str = "/dashboard") -> str:
    """Only a path on this site: never another host (``//evil.example`` or an absolute URL)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def login_url(request: Request) -> str:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(here, safe="/")


@dataclass
class Page:
    """What every page shows and needs; ``render`` sets the anonymous form cookie when it is new."""

    request: Request
    coop_name: str = DEFAULT_NAME
    member: Member | None = None
    csrf_token: str = ""
    form_token: str = ""
    new_nonce: str | None = None
    is_steward: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def render(
        self, template: str, *, status_code: int = 200, headers: dict[str, str] | None = None, **context: Any
    ) -> HTMLResponse:
        values = {
            "me": self.member,
            "coop_name": self.coop_name,
            "csrf_token": self.csrf_token,
            "form_token": self.form_token,
            "is_steward": self.is_steward,
            "path": self.request.url.path,
            **self.extra,
            **context,
        }
        response = TEMPLATES.TemplateResponse(self.request, template, values, status_code=status_code, headers=headers)
        self.set_cookies(response)
        return response

    def set_cookies(self, response: Response) -> None:
        if self.new_nonce is not None:
            response.set_cookie(
                csrf.FORM_COOKIE,
                self.new_nonce,
                max_age=FORM_COOKIE_SECONDS,
                httponly=True,
                samesite="lax",
                secure=is_https(self.request),
            )


def visitor_page(request: Request, secret: bytes) -> Page:
    """A page for a visitor: the anonymous form token, from the form cookie or a new one."""
    nonce = request.cookies.get(csrf.FORM_COOKIE)
    fresh = None if nonce is not None and csrf.valid_nonce(nonce) else csrf.new_nonce()
    return Page(request, form_token=csrf.form_token(secret, fresh or nonce or ""), new_nonce=fresh)


def redirect(url: str, request: Request) -> Response:
    """See other: a normal 303, or for htmx an ``HX-Redirect`` so the whole page changes, not a fragment."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
