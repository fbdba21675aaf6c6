"""The money's pages and API: a member's earnings, receipts, payout details and yearly statement; the stewards'
finance page (receivables, payments, payout batches and their files, failures) and the accountant's export.

Every route is a few lines over ``tutti.coop.ledger``; what a form records is idempotent by a key the form carries
(made when the page was drawn), so a form sent twice records once.
"""

from __future__ import annotations

import secrets
from typing import Annotated

import orjson
from fastapi import APIRouter, Form, Path, Request, status
from fastapi.responses import HTMLResponse
from starlette.responses import Response

from tutti.coop.governance.terms import amount_field, amount_text, parse_price
from tutti.coop.ledger import payments, payouts, receipts, statements
from tutti.coop.ledger.transfers import Posted, currency_code
from tutti.coop.models import Member, PayoutBatch, utcnow
from tutti.web import ledger_views
from tutti.web.deps import ActingMember, ActingSteward, CurrentMember, Db, PageContext, Settings, Steward, form_page
from tutti.web.ledger_schemas import (
    BatchCreate,
    BatchPublic,
    EarningsPublic,
    LineSettle,
    Method,
    PaymentCreate,
    PayoutDetailsPublic,
    PayoutDetailsUpdate,
    ReceivablePublic,
    RefundCreate,
    StatementPublic,
    TransferPublic,
)
from tutti.web.pages import redirect

