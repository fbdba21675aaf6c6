"""The ledger's accounts: one per buyer, one per member, and the cooperative's own (fee, payouts in transit,
payouts paid, refunds).

Account ids are random (``acct-`` and 16 random bytes), never derived from a member, so an erased member's
account is pseudonymous once its ``owner_id`` is cleared. Member, fee and in-transit accounts are credit-normal
and carry ``no_overdraft``: the database refuses any posting that would take them below zero.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from tutti.coop.models import LedgerAccount, utcnow

BUYER = "buyer"
MEMBER = "member"
FEE = "fee"
IN_TRANSIT = "in-transit"
PAID_OUT = "paid-out"
REFUNDS = "refunds"
# What each kind holds, for the docs and the accountant's export.
KINDS: dict[str, str] = {
    BUYER: "what one buyer paid (debits) for sales",
    MEMBER: "what the cooperative owes one member: shares in, payouts out",
    FEE: "the cooperative's fee on every payment",
    IN_TRANSIT: "payouts sent to a payment rail, not yet confirmed paid or failed",
    PAID_OUT: "payouts confirmed paid",
    REFUNDS: "money returned to buyers",
}
NO_OVERDRAFT = frozenset({MEMBER, FEE, IN_TRANSIT})
SYSTEM = (FEE, IN_TRANSIT, PAID_OUT, REFUNDS)


def _new_account_id() -> str:
    return f"acct-{secrets.token_hex(16)}"


def account(session: Session, kind: str, owner_id: str | None = None, *, now: datetime | None = None) -> LedgerAccount:
    """The account of ``kind`` (for ``owner_id`` when a buyer's or member's), made on first use."""
    if kind in SYSTEM:
        found = session.get(LedgerAccount, kind)
        if found is None:
            found = LedgerAccount(id=kind, kind=kind, owner_id=None, no_overdraft=kind in NO_OVERDRAFT,
                                  debits_posted=0, credits_posted=0, created_utc=now or utcnow())  # fmt: skip
            session.add(found)
            session.flush()
        return found
    assert owner_id is not None, f"a {kind} account belongs to someone"
    found = session.scalars(
        select(LedgerAccount).where(LedgerAccount.kind == kind, LedgerAccount.owner_id == owner_id)
    ).one_or_none()
    if found is None:
        found = LedgerAccount(id=_new_account_id(), kind=kind, owner_id=owner_id, no_overdraft=kind in NO_OVERDRAFT,
                              debits_posted=0, credits_posted=0, created_utc=now or utcnow())  # fmt: skip
        session.add(found)
        session.flush()
    return found


def find(session: Session, kind: str, owner_id: str) -> LedgerAccount | None:
    return session.scalars(
        select(LedgerAccount).where(LedgerAccount.kind == kind, LedgerAccount.owner_id == owner_id)
    ).one_or_none()


@dataclass(frozen=True)
class Balance:
    account_id: str
    kind: str
    debits: int
    credits: int

    @property
    def net_credit(self) -> int:
        """Credits less debits: what a credit-normal account (a member's, the fee) holds."""
        return self.credits - self.debits


def balance(session: Session, account_id: str) -> Balance:
    # Columns, not the mapped row: the totals are written by the database's trigger, behind the session's back.
    row = session.execute(
        select(LedgerAccount.kind, LedgerAccount.debits_posted, LedgerAccount.credits_posted).where(
            LedgerAccount.id == account_id
        )
    ).one()
    return Balance(account_id, row.kind, row.debits_posted, row.credits_posted)


def member_balance(session: Session, member_id: str) -> int:
    """What the cooperative owes a member now, in minor units (0 without an account)."""
    found = find(session, MEMBER, member_id)
    return 0 if found is None else balance(session, found.id).net_credit


def of_members(session: Session, member_ids: list[str], *, now: datetime | None = None) -> dict[str, str]:
    """{member id: account id} for every member given, their accounts made (at once) where missing."""
    found = dict(
        session.execute(
            select(LedgerAccount.owner_id, LedgerAccount.id).where(
                LedgerAccount.kind == MEMBER, LedgerAccount.owner_id.is_not(None)
            )
        ).all()
    )
    missing = [m for m in member_ids if m not in found]
    if missing:
        when = now or utcnow()
        made = {m: _new_account_id() for m in missing}
        session.execute(
            insert(LedgerAccount),
            [{"id": a, "kind": MEMBER, "owner_id": m, "no_overdraft": True, "debits_posted": 0, "credits_posted": 0,
              "created_utc": when} for m, a in made.items()],
        )  # fmt: skip
        found.update(made)
    return {m: str(found[m]) for m in member_ids}
