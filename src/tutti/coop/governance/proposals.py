"""Proposals from draft to open: a buyer drafts a sale, a member a policy change, a steward opens the vote.

Lifecycle: *draft* -> *open* (a voting window; the electorate is the active members with data at that moment,
one ``elector`` row each, and the quorum, threshold and weighting of the policy in force are frozen into the
proposal) -> *closed* (passed, failed or no quorum; ``closing``) -> *executed* or *expired* (``execution``).

Who sees what: stewards see every proposal; a buyer sees only their own; members see every proposal past its
draft, and their own drafts. Running tallies are never shown: the only count is the one made at close.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.actions import OPEN_VOTE, PROPOSE_POLICY, PROPOSE_SALE, require
from tutti.coop.errors import Conflict, InvalidInput, NotFound
from tutti.coop.governance import ballots, policy
from tutti.coop.governance.rules import Rules
from tutti.coop.governance.terms import PolicyChange, SaleTerms
from tutti.coop.jobs.queue import enqueue
from tutti.coop.models import Contribution, ContributionStatus, Elector, Member, Proposal, Role, Status, new_id, utcnow
from tutti.coop.sales.sale import parameters_of

DRAFT, OPEN, CLOSED, EXECUTED, EXPIRED = "draft", "open", "closed", "executed", "expired"
SALE, POLICY = "sale", "policy"
MAX_TITLE = 200
# Contribution points at which a member's weight rises, under the ``banded`` weighting: coarse on purpose.
WEIGHT_BANDS = ((10_000, 3), (1_000, 2), (0, 1))
CLOSE_JOB = "close-vote"
PREVIEW_JOB = "preview-sale"  # ``sales.preview``: what a sale would release, computed when its vote opens
NOTICE_JOB = "send-vote-notices"
REMINDER_BEFORE = timedelta(days=1)


def _title(title: str) -> str:
    text = title.strip()
    if not text or len(text) > MAX_TITLE:
        raise InvalidInput(f"the title must be 1 to {MAX_TITLE} characters")
    return text


def _new(session: Session, author: Member, kind: str, title: str, terms: dict[str, Any], when: datetime) -> Proposal:
    proposal = Proposal(
        id=new_id(), kind=kind, status=DRAFT, title=_title(title), author_id=author.id, terms=terms, created_utc=when
    )
    session.add(proposal)
    session.flush()
    audit.record(
        session, audit.ProposalDrafted(member_id=author.id, proposal_id=proposal.id, proposal_kind=kind), now=when
    )
    return proposal


def draft_sale(
    session: Session, buyer: Member, title: str, terms: Mapping[str, Any], *, now: datetime | None = None
) -> Proposal:
    """A buyer's draft of a sale to themselves (the buyer is always the one drafting)."""
    require(PROPOSE_SALE, buyer)
    sale = SaleTerms.from_json(terms, buyer_id=buyer.id)
    parameters_of(sale)  # the recipe as this cooperative defines it: name, version, parameters, data kind
    return _new(session, buyer, SALE, title, sale.to_json(), now or utcnow())


def draft_policy(
    session: Session, member: Member, title: str, change: Mapping[str, Any], *, now: datetime | None = None
) -> Proposal:
    require(PROPOSE_POLICY, member)
    return _new(session, member, POLICY, title, PolicyChange.from_json(change).to_json(), now or utcnow())


def _visible_to(member: Member) -> Any:
    if member.role is Role.STEWARD:
        return True
    if member.role is Role.BUYER:
        return Proposal.author_id == member.id
    return or_(Proposal.status != DRAFT, Proposal.author_id == member.id)


def visible(session: Session, member: Member) -> list[Proposal]:
    """The proposals ``member`` may see, newest first."""
    query = select(Proposal).where(_visible_to(member)).order_by(Proposal.created_utc.desc(), Proposal.id)
    return list(session.scalars(query))


def get_visible(session: Session, member: Member, proposal_id: str) -> Proposal:
    """One proposal ``member`` may see; NotFound otherwise (whether or not it exists)."""
    found = session.scalars(select(Proposal).where(Proposal.id == proposal_id, _visible_to(member))).one_or_none()
    if found is None:
        raise NotFound("no such proposal")
    return found


def get(session: Session, proposal_id: str) -> Proposal:
    found = session.get(Proposal, proposal_id)
    if found is None:
        raise NotFound("no such proposal")
    return found


