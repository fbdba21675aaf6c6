"""Every use of a member's data, in words: each executed sale, whether they were in it and why, what of theirs
went into it, and every later use of it (the buyer's downloads and queries), read from the records and the log.

A sale the member was left out of is listed too, with the reason (they opted out, their standing preferences
exclude it, or they were not an active member when its vote closed), so nobody has to guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.governance import buyers, consent
from tutti.coop.governance.proposals import EXECUTED, SALE
from tutti.coop.governance.terms import SaleTerms, terms_from
from tutti.coop.models import (
    AuditEvent,
    BuyerQuery,
    Member,
    Proposal,
    Release,
    ReleaseMember,
    SaleInclusion,
)
from tutti.coop.sales.recipes import RECIPES


@dataclass(frozen=True)
class DataUse:
    """One use of the member's data, or one sale they were left out of, in words."""

    when_utc: datetime
    proposal_id: str
    description: str
    included: bool


def _why_not(session: Session, member: Member, proposal: Proposal, terms: SaleTerms) -> str:
    if consent.opted_out(session, member, proposal):
        return "you opted out of this sale"
    if not consent.preferences(session, member).allows(terms):
        return "your standing preferences exclude it"
    return "you were not an active member when its vote closed"


def uses_of(session: Session, member: Member) -> list[DataUse]:
    """The member's uses, newest first (see the module docstring)."""
    uses: list[DataUse] = []
    sales = session.scalars(
        select(Proposal).where(Proposal.kind == SALE, Proposal.status == EXECUTED).order_by(Proposal.executed_utc)
    )
    mine: dict[str, str] = {}  # proposal id -> its title, for the sales the member is in
    for proposal in sales:
        terms = terms_from(proposal.terms)
        assert isinstance(terms, SaleTerms) and proposal.executed_utc is not None
        title = RECIPES[terms.recipe.name].title if terms.recipe.name in RECIPES else terms.recipe.name
        organisation = buyers.organisation_of(session, terms.buyer_id) or "the buyer"
        named = f"“{proposal.title}” to {organisation} ({title}, {terms.price_text})"
        included = session.get(SaleInclusion, (proposal.id, member.id)) is not None
        if not included:
            reason = _why_not(session, member, proposal, terms)
            uses.append(DataUse(proposal.executed_utc, proposal.id, f"Sale {named}: not included, {reason}.", False))
            continue
        mine[proposal.id] = proposal.title
        release = session.scalars(select(Release).where(Release.proposal_id == proposal.id)).one_or_none()
        if terms.delivery == "query":
            text = f"Sale {named}: included; the buyer may ask aggregate queries over your data with others'."
            uses.append(DataUse(proposal.executed_utc, proposal.id, text, True))
        elif release is None or release.built_utc is None:
            uses.append(
                DataUse(proposal.executed_utc, proposal.id, f"Sale {named}: included; release being built.", True)
            )
        else:
            went = session.get(ReleaseMember, (release.id, member.id))
            what = (
                f"{went.used:,} {'list entries' if terms.recipe.name == 'artist-preferences' else 'plays'} of yours "
                "went into it"
                if went is not None
                else "none of your data went into it (nothing of yours matched its recipe)"
            )
            uses.append(DataUse(release.built_utc, proposal.id, f"Sale {named}: release built; {what}.", True))
    if mine:
        for event in session.scalars(
            select(AuditEvent).where(AuditEvent.kind == audit.ReleaseDownloaded.kind).order_by(AuditEvent.seq)
        ):
            payload = orjson.loads(event.payload)
            if payload["proposal_id"] in mine:
                text = f"The buyer of “{mine[payload['proposal_id']]}” downloaded {payload['file']}."
                uses.append(DataUse(event.created_utc, payload["proposal_id"], text, True))
        for query in session.scalars(select(BuyerQuery).where(BuyerQuery.proposal_id.in_(list(mine)))):
            text = (
                f"The buyer of “{mine[query.proposal_id]}” asked a query ({query.recipe}) and got {query.rows:,} "
                f"noisy rows, spending epsilon {query.epsilon:g}."
            )
            uses.append(DataUse(query.at_utc, query.proposal_id, text, True))
    return sorted(uses, key=lambda use: use.when_utc, reverse=True)
