"""Refusals become HTTP answers in one place: ``STATUS_CODES`` maps each ``TuttiError`` class to a status.

The API answers ``{"detail": "<one sentence>"}`` (``ErrorPublic``; ``tutti.web.openapi`` documents which
operation can answer which status). 422 is left to requests that do not match the published schema; a rule beyond
the schema refuses with 400. Pages show the sentence: on the form that was refused when the
route named one (``deps.form_page``), as a fragment for htmx, or on an error page; a page that needs a login
sends the visitor to the login page instead. A refused request never shows a traceback.
"""

from __future__ import annotations

import jinja2
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from tutti.coop.bootstrap import existing_name
from tutti.coop.errors import (
    ConfigError,
    Conflict,
    CsrfMismatch,
    DecryptionFailed,
    InvalidInput,
    KeyDestroyed,
    LogInvalid,
    NotAllowed,
    NotFound,
    RateLimited,
    Unauthenticated,
    ValidationRejected,
)
from tutti.errors import ExportError, TuttiError
from tutti.web.openapi import allowed_methods
from tutti.web.pages import Page, is_htmx, login_url, redirect, visitor_page


class UploadTooLarge(InvalidInput):
    """The upload is bigger than the server accepts."""


# First match wins: subclasses before their parents.
STATUS_CODES: tuple[tuple[type[TuttiError], int], ...] = (
    (Unauthenticated, 401),
    (CsrfMismatch, 403),
    (NotAllowed, 403),
    (NotFound, 404),
    (Conflict, 409),
    (KeyDestroyed, 410),
    (RateLimited, 429),
    (UploadTooLarge, 413),
    (ValidationRejected, 400),
    (InvalidInput, 400),
    (ExportError, 400),
    (ConfigError, 500),
    (DecryptionFailed, 500),
    (LogInvalid, 500),
    (TuttiError, 400),
)
# Form fields never shown back on a refused form.
_SECRET_FIELDS = frozenset({"password", "new_password", "current_password", "csrf_token", "token", "secret"})


def status_code_for(exc: TuttiError) -> int:
    return next(code for cls, code in STATUS_CODES if isinstance(exc, cls))


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


async def handle_tutti_error(request: Request, exc: Exception) -> Response:
    """The one translation of a refusal into a response (see the module docstring)."""
    if not isinstance(exc, TuttiError):
        raise exc
    status = status_code_for(exc)
    headers: dict[str, str] = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if is_api(request):
        if status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse({"detail": str(exc)}, status_code=status, headers=headers)
    return await _error_page(request, str(exc), status, headers)


async def _error_page(request: Request, message: str, status: int, headers: dict[str, str]) -> Response:
    page = getattr(request.state, "page", None)
    if not isinstance(page, Page):
        page = _visitor_page(request)
    template = getattr(request.state, "form_template", None)
    if is_htmx(request):
        if status == 401:
            return redirect(login_url(request), request)
        return page.render("_error.html", status_code=status, headers=headers, message=message)
    if isinstance(template, str):
        form = {k: v for k, v in (await request.form()).items() if k not in _SECRET_FIELDS and isinstance(v, str)}
        context = getattr(request.state, "form_context", None)
        extra = dict(context(page)) if callable(context) else {}
        try:
            return page.render(template, status_code=status, headers=headers, error=message, form=form, **extra)
        except jinja2.UndefinedError:
            pass  # refused before the route gave the form what it shows (whom it is about): the plain error page
    if status == 401 and request.method == "GET":
        return redirect(login_url(request), request)
    return page.render("error.html", status_code=status, headers=headers, message=message, status=status)


def _visitor_page(request: Request) -> Page:
    # The error came before the page's own context was built (while checking who is asking, or on a form post).
    page = visitor_page(request, request.app.state.settings.session_secret)
    with request.app.state.sessions() as session:
        page.coop_name = existing_name(session) or page.coop_name
    return page


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    """Malformed input: pydantic's details for the API, one sentence for pages."""
    if not isinstance(exc, RequestValidationError):
        raise exc
    if is_api(request):
        # pydantic's details quote what was sent ("input", and "ctx" may too): a refused password or token must not
        # come back in the answer, nor reach a log that records answers. Where and what is wrong is enough.
        details = [{key: error[key] for key in ("type", "loc", "msg") if key in error} for error in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(details)}, status_code=422)
    fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
    message = "the form is incomplete: " + ", ".join(fields) if fields else "the form is incomplete"
    return await handle_tutti_error(request, InvalidInput(message))


async def handle_http_error(request: Request, exc: Exception) -> Response:
    """Not found and friends: JSON for the API, a page for people."""
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    if exc.status_code == 405:
        exc.headers = {**(exc.headers or {}), "Allow": ", ".join(allowed_methods(request.scope))}
    if is_api(request):
        return await http_exception_handler(request, exc)
    message = "there is no such page" if exc.status_code == 404 else str(exc.detail)
    page = getattr(request.state, "page", None)
    page = page if isinstance(page, Page) else _visitor_page(request)
    return page.render("error.html", status_code=exc.status_code, message=message, status=exc.status_code)


def install(app: FastAPI) -> None:
    app.add_exception_handler(TuttiError, handle_tutti_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