def _weights(session: Session, weighting: str, member_ids: list[str]) -> dict[str, int]:
    if weighting != "banded":
        return dict.fromkeys(member_ids, 1)
    points = dict(
        session.execute(
            select(Contribution.member_id, func.coalesce(func.sum(Contribution.score), 0))
            .where(Contribution.status == ContributionStatus.ACCEPTED)
            .group_by(Contribution.member_id)
        ).all()
    )
    return {m: next(w for floor, w in WEIGHT_BANDS if int(points.get(m, 0)) >= floor) for m in member_ids}


def electorate_now(session: Session) -> list[str]:
    """The members who would vote if a vote opened now: active members with data (not buyers), by id."""
    query = select(Member.id).where(Member.status == Status.ACTIVE, Member.role.in_([Role.MEMBER, Role.STEWARD]))
    return list(session.scalars(query.order_by(Member.id)))


def open_vote(
    session: Session,
    steward: Member,
    proposal_id: str,
    *,
    voting_days: int | None = None,
    site: str = "",
    now: datetime | None = None,
) -> Proposal:
    """A steward opens a draft's vote for ``voting_days`` (default: the policy's); see the module docstring.

    ``site`` (the server's address, as the steward reached it) makes the links of the vote's emails absolute."""
    require(OPEN_VOTE, steward)
    when = now or utcnow()
    proposal = get(session, proposal_id)
    if proposal.status != DRAFT:
        raise Conflict(f"only a draft can be opened; this proposal is {proposal.status}")
    in_force = policy.current(session)
    days = in_force.voting_days if voting_days is None else voting_days
    if not 1 <= days <= 60:
        raise InvalidInput("a vote lasts 1 to 60 days")
    if proposal.kind == SALE:
        buyer = session.get(Member, proposal.terms["buyer_id"])
        if buyer is None or buyer.role is not Role.BUYER or buyer.status is not Status.ACTIVE:
            raise Conflict("the buyer of this sale is no longer an approved buyer")
    rules = Rules(in_force.quorum_percent, in_force.threshold, in_force.weighting)
    members = electorate_now(session)
    weights = _weights(session, rules.weighting, members)
    session.add_all([Elector(proposal_id=proposal.id, member_id=m, weight=weights[m]) for m in members])
    proposal.status, proposal.rules, proposal.electorate_size = OPEN, rules.to_json(), len(members)
    proposal.opened_utc, proposal.closes_utc = when, when + timedelta(days=days)
    session.flush()
    ballots.start(session, proposal)
    audit.record(
        session,
        audit.ProposalOpened(
            member_id=steward.id,
            proposal_id=proposal.id,
            electorate=len(members),
            quorum_percent=rules.quorum_percent,
            threshold=rules.threshold,
            weighting=rules.weighting,
            closes_utc=proposal.closes_utc.isoformat(),
        ),
        now=when,
    )
    enqueue(session, CLOSE_JOB, {"proposal_id": proposal.id}, unique_key=f"close-vote:{proposal.id}",
            run_after=proposal.closes_utc, now=when)  # fmt: skip
    if proposal.kind == SALE:
        enqueue(session, PREVIEW_JOB, {"proposal_id": proposal.id}, unique_key=f"{PREVIEW_JOB}:{proposal.id}",
                now=when)  # fmt: skip
    notice(session, proposal, "opened", when, now=when)
    if proposal.closes_utc - REMINDER_BEFORE > when:
        notice(session, proposal, "closing", proposal.closes_utc - REMINDER_BEFORE, now=when)
    _address(session, proposal, site)
    return proposal


def notice(session: Session, proposal: Proposal, kind: str, at: datetime, *, now: datetime, site: str = "") -> None:
    """Queue the emails of ``kind`` about ``proposal`` (``notices``), to be sent at ``at``, once."""
    enqueue(session, NOTICE_JOB, {"proposal_id": proposal.id, "notice": kind, "site": site},
            unique_key=f"vote-notice:{proposal.id}:{kind}", run_after=at, now=now)  # fmt: skip


def _address(session: Session, proposal: Proposal, site: str) -> None:
    """Give the jobs a vote's opening queued (its close, its emails) the server's address, for absolute links."""
    from tutti.coop.models import Job  # the only use of the job table here

    keys = [f"close-vote:{proposal.id}", *(f"vote-notice:{proposal.id}:{kind}" for kind in ("opened", "closing"))]
    for job in session.scalars(select(Job).where(Job.unique_key.in_(keys))):
        job.payload = {**job.payload, "site": site}
    session.flush()


def is_elector(session: Session, proposal: Proposal, member: Member) -> bool:
    return session.get(Elector, (proposal.id, member.id)) is not None