router = APIRouter(tags=["ledger"])
Year = Annotated[int, Path(ge=2000, le=9998)]
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _download(data: bytes, name: str, media_type: str) -> Response:
    return Response(data, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _transfer(posted: Posted) -> TransferPublic:
    t = posted.transfer
    return TransferPublic(transfer_id=t.id, kind=t.kind, amount_minor=t.amount, replayed=posted.replayed)


# --- A member's earnings ---


def _earnings(db: Db, settings: Settings, member: Member, page: PageContext) -> None:
    page.extra.update(earnings=ledger_views.earnings(db, settings, member), methods=payouts.METHODS,
                      year=utcnow().year, money=ledger_views.money_of(db))  # fmt: skip


@router.get("/earnings", include_in_schema=False)
def earnings_page(db: Db, settings: Settings, member: CurrentMember, page: PageContext) -> HTMLResponse:
    _earnings(db, settings, member, page)
    return page.render("earnings.html", form={})


@router.post("/earnings/payout-details", include_in_schema=False, dependencies=[form_page("earnings.html")])
def payout_details_form(
    request: Request,
    db: Db,
    settings: Settings,
    member: ActingMember,
    page: PageContext,
    method: Annotated[Method, Form()],
    name: Annotated[str, Form(max_length=70)],
    account: Annotated[str, Form(max_length=320)],
) -> Response:
    _earnings(db, settings, member, page)
    payouts.set_details(db, settings, member, payouts.check_details(method, name, account))
    db.commit()
    return redirect("/earnings", request)


@router.get("/earnings/receipts/{receipt_id}", include_in_schema=False)
def receipt_download(receipt_id: RowId, db: Db, settings: Settings, member: CurrentMember) -> Response:
    data = receipts.receipt_file(db, settings, member.id, receipt_id)
    db.commit()  # the checkpoint it holds is kept, and written beside the database
    return _download(orjson.dumps(data, option=orjson.OPT_INDENT_2), f"tutti-receipt-{receipt_id}.json",
                     "application/json")  # fmt: skip


@router.get("/earnings/statement/{year}", include_in_schema=False)
def statement_download(year: Year, db: Db, member: CurrentMember) -> Response:
    found = statements.statement(db, member.id, year)
    return _download(statements.statement_csv(found), f"tutti-statement-{year}.csv", "text/csv")


@router.get("/api/me/earnings")
def earnings_api(db: Db, settings: Settings, member: CurrentMember) -> EarningsPublic:
    """The member's balance, every movement of it, their receipts and payout details (masked)."""
    return ledger_views.earnings(db, settings, member)


@router.get("/api/me/statements/{year}")
def statement_api(year: Year, db: Db, member: CurrentMember) -> StatementPublic:
    """The member's statement of a calendar year (UTC), for their taxes."""
    return ledger_views.statement_public(statements.statement(db, member.id, year))


@router.get("/api/me/receipts/{receipt_id}", response_class=Response)
def receipt_api(receipt_id: RowId, db: Db, settings: Settings, member: CurrentMember) -> Response:
    """A receipt with its proofs, to check offline with ``tutti coop log verify --receipt``."""
    return receipt_download(receipt_id, db, settings, member)


@router.put("/api/me/payout-details")
def payout_details_api(
    body: PayoutDetailsUpdate, db: Db, settings: Settings, member: ActingMember
) -> PayoutDetailsPublic:
    """Where the member is paid: an IBAN, or a PayPal or Wise email (sealed with the member's key)."""
    details = payouts.check_details(body.method, body.name, body.account)
    payouts.set_details(db, settings, member, details)
    db.commit()
    return PayoutDetailsPublic(method=body.method, name=details.name, masked=details.masked)


# --- The stewards' finance ---


def _finance(db: Db, page: PageContext) -> None:
    page.extra.update(
        receivables=ledger_views.receivables(db),
        batches=[ledger_views.batch_public(db, b) for b in payouts.batches(db)],
        failures=payouts.failures(db),
        payments_made=statements.payments_made(db),
        methods=payouts.METHODS,
        form_key=secrets.token_hex(8),
        money=ledger_views.money_of(db),
        amount_text=amount_text,
        amount_field=amount_field,
        currency=currency_code(db),
    )


@router.get("/finance", include_in_schema=False)
def finance_page(db: Db, member: Steward, page: PageContext) -> HTMLResponse:
    _finance(db, page)
    return page.render("finance.html", form={})


@router.post("/finance/payments", include_in_schema=False, dependencies=[form_page("finance.html")])
def payment_form(
    request: Request,
    db: Db,
    member: ActingSteward,
    page: PageContext,
    sale_id: Annotated[str, Form(max_length=36)],
    amount: Annotated[str, Form(max_length=30)],
    key: Annotated[str, Form(max_length=200)],
) -> Response:
    _finance(db, page)
    currency = payments.sale_currency(db, sale_id)
    payments.record_payment(db, member, sale_id, parse_price(amount, currency, what="the amount"), key)
    db.commit()
    return redirect("/finance", request)


@router.post(
    "/finance/payments/{payment_id}/refunds", include_in_schema=False, dependencies=[form_page("finance.html")]
)
def refund_form(
    request: Request, payment_id: str, db: Db, member: ActingSteward, page: PageContext,
    amount: Annotated[str, Form(max_length=30)], key: Annotated[str, Form(max_length=200)],
) -> Response:  # fmt: skip
    _finance(db, page)
    minor = parse_price(amount, payments.ledger_currency(db), what="the amount")
    payments.record_refund(db, member, payment_id, minor, key)
    db.commit()
    return redirect("/finance", request)


@router.post("/finance/batches", include_in_schema=False, dependencies=[form_page("finance.html")])
def batch_form(
    request: Request, db: Db, settings: Settings, member: ActingSteward, page: PageContext,
    method: Annotated[Method, Form()],
) -> Response:  # fmt: skip
    _finance(db, page)
    payouts.create_batch(db, settings, member, method)
    db.commit()
    return redirect("/finance", request)


@router.post("/finance/batches/{batch_id}/file", include_in_schema=False, dependencies=[form_page("finance.html")])
def batch_file_form(
    batch_id: str, db: Db, settings: Settings, member: ActingSteward, page: PageContext,
    debtor_name: Annotated[str, Form(max_length=70)] = "", debtor_iban: Annotated[str, Form(max_length=64)] = "",
) -> Response:  # fmt: skip
    _finance(db, page)
    name, data = payouts.batch_file(db, settings, batch_id, debtor_name=debtor_name, debtor_iban=debtor_iban)
    return _download(data, name, "application/xml" if name.endswith(".xml") else "text/csv")


@router.post("/finance/batches/{batch_id}/sent", include_in_schema=False, dependencies=[form_page("finance.html")])
def batch_sent_form(request: Request, batch_id: str, db: Db, member: ActingSteward, page: PageContext) -> Response:
    _finance(db, page)
    payouts.mark_sent(db, member, batch_id)
    db.commit()
    return redirect("/finance", request)


@router.post("/finance/lines/{line_id}", include_in_schema=False, dependencies=[form_page("finance.html")])
def line_form(
    request: Request, line_id: RowId, db: Db, member: ActingSteward, page: PageContext,
    outcome: Annotated[str, Form(pattern="^(paid|failed)$")],
) -> Response:  # fmt: skip
    _finance(db, page)
    payouts.settle(db, member, line_id, outcome == "paid")
    db.commit()
    return redirect("/finance", request)


@router.get("/finance/ledger.csv", include_in_schema=False)
def export_download(db: Db, member: Steward) -> Response:
    return _download(statements.ledger_csv(db), f"tutti-ledger-{utcnow():%Y-%m-%d}.csv", "text/csv")


@router.get("/api/ledger/receivables")
def receivables_api(db: Db, member: Steward) -> list[ReceivablePublic]:
    """Every executed sale: its price, what was paid (less refunds) and what is outstanding."""
    return ledger_views.receivables(db)


@router.post("/api/ledger/sales/{sale_id}/payments", status_code=status.HTTP_201_CREATED)
def payment_api(sale_id: str, body: PaymentCreate, db: Db, member: ActingSteward) -> TransferPublic:
    """Record a buyer's payment for a passed sale; the same ``key`` again records nothing (``replayed``)."""
    posted = payments.record_payment(db, member, sale_id, body.amount_minor, body.key)
    db.commit()
    return _transfer(posted)


@router.post("/api/ledger/payments/{payment_id}/refunds", status_code=status.HTTP_201_CREATED)
def refund_api(payment_id: str, body: RefundCreate, db: Db, member: ActingSteward) -> TransferPublic:
    """Refund part or all of a payment, reversing the fee and every share in proportion."""
    posted = payments.record_refund(db, member, payment_id, body.amount_minor, body.key)
    db.commit()
    return _transfer(posted)


@router.get("/api/ledger/batches")
def batches_api(db: Db, member: Steward) -> list[BatchPublic]:
    """Payout batches, newest first, with their lines."""
    return [ledger_views.batch_public(db, b) for b in payouts.batches(db)]


@router.post("/api/ledger/batches", status_code=status.HTTP_201_CREATED)
def batch_api(body: BatchCreate, db: Db, settings: Settings, member: ActingSteward) -> BatchPublic:
    """Batch every balance above the payout minimum payable by ``method``."""
    batch = payouts.create_batch(db, settings, member, body.method)
    db.commit()
    return ledger_views.batch_public(db, batch)


@router.post("/api/ledger/batches/{batch_id}/sent")
def batch_sent_api(batch_id: str, db: Db, member: ActingSteward) -> BatchPublic:
    """The batch's file was handed to the bank or service."""
    batch = payouts.mark_sent(db, member, batch_id)
    db.commit()
    return ledger_views.batch_public(db, batch)


@router.post("/api/ledger/lines/{line_id}")
def line_api(line_id: RowId, body: LineSettle, db: Db, member: ActingSteward) -> BatchPublic:
    """Mark one payout line paid or failed, once (a second time answers 409)."""
    line = payouts.settle(db, member, line_id, body.outcome == "paid")
    db.commit()
    return ledger_views.batch_public(db, db.get_one(PayoutBatch, line.batch_id))


@router.get("/api/ledger/export", response_class=Response)
def export_api(db: Db, member: Steward) -> Response:
    """Every posting as CSV, for the accountant."""
    return export_download(db, member)
