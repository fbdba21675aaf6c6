"""The cooperative's web application: ``create_app(settings)`` wires routers, errors, static files and middleware."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.staticfiles import StaticFiles

from tutti import __version__
from tutti.coop.db import make_engine, session_factory
from tutti.coop.jobs.worker import Workers
from tutti.coop.settings import CoopSettings
from tutti.web import admissions, errors
from tutti.web.admissions import ADMIT_EVERY_SECONDS
from tutti.web.middleware import BodyLimit, JsonLimits, SecurityHeaders
from tutti.web.openapi import document_refusals
from tutti.web.proxies import TrustedProxies
from tutti.web.routes import ROUTERS
from tutti.web.uploads import MAX_UPLOAD_BYTES

DESCRIPTION = """
The API of a Tutti listeners' cooperative. Scripts authenticate with an API token
(`Authorization: Bearer tutti_...`, made on the *API tokens* page or with `POST /api/tokens`); calls made with
the login cookie instead send the session's CSRF token in the `X-CSRF-Token` header. Refusals answer
`{"detail": "<one sentence>"}` with a status code that says which kind: 400 (a rule refuses a well-formed request),
401, 403, 404, 409, 413, 429; 422 means the request does not match this schema (pydantic's details).
"""


class CoopApi(FastAPI):
    """FastAPI whose OpenAPI document names every refusal an operation can answer (``tutti.web.openapi``)."""

    def openapi(self) -> dict[str, Any]:
        return document_refusals(self)


def create_app(
    settings: CoopSettings,
    *,
    engine: Engine | None = None,
    admit_every: float | None = ADMIT_EVERY_SECONDS,
    workers: int | None = None,
) -> FastAPI:
    """The application for one cooperative; ``engine`` (tests pass one bound to their schema) defaults to the
    settings' database, and the migrations must already be applied (``tutti coop serve`` does that).

    While it runs, members waiting are admitted as room frees, checked every ``admit_every`` seconds
    (``admissions``); None turns that off, for tests that set up a queue and want it to stay as they left it.
    ``workers`` background workers (default: the settings' ``workers``) validate uploads and keep house; on
    shutdown the jobs under way finish first.
    """
    bound = engine if engine is not None else make_engine(settings.database_url)
    sessions = session_factory(bound, settings)
    background = Workers(sessions, settings, settings.workers if workers is None else workers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        background.start()
        try:
            async with admissions.admitting(sessions, admit_every):
                yield
        finally:
            await asyncio.to_thread(background.stop)
            if engine is None:
                bound.dispose()

    app = CoopApi(
        title="Tutti cooperative",
        version=__version__,
        description=DESCRIPTION,
        # The interactive docs pages load their scripts from a CDN: the pages here load nothing from elsewhere.
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.sessions = sessions
    app.mount("/static", StaticFiles(packages=[("tutti.web", "static")]), name="static")
    for router in ROUTERS:
        app.include_router(router)
    errors.install(app)
    app.add_middleware(JsonLimits)
    app.add_middleware(BodyLimit, max_bytes=MAX_UPLOAD_BYTES + 1024**2)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedProxies, trusted=settings.trusted_proxies)
    return app
