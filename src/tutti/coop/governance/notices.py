"""Members are told about votes by email, as they chose (``consent.EMAILS``): when a vote opens, a day before it
closes (only those who have not voted), and its result. Sent through the cooperative's outbox (``mail.send``: SMTP
when configured, else a file per message), by the ``send-vote-notices`` job. The dashboard shows the same
(``dashboard``), whatever the member chose for email.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop import mail
from tutti.coop.governance import ballots, consent, proposals
from tutti.coop.members import emails
from tutti.coop.models import Elector, Member, Proposal, Status
from tutti.coop.settings import CoopSettings

SUBJECTS = {
    "opened": "Vote open: {title}",
    "closing": "A day left to vote: {title}",
    "result": "Vote result: {title}",
}


def _body(proposal: Proposal, kind: str, site: str) -> str:
    link = f"{site.rstrip('/')}/proposals/{proposal.id}"
    if kind == "result":
        tally = proposal.tally or {}
        return (
            f'The vote on "{proposal.title}" closed: {proposal.outcome}.\n'
            f"Yes {tally.get('yes', 0)}, no {tally.get('no', 0)}, abstain {tally.get('abstain', 0)}, "
            f"{tally.get('ballots', 0)} ballots of {proposal.electorate_size} members.\n\n"
            f"Every ballot is published: find yours by its tracking code at {link}, "
            "or recount them all with `tutti coop proposals recount`.\n"
        )
    closes = f"{proposal.closes_utc:%d %b %Y %H:%M} UTC" if proposal.closes_utc else "soon"
    lead = "A vote is open" if kind == "opened" else "You have not voted yet"
    return (
        f'{lead}: "{proposal.title}". It closes {closes}.\n'
        f"Read it and vote at {link}. Your ballot is secret; keep your receipt to change it "
        "until the vote closes, and to find it once ballots are published.\n"
    )


def send(session: Session, settings: CoopSettings, proposal_id: str, kind: str, *, site: str = "") -> int:
    """Send ``kind``'s email about a proposal to the electors who chose it; how many were sent."""
    proposal = proposals.get(session, proposal_id)
    query = select(Member).join(Elector, Elector.member_id == Member.id).where(Elector.proposal_id == proposal.id)
    sent = 0
    for member in session.scalars(query.where(Member.status == Status.ACTIVE).order_by(Member.id)):
        if kind not in consent.preferences(session, member).emails:
            continue
        if kind == "closing" and (proposal.status != proposals.OPEN or ballots.has_voted(session, proposal, member)):
            continue
        address = emails.email_of(session, settings, member)
        if address is None:
            continue
        subject = SUBJECTS[kind].format(title=proposal.title)
        mail.send(settings, mail.message(settings, address, subject, _body(proposal, kind, site)), about=member.id)
        sent += 1
    return sent
