"""A buyer's payment for a passed sale, and refunds of it: the fee taken, the rest shared, receipts issued.

``record_payment`` posts one transfer from the buyer's account: ``fee_basis_points`` of the amount (rounded down,
in the members' favour) to the cooperative's fee account, the rest to the included members by
``split.largest_remainder`` over ``split.split_basis``. A sale may be paid in parts, never beyond its price.
``record_refund`` reverses part or all of one payment in proportion to what each of its postings moved (the
same exact split, by those amounts), into the refunds account; when a member's balance no longer covers their
part (it was paid out), the database refuses the refund whole and nothing changes.
Both are idempotent by the caller's key: the same request again returns the first transfer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutti.coop.actions import RECORD_PAYMENT, require
from tutti.coop.db import lock_cooperative
from tutti.coop.errors import Conflict, InvalidInput, NotFound
from tutti.coop.governance import policy, proposals
from tutti.coop.governance.terms import SaleTerms, amount_text, terms_from
from tutti.coop.ledger import accounts, receipts, split
from tutti.coop.ledger.transfers import Leg, Posted, currency_code, fix_currency, legs_of, post
from tutti.coop.models import LedgerAccount, LedgerTransfer, Member, Proposal, utcnow

PAYMENT = "payment"
REFUND = "refund"
# A sale is paid for once executed (and only then: a sale whose buyer left expired instead).
PAYABLE = frozenset({proposals.EXECUTED})


@dataclass(frozen=True)
class Shares:
    """How a payment was divided: the fee, and each member's share by member id."""

    fee: int
    members: dict[str, int]


def divide(amount: int, fee_basis_points: int, weights: dict[str, int], salt: str) -> Shares:
    """The fee and the members' shares of ``amount`` (pure; see the module docstring). No members: all is fee."""
    fee = amount * fee_basis_points // 10_000 if weights else amount
    return Shares(fee, split.largest_remainder(amount - fee, weights, salt))


def _sale(session: Session, proposal_id: str) -> tuple[Proposal, SaleTerms]:
    proposal = proposals.get(session, proposal_id)
    terms = terms_from(proposal.terms)
    if proposal.kind != proposals.SALE or proposal.status not in PAYABLE or not isinstance(terms, SaleTerms):
        raise Conflict("only a passed, executed sale can be paid for")
    return proposal, terms


def paid(session: Session, proposal_id: str) -> int:
    """What the buyer has paid for a sale so far, less refunds."""

    def total(kind: str) -> int:
        query = select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(
            LedgerTransfer.proposal_id == proposal_id, LedgerTransfer.kind == kind
        )
        return int(session.scalar(query) or 0)

    return total(PAYMENT) - total(REFUND)


def _start(session: Session, actor: Member, key: str, kind: str, amount: int, ref: str) -> LedgerTransfer | None:
    """Check the request and take the lock; the transfer posted under ``key`` if this request is a replay of it
    (Conflict if the key meant another)."""
    require(RECORD_PAYMENT, actor)
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise InvalidInput("an amount must be a positive whole number of minor units")
    lock_cooperative(session)
    found = session.scalars(select(LedgerTransfer).where(LedgerTransfer.key == key)).one_or_none()
    if found is None:
        return None
    if (found.kind, found.amount, found.proposal_id if kind == PAYMENT else found.reverses) != (kind, amount, ref):
        raise Conflict(f"the transfer key {key!r} was used for another transfer: a replay must be identical")
    return found


def record_payment(
    session: Session, actor: Member, proposal_id: str, amount: int, key: str, *, now: datetime | None = None
) -> Posted:
    """Record that the buyer paid ``amount`` (minor units) for the sale ``proposal_id``; see the module docstring."""
    if (found := _start(session, actor, key, PAYMENT, amount, proposal_id)) is not None:
        return Posted(found, replayed=True)
    when = now or utcnow()
    proposal, terms = _sale(session, proposal_id)
    book = fix_currency(session, terms.currency, now=when)
    if amount > terms.price_minor - paid(session, proposal_id):
        outstanding = terms.price_minor - paid(session, proposal_id)
        left, asked = amount_text(outstanding, book.currency), amount_text(amount, book.currency)
        raise Conflict(f"the sale's price leaves {left} to pay, not {asked}")
    weights = split.split_basis(session, proposal_id)
    shares = divide(amount, policy.current(session).fee_basis_points, weights, key)
    buyer = accounts.account(session, accounts.BUYER, terms.buyer_id, now=when).id
    legs = [Leg(buyer, accounts.account(session, accounts.FEE, now=when).id, shares.fee)] if shares.fee else []
    member_accounts = accounts.of_members(session, sorted(shares.members), now=when)
    legs += [Leg(buyer, member_accounts[m], s) for m, s in sorted(shares.members.items()) if s]
    posted = post(session, key=key, kind=PAYMENT, legs=legs, proposal_id=proposal.id, now=when)
    receipts.issue(session, posted.transfer, proposal, set(weights), weights, shares.members, shares.fee, now=when)
    return posted


def record_refund(
    session: Session, actor: Member, payment_id: str, amount: int, key: str, *, now: datetime | None = None
) -> Posted:
    """Refund ``amount`` of the payment ``payment_id`` to its buyer, reversing it in proportion."""
    if (found := _start(session, actor, key, REFUND, amount, payment_id)) is not None:
        return Posted(found, replayed=True)
    when = now or utcnow()
    payment = session.get(LedgerTransfer, payment_id)
    if payment is None or payment.kind != PAYMENT or payment.proposal_id is None:
        raise NotFound("no such payment")
    refunded = session.scalar(
        select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(
            LedgerTransfer.kind == REFUND, LedgerTransfer.reverses == payment.id
        )
    )
    if amount > payment.amount - int(refunded or 0):
        left = amount_text(payment.amount - int(refunded or 0), currency_code(session))
        raise Conflict(f"the payment has {left} left to refund")
    moved = {leg.credit: leg.amount for leg in legs_of(session, payment.id)}
    back = split.largest_remainder(amount, moved, key)
    sink = accounts.account(session, accounts.REFUNDS, now=when).id
    legs = [Leg(account_id, sink, part) for account_id, part in sorted(back.items()) if part]
    posted = post(session, key=key, kind=REFUND, legs=legs, proposal_id=payment.proposal_id, reverses=payment.id,
                  now=when)  # fmt: skip
    proposal = proposals.get(session, payment.proposal_id)
    owners = dict(
        session.execute(select(LedgerAccount.id, LedgerAccount.owner_id).where(LedgerAccount.id.in_(back))).all()
    )
    members = {owner: -part for a, part in back.items() if (owner := owners.get(a)) is not None}
    # Each receipt's weight is what the payment gave that member, of all it gave (the fee's part included).
    weights = {owner: moved[a] for a in back if (owner := owners.get(a)) is not None}
    included = set(split.split_basis(session, proposal.id)) | set(weights)
    receipts.issue(session, posted.transfer, proposal, included, weights, members, -back.get(accounts.FEE, 0),
                   now=when, basis="payment", total_weight=payment.amount)  # fmt: skip
    return posted


def sale_currency(session: Session, proposal_id: str) -> str:
    """The currency a passed sale is paid in (Conflict for anything but a passed, executed sale)."""
    return _sale(session, proposal_id)[1].currency


def ledger_currency(session: Session) -> str:
    """The ledger's currency; NotFound before the first payment fixed it."""
    if not (code := currency_code(session)):
        raise NotFound("nothing has been paid yet")
    return code
