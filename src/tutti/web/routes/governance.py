"""Proposals and votes: drafts, opening a vote, secret ballots with receipts, published ballots, opt-outs, consent
and the policy in force. No route closes a vote or executes a proposal: the close job does
(``tutti.coop.governance.jobs``), or the operator's ``tutti coop proposals close``.

A changed ballot is sent in the body, never in the path: request lines reach access logs, with the time and the
client's address, and a tracking code there would tie the ballot to them.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from tutti.coop.governance import ballots, consent, proposals
from tutti.web.deps import ActingMember, ActingSteward, CurrentMember, Db
from tutti.web.governance_schemas import (
    BallotsPublic,
    ConsentPublic,
    ConsentUpdate,
    OpenVoteCreate,
    OptOutPublic,
    OptOutUpdate,
    PolicyCreate,
    PolicyPublic,
    ProposalPublic,
    ReceiptPublic,
    SaleCreate,
    VoteChange,
    VoteCreate,
)
from tutti.web.governance_views import (
    ballots_public,
    consent_public,
    policy_public,
    proposal_public,
    proposals_of,
)

router = APIRouter(tags=["governance"])


def _receipt(receipt: ballots.Receipt) -> ReceiptPublic:
    return ReceiptPublic(
        proposal_id=receipt.proposal_id,
        tracking_code=receipt.tracking_code,
        secret=receipt.secret,
        choice=receipt.choice,  # type: ignore[arg-type]
    )


@router.get("/api/proposals")
def proposals_api(db: Db, member: CurrentMember) -> list[ProposalPublic]:
    """The proposals the caller may see, newest first (a buyer sees only their own)."""
    return proposals_of(db, member)


@router.post("/api/sale-proposals", status_code=status.HTTP_201_CREATED)
def draft_sale_api(body: SaleCreate, db: Db, member: ActingMember) -> ProposalPublic:
    """A buyer drafts a sale to themselves; a steward opens its vote."""
    terms = body.model_dump(exclude={"title"})
    proposal = proposals.draft_sale(db, member, body.title, terms)
    db.commit()
    return proposal_public(db, member, proposal)


@router.post("/api/policy-proposals", status_code=status.HTTP_201_CREATED)
def draft_policy_api(body: PolicyCreate, db: Db, member: ActingMember) -> ProposalPublic:
    """A member drafts a change of policy (only the fields given change); a steward opens its vote."""
    change = body.model_dump(exclude={"title"}, exclude_none=True)
    proposal = proposals.draft_policy(db, member, body.title, change)
    db.commit()
    return proposal_public(db, member, proposal)


@router.get("/api/proposals/{proposal_id}")
def proposal_api(proposal_id: str, db: Db, member: CurrentMember) -> ProposalPublic:
    """One proposal: its terms (typed and in words), rules, the caller's part; its tally once closed."""
    return proposal_public(db, member, proposals.get_visible(db, member, proposal_id))


@router.post("/api/proposals/{proposal_id}/open")
def open_api(request: Request, proposal_id: str, body: OpenVoteCreate, db: Db, member: ActingSteward) -> ProposalPublic:
    """Open a draft's vote: the electorate (active members now), quorum and threshold are frozen; audited."""
    proposals.get_visible(db, member, proposal_id)
    proposal = proposals.open_vote(
        db, member, proposal_id, voting_days=body.voting_days, site=str(request.base_url).rstrip("/")
    )
    db.commit()
    return proposal_public(db, member, proposal)


@router.post("/api/proposals/{proposal_id}/votes", status_code=status.HTTP_201_CREATED)
def vote_api(proposal_id: str, body: VoteCreate, db: Db, member: ActingMember) -> ReceiptPublic:
    """Cast a secret ballot. The receipt's secret is shown this once: keep it to change the ballot until close,
    and the tracking code to find it once the ballots are published."""
    proposal = proposals.get_visible(db, member, proposal_id)
    receipt = ballots.cast(db, member, proposal, body.choice)
    db.commit()
    return _receipt(receipt)


@router.post("/api/proposals/{proposal_id}/votes/change")
def change_vote_api(proposal_id: str, body: VoteChange, db: Db, member: ActingMember) -> ReceiptPublic:
    """Change a ballot's choice with its receipt, until the vote closes; it is still counted once."""
    proposal = proposals.get_visible(db, member, proposal_id)
    receipt = ballots.change(db, member, proposal, body.tracking_code, body.secret, body.choice)
    db.commit()
    return _receipt(receipt)


@router.get("/api/proposals/{proposal_id}/ballots")
def ballots_api(proposal_id: str, db: Db, member: CurrentMember) -> BallotsPublic:
    """Every ballot (tracking code, choice, weight) and the tally once the vote closed; empty before."""
    return ballots_public(db, proposals.get_visible(db, member, proposal_id))


@router.put("/api/proposals/{proposal_id}/opt-out")
def opt_out_api(proposal_id: str, body: OptOutUpdate, db: Db, member: ActingMember) -> OptOutPublic:
    """Opt out of one sale (or back in) until its vote closes."""
    proposal = proposals.get_visible(db, member, proposal_id)
    consent.opt_out(db, member, proposal, body.opted_out)
    db.commit()
    return OptOutPublic(proposal_id=proposal.id, opted_out=consent.opted_out(db, member, proposal))


@router.get("/api/me/consent")
def consent_api(db: Db, member: CurrentMember) -> ConsentPublic:
    """What the member allows their data to be sold for, and which governance emails they get."""
    return consent_public(db, member)


@router.put("/api/me/consent")
def set_consent_api(body: ConsentUpdate, db: Db, member: ActingMember) -> ConsentPublic:
    """Set the standing consent and the governance emails wanted."""
    consent.set_preferences(
        db,
        member,
        never_sell=body.never_sell,
        aggregates_only=body.aggregates_only,
        excluded_purposes=body.excluded_purposes,
    )
    consent.set_emails(db, member, body.emails)
    db.commit()
    return consent_public(db, member)


@router.get("/api/policy")
def policy_api(db: Db, member: CurrentMember) -> PolicyPublic:
    """The policy in force: what the members voted (or the founding defaults)."""
    return policy_public(db)
