"""Secret ballots that anyone can recount.

What is stored, and why nothing links a ballot to its voter:

* ``voter_roll``: one row per proposal, the ids of the members who voted, sorted; it says *that* they voted
  (so they cannot vote twice), not when nor in which order.
* ``ballot_box``: one row per proposal holding every ballot as ``[tracking code, SHA-256 of the receipt's secret,
  choice, weight]``, sorted by tracking code (random), rewritten whole on each vote. No ballot has a row, id, time
  or position of its own, so no column, key, row order or timestamp of the tables joins it to a voter. The audit
  log records no vote, and nothing here logs one.
* The voter gets a receipt: the tracking code and a secret (given once, stored only hashed). With both, the
  ballot's choice can be changed until the vote closes; it is the same ballot, counted once.

At close the hashes are dropped, the box is marked published, and ``scrub`` pushes the old versions of both rows
out of the database's side files: SQLite's WAL is checkpointed and truncated (connections run with
``secure_delete``, which zeroes freed bytes), PostgreSQL's tables are rewritten by ``VACUUM FULL`` (no dead
tuples left). What remains possible while the vote is open (the operator sees each request; the database's
history holds the order of writes until the scrub) is written in docs/governance.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from tutti.coop import db
from tutti.coop.actions import CAST_VOTE, require
from tutti.coop.errors import Conflict, InvalidInput, NotAllowed, NotFound
from tutti.coop.governance.rules import CHOICES, Ballot
from tutti.coop.models import BallotBox, Elector, Member, Proposal, VoterRoll, utcnow

# 80 bits, in groups a person can read out: XXXX-XXXX-XXXX-XXXX (Crockford's base32 letters).
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
SCRUBBED_TABLES = ("ballot_box", "voter_roll")


@dataclass(frozen=True)
class Receipt:
    """What the voter keeps: the tracking code finds their ballot once published, the secret changes it until
    close. The cooperative keeps neither in plain, nor who holds them."""

    proposal_id: str
    tracking_code: str
    secret: str
    choice: str


def new_tracking_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(session: Session, proposal: Proposal) -> None:
    """The empty roll and box of a proposal whose vote opens (in the opening transaction)."""
    session.add(VoterRoll(proposal_id=proposal.id, voted=[]))
    session.add(BallotBox(proposal_id=proposal.id, ballots=[], published=False))
    session.flush()


def _locked_box(session: Session, proposal_id: str) -> tuple[BallotBox, VoterRoll]:
    # A write first: it takes the box's row lock (PostgreSQL) or the database's write lock (SQLite) before
    # anything is read, so concurrent votes rewrite the box one after another and none is lost.
    session.execute(
        update(BallotBox).where(BallotBox.proposal_id == proposal_id).values(published=BallotBox.published),
        execution_options={"synchronize_session": False},
    )
    box = session.get(BallotBox, proposal_id, populate_existing=True)
    roll = session.get(VoterRoll, proposal_id, populate_existing=True)
    if box is None or roll is None:
        raise Conflict("this proposal's vote is not open")
    return box, roll


def _open_box(session: Session, proposal: Proposal, when: datetime) -> tuple[BallotBox, VoterRoll]:
    """The locked box and roll of a vote still open at ``when``; a vote that closed while this request waited
    for the lock (its box published meanwhile) refuses too."""
    box, roll = _locked_box(session, proposal.id)
    _check_open(proposal, when)
    if box.published:
        raise Conflict("the vote has closed")
    return box, roll


def _check_open(proposal: Proposal, when: datetime) -> None:
    if proposal.status != "open" or proposal.closes_utc is None:
        raise Conflict("this proposal's vote is not open")
    if when >= proposal.closes_utc:
        raise Conflict("the vote has closed")


def _check_choice(choice: str) -> None:
    if choice not in CHOICES:
        raise InvalidInput(f"the choice must be one of {', '.join(CHOICES)}")


def _elector(session: Session, proposal: Proposal, member: Member) -> Elector:
    require(CAST_VOTE, member)
    elector = session.get(Elector, (proposal.id, member.id))
    if elector is None:
        raise NotAllowed("only the members active when the vote opened may vote on it")
    return elector


def cast(session: Session, member: Member, proposal: Proposal, choice: str, *, now: datetime | None = None) -> Receipt:
    """Cast ``member``'s ballot; their receipt. Conflict if they voted already (they change it with the receipt)."""
    _check_choice(choice)
    when = now or utcnow()
    elector = _elector(session, proposal, member)
    box, roll = _open_box(session, proposal, when)
    if member.id in roll.voted:
        raise Conflict("you have voted on this proposal already: change your ballot with your receipt")
    receipt = Receipt(proposal.id, new_tracking_code(), secrets.token_urlsafe(24), choice)
    box.ballots = sorted([*box.ballots, [receipt.tracking_code, _digest(receipt.secret), choice, elector.weight]])
    roll.voted = sorted([*roll.voted, member.id])
    session.flush()
    return receipt


