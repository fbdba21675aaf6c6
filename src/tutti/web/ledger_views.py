"""The ledger's records as the API and the pages show them (``ledger_schemas``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy.orm import Session

from tutti.coop.governance import policy
from tutti.coop.governance.terms import amount_text
from tutti.coop.ledger import accounts, payouts, receipts, statements
from tutti.coop.ledger.transfers import book, currency_code
from tutti.coop.models import Member, PayoutBatch
from tutti.coop.settings import CoopSettings
from tutti.web.ledger_schemas import (
    BatchPublic,
    EarningsPublic,
    MovementPublic,
    PayoutDetailsPublic,
    PayoutLinePublic,
    ReceivablePublic,
    ShareReceiptPublic,
    StatementPublic,
)


def earnings(db: Session, settings: CoopSettings, member: Member) -> EarningsPublic:
    currency = book(db)
    details = payouts.details_of(db, settings, member.id)
    mine = []
    for row in receipts.of_member(db, member.id):
        body = receipts.body_of(row)
        mine.append(
            ShareReceiptPublic(
                receipt_id=row.id,
                sale_id=body["proposal_id"],
                sale=body["sale"],
                transfer_kind=body["transfer_kind"],
                reason=body["reason"],
                weight=body["weight"],
                total_weight=body["total_weight"],
                share_minor=body["share"],
                issued_utc=body["issued_utc"],
            )
        )
    return EarningsPublic(
        currency=currency.currency if currency else None,
        minor_units=currency.minor_units if currency else 2,
        balance_minor=accounts.member_balance(db, member.id),
        payout_minimum_minor=policy.current(db).payout_minimum_minor,
        movements=movements_public(statements.history(db, member.id)),
        receipts=mine,
        payout_details=None
        if details is None
        else PayoutDetailsPublic(method=details.method, name=details.name, masked=details.masked),  # type: ignore[arg-type]
    )


def movements_public(moves: Iterable[statements.Movement]) -> list[MovementPublic]:
    return [
        MovementPublic(
            posted_utc=m.posted_utc,
            transfer_id=m.transfer_id,
            kind=m.kind,
            sale_id=m.proposal_id,
            amount_minor=m.amount,
        )
        for m in moves
    ]


def statement_public(found: statements.Statement) -> StatementPublic:
    return StatementPublic(
        year=found.year, currency=found.currency, minor_units=found.minor_units, opening_minor=found.opening,
        earned_minor=found.earned, paid_out_minor=found.paid_out, other_minor=found.other,
        closing_minor=found.closing, movements=movements_public(found.movements),
    )  # fmt: skip


def batch_public(db: Session, batch: PayoutBatch) -> BatchPublic:
    return BatchPublic(
        batch_id=batch.id,
        method=batch.method,  # type: ignore[arg-type]
        status=batch.status,  # type: ignore[arg-type]
        created_utc=batch.created_utc,
        lines=[
            PayoutLinePublic(line_id=line.id, amount_minor=line.amount, status=line.status)  # type: ignore[arg-type]
            for line in payouts.lines_of(db, batch.id)
        ],
    )


def receivables(db: Session) -> list[ReceivablePublic]:
    return [
        ReceivablePublic(
            sale_id=r.proposal_id,
            title=r.title,
            price_minor=r.price,
            paid_minor=r.paid,
            outstanding_minor=r.outstanding,
            currency=r.currency,
        )
        for r in statements.receivables(db)
    ]


def money_of(db: Session) -> Callable[[int], str]:
    """How the pages write an amount of minor units: in major units of the ledger's currency (``1,234.50 EUR``)."""
    code = currency_code(db)

    def money(amount: int) -> str:
        return amount_text(amount, code)

    return money
