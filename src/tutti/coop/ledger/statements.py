"""What the ledger shows: a member's history and yearly statement, the stewards' receivables, and the
accountant's export of every posting.

All of it is read from the postings, never from a second record of the same money, so every figure traces back
to the transfers behind it. The accountant's CSV names accounts by their pseudonymous ids and kinds only.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from tutti.coop.errors import InvalidInput
from tutti.coop.governance.terms import SaleTerms, terms_from
from tutti.coop.ledger import accounts
from tutti.coop.ledger.payments import PAYABLE
from tutti.coop.ledger.payout_files import major
from tutti.coop.ledger.transfers import book
from tutti.coop.models import LedgerAccount, LedgerPosting, LedgerTransfer, Proposal

EXPORT_COLUMNS = (
    "posted_utc", "transfer_id", "transfer_kind", "sale_id", "batch_id", "reverses", "debit_account",
    "debit_kind", "credit_account", "credit_kind", "amount_minor", "amount", "currency",
)  # fmt: skip


@dataclass(frozen=True)
class Movement:
    """One change of a member's balance: when, what kind, the sale, and the signed amount (in, or out)."""

    posted_utc: datetime
    transfer_id: str
    kind: str
    proposal_id: str | None
    amount: int


def history(session: Session, member_id: str) -> list[Movement]:
    """Every movement of a member's balance, newest first."""
    found = accounts.find(session, accounts.MEMBER, member_id)
    if found is None:
        return []
    rows = session.execute(
        select(LedgerTransfer, LedgerPosting)
        .join(LedgerPosting, LedgerPosting.transfer_id == LedgerTransfer.id)
        .where(or_(LedgerPosting.debit_account_id == found.id, LedgerPosting.credit_account_id == found.id))
        .order_by(LedgerTransfer.created_utc.desc(), LedgerPosting.id.desc())
    ).all()
    return [
        Movement(t.created_utc, t.id, t.kind, t.proposal_id, p.amount if p.credit_account_id == found.id else -p.amount)
        for t, p in rows
    ]


@dataclass(frozen=True)
class Statement:
    """A member's year: the balance on 1 January, what came in and went out, and the balance on 31 December."""

    year: int
    currency: str
    minor_units: int
    opening: int
    earned: int
    paid_out: int
    other: int
    closing: int
    movements: tuple[Movement, ...]


def statement(session: Session, member_id: str, year: int) -> Statement:
    """The year's statement (UTC calendar year) for a member's taxes."""
    if not 1 <= year < 9999:
        raise InvalidInput("a statement is of a calendar year from 1 to 9998")
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    moves = history(session, member_id)
    inside = [m for m in moves if start <= m.posted_utc < end]
    opening = sum(m.amount for m in moves if m.posted_utc < start)
    earned = sum(m.amount for m in inside if m.kind in ("payment", "refund"))
    paid_out = sum(m.amount for m in inside if m.kind.startswith("payout"))
    other = sum(m.amount for m in inside) - earned - paid_out
    currency = book(session)
    code, digits = (currency.currency, currency.minor_units) if currency else ("", 2)
    return Statement(year, code, digits, opening, earned, -paid_out, other, opening + sum(m.amount for m in inside),
                     tuple(reversed(inside)))  # fmt: skip


def statement_csv(found: Statement) -> bytes:
    """The statement as CSV: a summary, then one row per movement."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["year", "currency", "opening", "earned", "paid_out", "other", "closing"])
    writer.writerow([found.year, found.currency, *(major(v, found.minor_units) if v >= 0 else
                     "-" + major(-v, found.minor_units) for v in (found.opening, found.earned, found.paid_out,
                                                              found.other, found.closing))])  # fmt: skip
    writer.writerow([])
    writer.writerow(["posted_utc", "transfer_id", "kind", "sale_id", "amount_minor"])
    for m in found.movements:
        writer.writerow(
            [m.posted_utc.isoformat(timespec="seconds"), m.transfer_id, m.kind, m.proposal_id or "", m.amount]
        )
    return out.getvalue().encode()


def ledger_csv(session: Session) -> bytes:
    """Every posting, oldest first, with ``EXPORT_COLUMNS``: the accountant's export."""
    debit, credit = aliased(LedgerAccount), aliased(LedgerAccount)
    currency = book(session)
    code, digits = (currency.currency, currency.minor_units) if currency else ("", 2)
    rows = session.execute(
        select(LedgerTransfer, LedgerPosting, debit.kind, credit.kind)
        .join(LedgerPosting, LedgerPosting.transfer_id == LedgerTransfer.id)
        .join(debit, debit.id == LedgerPosting.debit_account_id)
        .join(credit, credit.id == LedgerPosting.credit_account_id)
        .order_by(LedgerTransfer.created_utc, LedgerPosting.id)
    ).all()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for t, p, debit_kind, credit_kind in rows:
        writer.writerow([t.created_utc.isoformat(timespec="seconds"), t.id, t.kind, t.proposal_id or "",
                         t.batch_id or "", t.reverses or "", p.debit_account_id, debit_kind, p.credit_account_id,
                         credit_kind, p.amount, major(p.amount, digits), code])  # fmt: skip
    return out.getvalue().encode()


@dataclass(frozen=True)
class Receivable:
    """A passed sale and what its buyer still owes."""

    proposal_id: str
    title: str
    price: int
    paid: int
    currency: str

    @property
    def outstanding(self) -> int:
        return self.price - self.paid


def _totals_by_sale(session: Session, kind: str) -> dict[str, int]:
    query = select(LedgerTransfer.proposal_id, func.sum(LedgerTransfer.amount)).where(LedgerTransfer.kind == kind)
    rows = session.execute(query.group_by(LedgerTransfer.proposal_id))
    return {sale: int(total or 0) for sale, total in rows if sale is not None}


def receivables(session: Session) -> list[Receivable]:
    """Every executed sale with its price and what was paid (less refunds), oldest first."""
    paid, refunded = _totals_by_sale(session, "payment"), _totals_by_sale(session, "refund")
    found = []
    for proposal in session.scalars(
        select(Proposal).where(Proposal.kind == "sale", Proposal.status.in_(PAYABLE)).order_by(Proposal.closed_utc)
    ):
        terms = terms_from(proposal.terms)
        assert isinstance(terms, SaleTerms)
        found.append(Receivable(proposal.id, proposal.title, terms.price_minor,
                                paid.get(proposal.id, 0) - refunded.get(proposal.id, 0), terms.currency))  # fmt: skip
    return found


@dataclass(frozen=True)
class PaymentRow:
    """A buyer's payment and how much of it was refunded."""

    transfer_id: str
    proposal_id: str | None
    posted_utc: datetime
    amount: int
    refunded: int


def payments_made(session: Session) -> list[PaymentRow]:
    """Every payment, newest first, with what was refunded of it."""
    refunded = dict(
        session.execute(
            select(LedgerTransfer.reverses, func.sum(LedgerTransfer.amount))
            .where(LedgerTransfer.kind == "refund")
            .group_by(LedgerTransfer.reverses)
        ).all()
    )
    query = select(LedgerTransfer).where(LedgerTransfer.kind == "payment").order_by(LedgerTransfer.created_utc.desc())
    return [
        PaymentRow(t.id, t.proposal_id, t.created_utc, t.amount, int(refunded.get(t.id, 0) or 0))
        for t in session.scalars(query)
    ]
