"""Governance pages: proposals and their votes, receipts and published ballots, new drafts, the buyer application,
a member's preferences, and the stewards' governance page. Each form calls the same domain functions as the API
(``routes.governance``, ``routes.buyers``); a refused form is shown again with the reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tutti.coop.contributions import scoring
from tutti.coop.errors import InvalidInput
from tutti.coop.governance import ballots, buyers, consent, proposals, terms
from tutti.coop.governance.rules import CHOICES
from tutti.coop.members import accounts
from tutti.coop.models import Member, Role
from tutti.web.deps import ActingMember, ActingSteward, CurrentMember, Db, PageContext, Steward, form_page
from tutti.web.governance_views import (
    application_public,
    ballots_public,
    consent_public,
    policy_public,
    proposal_public,
    proposals_of,
)
from tutti.web.pages import Page, redirect

router = APIRouter(tags=["governance pages"])
Text = Annotated[str, Form(max_length=4000)]


def _proposal_page(db: Session, member: Member, page: Page, proposal_id: str, code: str = "") -> None:
    proposal = proposals.get_visible(db, member, proposal_id)
    found = None
    result = ballots_public(db, proposal)
    if code.strip():
        wanted = code.strip().upper()
        found = next((b for b in result.ballots if b.tracking_code == wanted), None)
    page.extra.update(
        proposal=proposal_public(db, member, proposal),
        result=result,
        choices=CHOICES,
        code=code.strip(),
        found=found,
        can_open=member.role is Role.STEWARD and proposal.status == proposals.DRAFT,
    )


@router.get("/proposals", include_in_schema=False)
def proposals_page(db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("proposals.html", proposals=proposals_of(db, member), policy=policy_public(db))


@router.get("/proposals/new", include_in_schema=False)
def new_page(db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("proposal_new.html", form={}, **_new_context(member))


def _new_context(member: Member | None) -> dict[str, Any]:
    return {
        "is_buyer": member is not None and member.role is Role.BUYER,
        "purposes": terms.PURPOSES,
        "data_kinds": terms.DATA_KINDS,
        "deliveries": terms.DELIVERIES,
        "currencies": terms.CURRENCIES,
        "thresholds": terms.THRESHOLDS,
        "scoring_parts": scoring.PARTS,
    }


def _form_context(page: Page) -> dict[str, Any]:
    return _new_context(page.member)


def _number(raw: str, name: str) -> int | None:
    text = raw.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number") from None


@router.post(
    "/proposals/new/sale", include_in_schema=False, dependencies=[form_page("proposal_new.html", _form_context)]
)
def new_sale_form(
    request: Request,
    db: Db,
    member: ActingMember,
    page: PageContext,
    title: Annotated[str, Form(max_length=200)],
    price: Annotated[str, Form(max_length=30)],
    currency: Annotated[str, Form(max_length=3)],
    purpose: Text,
    purpose_category: Annotated[str, Form(max_length=40)],
    data_kind: Annotated[str, Form(max_length=40)],
    duration_days: Annotated[str, Form(max_length=10)],
    delivery: Annotated[str, Form(max_length=20)],
    recipe: Annotated[str, Form(max_length=64)],
    recipe_parameters: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    page.extra.update(_new_context(member))
    price_minor = terms.parse_price(price, currency)
    parameters: dict[str, int | float | str] = {}
    for part in filter(None, (p.strip() for p in recipe_parameters.replace("\n", ",").split(","))):
        key, _, value = part.partition("=")
        parameters[key.strip()] = _parameter(value.strip())
    sale = {
        "price_minor": price_minor,
        "currency": currency,
        "purpose": purpose,
        "purpose_category": purpose_category,
        "data_kind": data_kind,
        "duration_days": _number(duration_days, "the licence's duration"),
        "delivery": delivery,
        "recipe": {"name": recipe.strip(), "version": 1, "parameters": parameters},
    }
    proposal = proposals.draft_sale(db, member, title, sale)
    db.commit()
    return redirect(f"/proposals/{proposal.id}", request)


def _weights(**typed: str) -> dict[str, int] | None:
    weights = {part: _number(text, f"the weight of {part}") for part, text in typed.items()}
    given = {part: value for part, value in weights.items() if value is not None}
    return given or None


def _parameter(value: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


@router.post(
    "/proposals/new/policy", include_in_schema=False, dependencies=[form_page("proposal_new.html", _form_context)]
)
def new_policy_form(
    request: Request,
    db: Db,
    member: ActingMember,
    page: PageContext,
    title: Annotated[str, Form(max_length=200)],
    fee_percent: Annotated[str, Form(max_length=10)] = "",
    capacity_per_day: Annotated[str, Form(max_length=10)] = "",
    quorum_percent: Annotated[str, Form(max_length=10)] = "",
    threshold: Annotated[str, Form(max_length=10)] = "",
    voting_days: Annotated[str, Form(max_length=10)] = "",
    weight_volume: Annotated[str, Form(max_length=10)] = "",
    weight_span: Annotated[str, Form(max_length=10)] = "",
    weight_diversity: Annotated[str, Form(max_length=10)] = "",
    weight_richness: Annotated[str, Form(max_length=10)] = "",
    standing_rules: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    page.extra.update(_new_context(member))
    fee = None
    if fee_percent.strip():
        try:
            fee = round(float(fee_percent) * 100)
        except ValueError:
            raise InvalidInput("the fee must be a percentage such as 7.5") from None
    change = {
        "fee_basis_points": fee,
        "capacity_per_day": _number(capacity_per_day, "the daily capacity"),
        "quorum_percent": _number(quorum_percent, "the quorum"),
        "threshold": threshold or None,
        "voting_days": _number(voting_days, "the length of a vote"),
        "scoring_weights": _weights(
            volume=weight_volume, span=weight_span, diversity=weight_diversity, richness=weight_richness
        ),
        "standing_rules": standing_rules.strip() or None,
    }
    proposal = proposals.draft_policy(db, member, title, {k: v for k, v in change.items() if v is not None})
    db.commit()
    return redirect(f"/proposals/{proposal.id}", request)


@router.get("/proposals/{proposal_id}", include_in_schema=False)
def proposal_page(db: Db, member: CurrentMember, page: PageContext, proposal_id: str, code: str = "") -> HTMLResponse:
    _proposal_page(db, member, page, proposal_id, code[:40])
    return page.render("proposal.html", form={})


@router.post("/proposals/{proposal_id}/open", include_in_schema=False, dependencies=[form_page("proposal.html")])
def open_form(request: Request, db: Db, member: ActingSteward, page: PageContext, proposal_id: str) -> Response:
    _proposal_page(db, member, page, proposal_id)
    proposals.open_vote(db, member, proposal_id, site=str(request.base_url).rstrip("/"))
    db.commit()
    return redirect(f"/proposals/{proposal_id}", request)


@router.post("/proposals/{proposal_id}/vote", include_in_schema=False, dependencies=[form_page("proposal.html")])
def vote_form(
    db: Db, member: ActingMember, page: PageContext, proposal_id: str, choice: Annotated[str, Form(max_length=10)]
) -> HTMLResponse:
    _proposal_page(db, member, page, proposal_id)
    receipt = ballots.cast(db, member, proposals.get_visible(db, member, proposal_id), choice)
    db.commit()
    _proposal_page(db, member, page, proposal_id)
    return page.render("proposal.html", form={}, receipt=receipt)


@router.post("/proposals/{proposal_id}/change", include_in_schema=False, dependencies=[form_page("proposal.html")])
def change_form(
    db: Db,
    member: ActingMember,
    page: PageContext,
    proposal_id: str,
    tracking_code: Annotated[str, Form(max_length=40)],
    secret: Annotated[str, Form(max_length=200)],
    choice: Annotated[str, Form(max_length=10)],
) -> HTMLResponse:
    _proposal_page(db, member, page, proposal_id)
    proposal = proposals.get_visible(db, member, proposal_id)
    receipt = ballots.change(db, member, proposal, tracking_code, secret, choice)
    db.commit()
    _proposal_page(db, member, page, proposal_id)
    return page.render("proposal.html", form={}, receipt=receipt, changed=True)


@router.post("/proposals/{proposal_id}/opt-out", include_in_schema=False, dependencies=[form_page("proposal.html")])
def opt_out_form(
    request: Request,
    db: Db,
    member: ActingMember,
    page: PageContext,
    proposal_id: str,
    opted_out: Annotated[str, Form(max_length=5)],
) -> Response:
    _proposal_page(db, member, page, proposal_id)
    consent.opt_out(db, member, proposals.get_visible(db, member, proposal_id), opted_out == "yes")
    db.commit()
    return redirect(f"/proposals/{proposal_id}", request)


def _apply_context(db: Session, member: Member) -> dict[str, Any]:
    return {"kinds": buyers.KINDS, "applications": [application_public(a) for a in buyers.applications_of(db, member)]}


@router.get("/buyers/apply", include_in_schema=False)
def apply_page(db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("buyer_apply.html", form={}, **_apply_context(db, member))


@router.post("/buyers/apply", include_in_schema=False, dependencies=[form_page("buyer_apply.html")])
def apply_form(
    request: Request,
    db: Db,
    member: ActingMember,
    page: PageContext,
    organisation: Annotated[str, Form(max_length=200)],
    kind: Annotated[str, Form(max_length=40)],
    purpose: Text,
) -> Response:
    page.extra.update(_apply_context(db, member))
    buyers.apply(db, member, organisation, kind, purpose)
    db.commit()
    return redirect("/buyers/apply", request)


def _preferences_context(db: Session, member: Member) -> dict[str, Any]:
    return {"consent": consent_public(db, member), "purposes": terms.PURPOSES, "emails": consent.EMAILS}


@router.get("/preferences", include_in_schema=False)
def preferences_page(db: Db, member: CurrentMember, page: PageContext) -> HTMLResponse:
    return page.render("preferences.html", form={}, **_preferences_context(db, member))


@router.post("/preferences", include_in_schema=False, dependencies=[form_page("preferences.html")])
def preferences_form(
    request: Request,
    db: Db,
    member: ActingMember,
    page: PageContext,
    never_sell: Annotated[str, Form(max_length=5)] = "",
    aggregates_only: Annotated[str, Form(max_length=5)] = "",
    excluded_purposes: Annotated[list[str] | None, Form(max_length=10)] = None,
    emails: Annotated[list[str] | None, Form(max_length=5)] = None,
) -> Response:
    page.extra.update(_preferences_context(db, member))
    consent.set_preferences(
        db,
        member,
        never_sell=never_sell == "yes",
        aggregates_only=aggregates_only == "yes",
        excluded_purposes=excluded_purposes or [],
    )
    consent.set_emails(db, member, emails or [])
    db.commit()
    return redirect("/preferences?saved=1", request)


def _steward_context(db: Session, member: Member) -> dict[str, Any]:
    drafts = [p for p in proposals_of(db, member) if p.status == "draft"]
    return {"applications": [application_public(a) for a in buyers.pending(db)], "drafts": drafts, "roles": list(Role)}


@router.get("/steward/governance", include_in_schema=False)
def steward_governance_page(db: Db, member: Steward, page: PageContext) -> HTMLResponse:
    return page.render("steward_governance.html", form={}, **_steward_context(db, member))


@router.post(
    "/steward/buyers/{application_id}", include_in_schema=False, dependencies=[form_page("steward_governance.html")]
)
def decide_form(
    request: Request,
    db: Db,
    member: ActingSteward,
    page: PageContext,
    application_id: str,
    decision: Annotated[str, Form(max_length=10)],
) -> Response:
    page.extra.update(_steward_context(db, member))
    buyers.decide(db, member, application_id, decision == "approve")
    db.commit()
    return redirect("/steward/governance", request)


@router.post("/steward/roles", include_in_schema=False, dependencies=[form_page("steward_governance.html")])
def role_form(
    request: Request,
    db: Db,
    member: ActingSteward,
    page: PageContext,
    member_id: Annotated[str, Form(max_length=36)],
    role: Annotated[str, Form(max_length=10)],
) -> Response:
    page.extra.update(_steward_context(db, member))
    if role not in {r.value for r in Role}:
        raise InvalidInput("the role must be member, steward or buyer")
    accounts.set_role(db, member, accounts.get_member(db, member_id.strip()), Role(role))
    db.commit()
    return redirect("/steward/governance", request)
