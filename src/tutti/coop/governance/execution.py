"""Binding execution: the one function through which a decision takes effect.

``execute`` is called by the close of a vote (``closing``) and by nothing else; it refuses anything but a passed
proposal. A passed policy change puts itself in force (``policy.apply``, the only caller); a passed sale is
marked *executed*, with the members it includes fixed at close (``consent``), and a sale delivered as files
queues the job that builds its release (``sales.releases``). If the buyer is no longer an approved buyer when
it executes, the sale *expires* instead. Each step is an audit event; none names a ballot or a voter.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.errors import NotAllowed
from tutti.coop.governance import consent, policy
from tutti.coop.governance.proposals import CLOSED, EXECUTED, EXPIRED, SALE
from tutti.coop.governance.rules import PASSED
from tutti.coop.governance.terms import PolicyChange, terms_from
from tutti.coop.models import Member, Proposal, Role, Status, utcnow
from tutti.coop.sales import releases


def execute(session: Session, proposal: Proposal, *, now: datetime | None = None) -> Proposal:
    """Give a passed proposal its effect (see the module docstring); NotAllowed for any other proposal."""
    if proposal.status != CLOSED or proposal.outcome != PASSED:
        raise NotAllowed("only a passed proposal can be executed")
    when = now or utcnow()
    terms = terms_from(proposal.terms)
    included = 0
    if proposal.kind == SALE:
        buyer = session.get(Member, proposal.terms["buyer_id"])
        if buyer is None or buyer.role is not Role.BUYER or buyer.status is not Status.ACTIVE:
            proposal.status, proposal.executed_utc = EXPIRED, when
            audit.record(session, audit.ProposalExpired(proposal_id=proposal.id, reason="buyer-gone"), now=when)
            return proposal
        included = len(consent.included(session, proposal))
    else:
        assert isinstance(terms, PolicyChange)
        policy.apply(session, terms, proposal.id, now=when)
    proposal.status, proposal.executed_utc = EXECUTED, when
    session.flush()
    if proposal.kind == SALE:
        releases.queue_release(session, proposal, now=when)  # file delivery: its release is built by a job
    audit.record(
        session,
        audit.ProposalExecuted(proposal_id=proposal.id, proposal_kind=proposal.kind, included=included),
        now=when,
    )
    return proposal
