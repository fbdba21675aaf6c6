"""Shared steps of the ledger tests: members with contribution points, a sale passed and executed, a payment."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tests.helpers.governance import AFTER, DURING, OPENED, buyer, close, member, sale_terms, steward
from tutti.coop.governance import ballots, consent, proposals
from tutti.coop.models import Contribution, ContributionStatus, Member, Proposal

PAID = AFTER + timedelta(days=1)


def add_points(session: Session, member_id: str, points: int) -> None:
    """An accepted contribution of ``points`` for the member (a row only: no upload runs)."""
    session.add(Contribution(member_id=member_id, status=ContributionStatus.ACCEPTED, score=points, created_utc=AFTER))
    session.flush()


def with_points(session: Session, email: str, points: int) -> Member:
    """A new member whose accepted contributions earned ``points``."""
    found = member(session, email)
    if points:
        add_points(session, found.id, points)
    return found


def passed_sale(
    sessions: sessionmaker[Session],
    points: dict[str, int],
    *,
    opted_out: Iterable[str] = (),
    buyer_email: str = "data@lab.example",
    known: dict[str, str] | None = None,
    **terms: Any,
) -> tuple[str, dict[str, str]]:
    """New members (email -> points), and members ``known`` already (email -> id), and a sale they pass, the
    ``opted_out`` emails left out; (sale id, email -> member id)."""
    with sessions.begin() as session:
        ids = dict(known or {}) | {email: with_points(session, email, p).id for email, p in points.items()}
        draft = proposals.draft_sale(session, buyer(session, buyer_email), "Artist preferences", sale_terms(**terms))
        proposals.open_vote(session, steward(session), draft.id, now=OPENED)
        sale = draft.id
    with sessions.begin() as session:
        proposal = session.get_one(Proposal, sale)
        for email in opted_out:
            consent.opt_out(session, session.get_one(Member, ids[email]), proposal, now=DURING)
        ballots.cast(session, steward(session), proposal, "yes", now=DURING)
    close(sessions, sale)
    return sale, ids
