"""Erasure and money: what happens to a withdrawing member's balance, said before they confirm, and done when
their withdrawal is decided.

The rule (stated on the withdrawal page and in ``docs/ledger.md``): a balance is paid out only to payout details
the member gave, in a steward's batch; whatever is left when the member withdraws goes to the cooperative's fee
account in a ``forfeit`` transfer. Once the member is erased, their payout details are deleted and their account
keeps no owner: the ledger holds only its pseudonymous id, every posting stays, and the books still balance. A
payout line still in transit is settled as any other; if it fails, its money goes to the fee account too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tutti.coop.governance import policy
from tutti.coop.ledger import accounts
from tutti.coop.ledger.payout_files import major
from tutti.coop.ledger.transfers import Leg, book, post
from tutti.coop.models import Member, PayoutDetails, utcnow

FORFEIT = "forfeit"


def what_happens(session: Session, member: Member) -> str | None:
    """The sentence a withdrawing member reads about their balance; None when they have none."""
    balance = accounts.member_balance(session, member.id)
    currency = book(session)
    if balance <= 0 or currency is None:
        return None
    amount = f"{major(balance, currency.minor_units)} {currency.currency}"
    minimum = major(policy.current(session).payout_minimum_minor, currency.minor_units)
    return (
        f"You have {amount} on your balance. It is paid out only to the payout details you gave, when stewards "
        f"batch balances of at least {minimum} {currency.currency}: ask for a payout first. Whatever is left when "
        "you withdraw goes to the cooperative's fee account, recorded in the ledger under your account's "
        "pseudonymous id."
    )


def on_withdrawal(session: Session, member: Member, *, now: datetime | None = None) -> None:
    """Forfeit the balance to the fee account, delete the payout details, and unlink the member's account."""
    found = accounts.find(session, accounts.MEMBER, member.id)
    session.execute(delete(PayoutDetails).where(PayoutDetails.member_id == member.id))
    if found is None:
        return
    when = now or utcnow()
    balance = accounts.balance(session, found.id).net_credit
    if balance > 0:
        fee = accounts.account(session, accounts.FEE, now=when).id
        post(session, key=f"forfeit-{found.id}", kind=FORFEIT, legs=[Leg(found.id, fee, balance)], now=when)
    found.owner_id = None
    session.flush()
