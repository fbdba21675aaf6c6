"""Posting transfers: idempotent by a client key, balanced by construction, immutable, serial, audited.

A transfer is a set of postings, each moving a positive ``amount`` from one account (debited) to another
(credited), as TigerBeetle's transfers do; a multi-leg operation (a payment split into a fee and shares) is one
transfer of several postings, applied all or nothing. Because every posting debits and credits the same amount,
the books balance whatever is written; the database keeps the accounts' totals (a trigger) and refuses an
overdraft (a CHECK) or any change to a posted row (triggers).

``post`` with a key already used returns the transfer posted then, unchanged, when the content is the same (a
retry after a lost answer) and refuses it (``Conflict``) when the content differs. Transfers are applied one at
a time under the cooperative's lock, which also orders the audit log they are recorded in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import orjson
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tutti.coop import audit
from tutti.coop.db import lock_cooperative
from tutti.coop.errors import Conflict, InvalidInput
from tutti.coop.governance.terms import CURRENCIES
from tutti.coop.models import LedgerAccount, LedgerBook, LedgerPosting, LedgerTransfer, utcnow

MAX_KEY = 200
MAX_AMOUNT = 10**15


@dataclass(frozen=True)
class Leg:
    """``amount`` minor units from account ``debit`` to account ``credit``."""

    debit: str
    credit: str
    amount: int


@dataclass(frozen=True)
class Posted:
    transfer: LedgerTransfer
    replayed: bool


def book(session: Session) -> LedgerBook | None:
    return session.get(LedgerBook, 1)


def currency_code(session: Session) -> str:
    """The ledger's currency, or "" before the first payment fixes it."""
    found = book(session)
    return found.currency if found is not None else ""


def fix_currency(session: Session, currency: str, *, now: datetime | None = None) -> LedgerBook:
    """The ledger's currency: fixed by the first payment, refused when another is given later."""
    if currency not in CURRENCIES:
        raise InvalidInput(f"currency must be an ISO 4217 code the cooperative accepts: {', '.join(CURRENCIES)}")
    found = book(session)
    if found is None:
        found = LedgerBook(id=1, currency=currency, minor_units=CURRENCIES[currency], created_utc=now or utcnow())
        session.add(found)
        session.flush()
    elif found.currency != currency:
        raise Conflict(f"the ledger keeps {found.currency}; a payment in {currency} cannot be posted to it")
    return found


def _check(key: str, legs: Sequence[Leg]) -> None:
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY:
        raise InvalidInput(f"a transfer needs a key of 1 to {MAX_KEY} characters")
    if not legs:
        raise InvalidInput("a transfer moves money: it needs at least one posting")
    for leg in legs:
        if isinstance(leg.amount, bool) or not isinstance(leg.amount, int) or not 0 < leg.amount <= MAX_AMOUNT:
            raise InvalidInput(f"an amount must be a whole number of minor units from 1 to {MAX_AMOUNT:,}")
        if leg.debit == leg.credit:
            raise InvalidInput("a posting moves money between two different accounts")


def digest(kind: str, legs: Sequence[Leg], **refs: str | None) -> str:
    """The SHA-256 of what a transfer does: a replay under the same key must have the same."""
    body = {"kind": kind, "legs": [[leg.debit, leg.credit, leg.amount] for leg in legs], **refs}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


def post(
    session: Session,
    *,
    key: str,
    kind: str,
    legs: Sequence[Leg],
    proposal_id: str | None = None,
    batch_id: str | None = None,
    reverses: str | None = None,
    now: datetime | None = None,
) -> Posted:
    """Post a transfer of ``legs`` under ``key`` in the caller's transaction (see the module docstring)."""
    _check(key, legs)
    content = digest(kind, legs, proposal_id=proposal_id, batch_id=batch_id, reverses=reverses)
    lock_cooperative(session)
    existing = session.scalars(select(LedgerTransfer).where(LedgerTransfer.key == key)).one_or_none()
    if existing is not None:
        if existing.digest != content:
            raise Conflict(f"the transfer key {key!r} was used for another transfer: a replay must be identical")
        return Posted(existing, replayed=True)
    when = now or utcnow()
    currency = book(session)
    if currency is None:
        raise Conflict("the ledger has no currency yet: a payment fixes it")
    transfer = LedgerTransfer(
        key=key,
        kind=kind,
        digest=content,
        amount=sum(leg.amount for leg in legs),
        proposal_id=proposal_id,
        batch_id=batch_id,
        reverses=reverses,
        created_utc=when,
    )
    try:
        with session.begin_nested():
            session.add(transfer)
            session.flush()
            # One multi-row INSERT (the database's triggers still see each row): a payment has a posting per member.
            session.execute(
                insert(LedgerPosting),
                [{"transfer_id": transfer.id, "debit_account_id": leg.debit, "credit_account_id": leg.credit,
                  "amount": leg.amount} for leg in legs],
            )  # fmt: skip
    except IntegrityError:
        raise Conflict(f"the {kind} transfer would take an account below zero: nothing was posted") from None
    audit.record(
        session,
        audit.LedgerTransferPosted(
            transfer_id=transfer.id,
            transfer_kind=kind,
            amount=transfer.amount,
            currency=currency.currency,
            postings=len(legs),
            proposal_id=proposal_id,
        ),
        now=when,
    )
    return Posted(transfer, replayed=False)


def legs_of(session: Session, transfer_id: str) -> list[Leg]:
    rows = session.scalars(
        select(LedgerPosting).where(LedgerPosting.transfer_id == transfer_id).order_by(LedgerPosting.id)
    )
    return [Leg(row.debit_account_id, row.credit_account_id, row.amount) for row in rows]


@dataclass(frozen=True)
class BooksCheck:
    """The ledger checked against its postings: every finding is a sentence; none means the books are right."""

    accounts: int
    postings: int
    total_debits: int
    total_credits: int
    findings: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.findings


def check_books(session: Session) -> BooksCheck:
    """Recompute every account's totals from the postings and compare them with what the database keeps."""
    debits = dict(
        session.execute(
            select(LedgerPosting.debit_account_id, func.sum(LedgerPosting.amount)).group_by(
                LedgerPosting.debit_account_id
            )
        ).all()
    )
    credits = dict(
        session.execute(
            select(LedgerPosting.credit_account_id, func.sum(LedgerPosting.amount)).group_by(
                LedgerPosting.credit_account_id
            )
        ).all()
    )
    findings: list[str] = []
    total_debits = total_credits = count = 0
    for row in session.execute(
        select(LedgerAccount.id, LedgerAccount.no_overdraft, LedgerAccount.debits_posted, LedgerAccount.credits_posted)
    ):
        count += 1
        total_debits += row.debits_posted
        total_credits += row.credits_posted
        if (row.debits_posted, row.credits_posted) != (int(debits.get(row.id, 0)), int(credits.get(row.id, 0))):
            findings.append(f"account {row.id}'s totals are not the sums of its postings")
        if row.no_overdraft and row.debits_posted > row.credits_posted:
            findings.append(f"account {row.id} is overdrawn")
    if total_debits != total_credits:
        findings.append(f"debits ({total_debits}) and credits ({total_credits}) differ")
    postings = int(session.scalar(select(func.count()).select_from(LedgerPosting)) or 0)
    return BooksCheck(count, postings, total_debits, total_credits, tuple(findings))