def change(
    session: Session,
    member: Member,
    proposal: Proposal,
    tracking_code: str,
    secret: str,
    choice: str,
    *,
    now: datetime | None = None,
) -> Receipt:
    """Change the choice of the ballot ``tracking_code`` with its receipt's ``secret``, until the vote closes."""
    _check_choice(choice)
    when = now or utcnow()
    _elector(session, proposal, member)
    box, _roll = _open_box(session, proposal, when)
    code = tracking_code.strip().upper()
    for index, (stored_code, digest, _choice, weight) in enumerate(box.ballots):
        if stored_code == code:
            if not hmac.compare_digest(digest, _digest(secret)):
                raise NotAllowed("that is not this ballot's secret: check the receipt")
            ballots = list(box.ballots)
            ballots[index] = [stored_code, digest, choice, weight]
            box.ballots = ballots
            session.flush()
            return Receipt(proposal.id, code, secret, choice)
    raise NotFound("no ballot has that tracking code in this vote")


def hold(session: Session, proposal: Proposal) -> None:
    """Take the box's lock for the rest of the caller's transaction (the close takes it before reading the
    proposal's state, so a vote and a close, or two closes, happen one after the other)."""
    _locked_box(session, proposal.id)


def publish(session: Session, proposal: Proposal) -> list[Ballot]:
    """At close: the ballots, their secrets' hashes dropped and the box marked published; in the closing
    transaction, after which ``scrub`` runs. Publishing twice changes nothing."""
    box, _roll = _locked_box(session, proposal.id)
    if box.published:
        return [Ballot(code, choice, weight) for code, choice, weight in box.ballots]
    ballots = [Ballot(code, choice, weight) for code, _digest, choice, weight in box.ballots]
    box.ballots = [[b.tracking_code, b.choice, b.weight] for b in ballots]
    box.published = True
    session.flush()
    return ballots


def published(session: Session, proposal: Proposal) -> list[Ballot]:
    """Every ballot of a closed vote, sorted by tracking code; Conflict while the vote is secret."""
    box = session.get(BallotBox, proposal.id)
    if box is None or not box.published:
        raise Conflict("ballots are secret until the vote closes")
    return [Ballot(code, choice, weight) for code, choice, weight in box.ballots]


def has_voted(session: Session, proposal: Proposal, member: Member) -> bool:
    roll = session.get(VoterRoll, proposal.id)
    return roll is not None and member.id in roll.voted


def voters(session: Session, proposal: Proposal) -> int:
    roll = session.get(VoterRoll, proposal.id)
    return 0 if roll is None else len(roll.voted)


def digest(ballots: list[Ballot]) -> str:
    """SHA-256 of the published list (sorted, canonical JSON): the log's ``proposal-closed`` event carries it."""
    rows = sorted([b.tracking_code, b.choice, b.weight] for b in ballots)
    return hashlib.sha256(orjson.dumps(rows)).hexdigest()


def scrub(engine: Engine) -> bool:
    """Push the old versions of rolls and boxes out of the database (see the module); False when SQLite could not
    checkpoint everything (a reader held on), to be retried."""
    return db.scrub(engine, SCRUBBED_TABLES, full=True)
