"""Consent: what each member allows their data to be sold for, and their opt-out from a single sale.

Standing preferences: *never sell* my data; *aggregates only* (only sales of statistics over many members); *not
for* these purposes (``terms.PURPOSES``). A member with no preferences allows every purpose. An opt-out from one
sale is possible until its vote closes (and can be taken back until then).

At close, a passed sale's included members are fixed (``fix_inclusion``): the active members with data, not opted
out, whose preferences allow the sale's kind of data and purpose. ``included`` reads them back, always leaving out
anyone withdrawn since: a withdrawn member is never included in anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.actions import SET_CONSENT, require
from tutti.coop.errors import Conflict, InvalidInput
from tutti.coop.governance.terms import PURPOSES, SaleTerms
from tutti.coop.models import Consent, Member, Proposal, Role, SaleInclusion, SaleOptOut, Status, utcnow

EMAILS: dict[str, str] = {
    "opened": "when a vote opens",
    "closing": "a day before a vote closes, if I have not voted",
    "result": "the result of every vote",
}


@dataclass(frozen=True)
class Preferences:
    never_sell: bool = False
    aggregates_only: bool = False
    excluded_purposes: tuple[str, ...] = ()
    emails: tuple[str, ...] = tuple(EMAILS)

    def allows(self, terms: SaleTerms) -> bool:
        """Whether a sale on ``terms`` may include this member's data."""
        if self.never_sell or terms.purpose_category in self.excluded_purposes:
            return False
        return not self.aggregates_only or terms.data_kind == "aggregates"


def preferences(session: Session, member: Member) -> Preferences:
    row = session.get(Consent, member.id)
    if row is None:
        return Preferences()
    return Preferences(row.never_sell, row.aggregates_only, tuple(row.excluded_purposes), tuple(row.emails))


def _row(session: Session, member: Member, when: datetime) -> Consent:
    row = session.get(Consent, member.id)
    if row is None:
        row = Consent(member_id=member.id, never_sell=False, aggregates_only=False, excluded_purposes=[],
                      emails=list(EMAILS), updated_utc=when)  # fmt: skip
        session.add(row)
    return row


def set_preferences(
    session: Session,
    member: Member,
    *,
    never_sell: bool,
    aggregates_only: bool,
    excluded_purposes: Iterable[str],
    now: datetime | None = None,
) -> Preferences:
    require(SET_CONSENT, member)
    purposes = sorted(set(excluded_purposes))
    if unknown := [p for p in purposes if p not in PURPOSES]:
        raise InvalidInput(f"unknown purpose {unknown[0]!r}: the purposes are {', '.join(PURPOSES)}")
    when = now or utcnow()
    row = _row(session, member, when)
    row.never_sell, row.aggregates_only, row.excluded_purposes = never_sell, aggregates_only, purposes
    row.updated_utc = when
    session.flush()
    audit.record(session, audit.ConsentChanged(member_id=member.id), now=when)
    return preferences(session, member)


def set_emails(session: Session, member: Member, kinds: Iterable[str], *, now: datetime | None = None) -> Preferences:
    """Which governance emails the member gets (``EMAILS``); none at all is a choice too."""
    require(SET_CONSENT, member)
    chosen = sorted(set(kinds))
    if unknown := [k for k in chosen if k not in EMAILS]:
        raise InvalidInput(f"unknown email {unknown[0]!r}: the emails are {', '.join(EMAILS)}")
    when = now or utcnow()
    row = _row(session, member, when)
    row.emails, row.updated_utc = chosen, when
    session.flush()
    return preferences(session, member)


def opt_out(
    session: Session, member: Member, proposal: Proposal, out: bool = True, *, now: datetime | None = None
) -> None:
    """Opt out of (or, with ``out=False``, back into) one sale, until its vote closes."""
    require(SET_CONSENT, member)
    if proposal.kind != "sale":
        raise InvalidInput("only a sale can be opted out of")
    if proposal.status not in ("draft", "open") or (proposal.closes_utc and (now or utcnow()) >= proposal.closes_utc):
        raise Conflict("this sale's vote has closed: who it includes is fixed")
    key = (proposal.id, member.id)
    if out and session.get(SaleOptOut, key) is None:
        session.add(SaleOptOut(proposal_id=proposal.id, member_id=member.id))
    elif not out:
        session.execute(delete(SaleOptOut).where(SaleOptOut.proposal_id == proposal.id,
                                                 SaleOptOut.member_id == member.id))  # fmt: skip
    session.flush()
    audit.record(session, audit.ConsentChanged(member_id=member.id), now=now)


def opted_out(session: Session, member: Member, proposal: Proposal) -> bool:
    return session.get(SaleOptOut, (proposal.id, member.id)) is not None


def fix_inclusion(session: Session, proposal: Proposal, terms: SaleTerms) -> int:
    """At close: store who a passed sale includes (see the module docstring); how many."""
    included = eligible(session, proposal, terms)
    session.add_all([SaleInclusion(proposal_id=proposal.id, member_id=m) for m in included])
    session.flush()
    return len(included)


def eligible(session: Session, proposal: Proposal, terms: SaleTerms) -> list[str]:
    """Who a sale would include if its vote closed now: active members (not buyers), not opted out, whose
    standing consent allows it."""
    out = set(session.scalars(select(SaleOptOut.member_id).where(SaleOptOut.proposal_id == proposal.id)))
    rows = {c.member_id: c for c in session.scalars(select(Consent))}
    candidates = session.scalars(
        select(Member.id).where(Member.status == Status.ACTIVE, Member.role.in_([Role.MEMBER, Role.STEWARD]))
    )
    included = []
    for member_id in sorted(candidates):
        row = rows.get(member_id)
        prefs = Preferences() if row is None else Preferences(row.never_sell, row.aggregates_only,
                                                              tuple(row.excluded_purposes))  # fmt: skip
        if member_id not in out and prefs.allows(terms):
            included.append(member_id)
    return included


def included(session: Session, proposal: Proposal) -> list[str]:
    """The members a sale includes: fixed at close, less anyone withdrawn since."""
    query = (
        select(SaleInclusion.member_id)
        .join(Member, Member.id == SaleInclusion.member_id)
        .where(SaleInclusion.proposal_id == proposal.id, Member.status == Status.ACTIVE)
        .order_by(SaleInclusion.member_id)
    )
    return list(session.scalars(query))
