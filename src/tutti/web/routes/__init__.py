"""One router per resource; each holds that resource's pages and its API under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

from tutti.web.routes import (
    auth,
    buyers,
    contributions,
    governance,
    governance_pages,
    ledger,
    log,
    members,
    sales,
    stewardship,
    tokens,
)

ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    members.router,
    contributions.router,
    tokens.router,
    stewardship.router,
    log.router,
    buyers.router,
    governance.router,
    governance_pages.router,
    sales.router,
    ledger.router,
)
