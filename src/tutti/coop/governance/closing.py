"""The close of a vote: count the published ballots, decide, fix who a sale includes, and execute what passed.

Run by the ``close-vote`` job when the window ends (``jobs``), or by ``tutti coop proposals close``; both call
``close``, in one transaction, then ``ballots.scrub`` once it has committed. Closing a vote twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.errors import Conflict
from tutti.coop.governance import ballots, consent, execution, proposals
from tutti.coop.governance.rules import PASSED, Ballot, Rules, Tally, count, outcome
from tutti.coop.governance.terms import SaleTerms, terms_from
from tutti.coop.models import AuditEvent, Proposal, utcnow


def close(session: Session, proposal_id: str, *, site: str = "", now: datetime | None = None) -> Proposal:
    """Close ``proposal_id``'s vote if its window has ended (Conflict before); a no-op once closed. ``site``
    makes the result email's links absolute."""
    when = now or utcnow()
    proposal = proposals.get(session, proposal_id)
    if proposal.status != proposals.OPEN:
        return proposal
    assert proposal.closes_utc is not None and proposal.rules is not None
    if when < proposal.closes_utc:
        raise Conflict(f"the vote is open until {proposal.closes_utc:%Y-%m-%d %H:%M} UTC")
    ballots.hold(session, proposal)
    session.refresh(proposal)  # the box's lock is held now: read the proposal as it is
    if proposal.status != proposals.OPEN:
        return proposal
    published = ballots.publish(session, proposal)
    tally = count(published)
    decided = outcome(tally, proposal.electorate_size or 0, Rules.from_json(proposal.rules))
    proposal.status, proposal.outcome, proposal.tally, proposal.closed_utc = (
        proposals.CLOSED,
        decided,
        tally.to_json(),
        when,
    )
    included = 0
    terms = terms_from(proposal.terms)
    if decided == PASSED and isinstance(terms, SaleTerms):
        included = consent.fix_inclusion(session, proposal, terms)
    session.flush()
    audit.record(
        session,
        audit.ProposalClosed(
            proposal_id=proposal.id,
            outcome=decided,
            ballots=tally.ballots,
            yes=tally.yes,
            no=tally.no,
            abstain=tally.abstain,
            included=included,
            ballots_sha256=ballots.digest(published),
        ),
        now=when,
    )
    if decided == PASSED:
        execution.execute(session, proposal, now=when)
    proposals.notice(session, proposal, "result", when, site=site, now=when)
    return proposal


def due(session: Session, *, now: datetime | None = None) -> list[str]:
    """Open proposals whose window has ended."""
    query = select(Proposal.id).where(Proposal.status == proposals.OPEN, Proposal.closes_utc <= (now or utcnow()))
    return list(session.scalars(query.order_by(Proposal.closes_utc)))


@dataclass(frozen=True)
class Recount:
    """A recount of a closed vote from its published ballots, against what was announced and logged."""

    proposal_id: str
    tally: Tally
    outcome: str
    announced: Tally | None
    digest: str
    logged_digest: str | None

    @property
    def agrees(self) -> bool:
        return self.tally == self.announced and self.digest == self.logged_digest


def recount_ballots(published: list[Ballot], electorate: int, rules: Rules) -> tuple[Tally, str]:
    """The tally and outcome anyone computes from a published ballot list (no database needed)."""
    tally = count(published)
    return tally, outcome(tally, electorate, rules)


def recount(session: Session, proposal_id: str) -> Recount:
    """Count the published ballots again and compare with the announced tally and the log's hash of the list."""
    proposal = proposals.get(session, proposal_id)
    published = ballots.published(session, proposal)
    assert proposal.rules is not None
    rules = Rules.from_json(proposal.rules)
    tally, decided = recount_ballots(published, proposal.electorate_size or 0, rules)
    logged = None
    for event in session.scalars(select(AuditEvent).where(AuditEvent.kind == audit.ProposalClosed.kind)):
        payload = orjson.loads(event.payload)
        if payload.get("proposal_id") == proposal_id:
            logged = str(payload["ballots_sha256"])
    announced = Tally(**proposal.tally) if proposal.tally else None
    return Recount(proposal_id, tally, decided, announced, ballots.digest(published), logged)
