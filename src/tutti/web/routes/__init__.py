"""One router per resource; each holds that resource's pages and its API under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

from tutti.web.routes import auth, buyers, contributions, governance, ledger, log, members, stewardship, tokens

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    members.router,
    contributions.router,
    tokens.router,
    stewardship.router,
    log.router,
    buyers.router,
    governance.router,
    ledger.router,
)
