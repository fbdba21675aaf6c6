"""Shared steps of the governance tests: members, an approved buyer, a sale's terms, a vote opened and closed, a passed
policy change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from tutti.coop.db import settings_of
from tutti.coop.governance import ballots, buyers, closing, proposals
from tutti.coop.members import accounts, emails
from tutti.coop.models import Member, Proposal

PASSWORD = "a long enough passphrase"
OPENED = datetime(2026, 3, 2, 9, tzinfo=UTC)
DURING = OPENED + timedelta(hours=1)
AFTER = OPENED + timedelta(days=8)


def sale_terms(**changes: Any) -> dict[str, Any]:
    """A plausible sale: artist preferences for AI training, as the collective in the news sold."""
    terms: dict[str, Any] = {
        "price_minor": 125_000,
        "currency": "EUR",
        "purpose": "Train a music recommendation model on what listeners prefer.",
        "purpose_category": "ai-training",
        "data_kind": "per-member",
        "duration_days": 365,
        "delivery": "files",
        "recipe": {"name": "artist-preferences", "version": 1, "parameters": {"top": 20, "k": 20}},
    }
    return terms | changes


def member(session: Session, email: str, *, now: datetime | None = None) -> Member:
    return accounts.signup(session, email, PASSWORD, now=now or OPENED - timedelta(days=1))


def steward(session: Session) -> Member:
    found = emails.find_member(session, settings_of(session), "steward@example.org")
    assert found is not None
    return found


def buyer(session: Session, email: str = "data@lab.example") -> Member:
    """An approved buyer account."""
    account = member(session, email)
    application = buyers.apply(session, account, "Listening Lab", "ai-developer", "We build recommenders.")
    buyers.decide(session, steward(session), application.id, True)
    return account


def open_sale(sessions: sessionmaker[Session], **terms: Any) -> str:
    """A buyer's sale, drafted and opened by the steward at ``OPENED``; its id."""
    with sessions.begin() as session:
        draft = proposals.draft_sale(session, buyer(session), "Artist preferences", sale_terms(**terms))
        proposals.open_vote(session, steward(session), draft.id, now=OPENED)
        return draft.id


def close(sessions: sessionmaker[Session], proposal_id: str) -> Proposal:
    with sessions.begin() as session:
        return closing.close(session, proposal_id, now=AFTER)


def pass_policy(sessions: sessionmaker[Session], change: dict[str, Any], *, in_force: datetime = OPENED) -> str:
    """A policy change put in force at ``in_force`` the only way there is: the steward drafts it and opens a
    one-day vote, which the steward's ballot passes (the default quorum while at most five members are active),
    and its close executes it. The proposal's id."""
    opened = in_force - timedelta(days=1)
    with sessions.begin() as session:
        draft = proposals.draft_policy(session, steward(session), "A change of policy", change, now=opened)
        proposals.open_vote(session, steward(session), draft.id, voting_days=1, now=opened)
        ballots.cast(session, steward(session), draft, "yes", now=opened)
    with sessions.begin() as session:
        done = closing.close(session, draft.id, now=in_force)
        assert done.status == proposals.EXECUTED, done.outcome
        return done.id
