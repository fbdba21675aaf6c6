"""What the ledger's API takes and gives back: earnings, receipts, payout details, payments, refunds, batches.

Money is an integer of minor units (``*_minor``) with the ledger's ISO 4217 currency and its number of minor units;
never a float. ``*Create``/``*Update`` in, ``*Public`` out, as in ``schemas``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Method = Literal["iban", "paypal", "wise"]
MAX_MINOR = 10**15


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MovementPublic(BaseModel):
    posted_utc: datetime
    transfer_id: str
    kind: str
    sale_id: str | None
    amount_minor: int


class ShareReceiptPublic(BaseModel):
    receipt_id: int
    sale_id: str
    sale: str
    transfer_kind: str
    reason: str
    weight: int
    total_weight: int
    share_minor: int
    issued_utc: str


class StatementPublic(BaseModel):
    """A member's calendar year (UTC): the balance on 1 January, what came in and went out, the balance after."""

    year: int
    currency: str
    minor_units: int
    opening_minor: int
    earned_minor: int
    paid_out_minor: int
    other_minor: int
    closing_minor: int
    movements: list[MovementPublic]


class PayoutDetailsPublic(BaseModel):
    method: Method
    name: str
    masked: str


class PayoutDetailsUpdate(_Request):
    method: Method
    name: str = Field(min_length=1, max_length=70)
    account: str = Field(min_length=1, max_length=320, description="The IBAN, or the PayPal or Wise email.")


class EarningsPublic(BaseModel):
    currency: str | None
    minor_units: int
    balance_minor: int
    payout_minimum_minor: int
    movements: list[MovementPublic]
    receipts: list[ShareReceiptPublic]
    payout_details: PayoutDetailsPublic | None


class PaymentCreate(_Request):
    amount_minor: int = Field(ge=1, le=MAX_MINOR)
    key: str = Field(min_length=1, max_length=200, description="Yours to choose: the same key again records nothing.")


class RefundCreate(_Request):
    amount_minor: int = Field(ge=1, le=MAX_MINOR)
    key: str = Field(min_length=1, max_length=200)


class TransferPublic(BaseModel):
    transfer_id: str
    kind: str
    amount_minor: int
    replayed: bool


class ReceivablePublic(BaseModel):
    sale_id: str
    title: str
    price_minor: int
    paid_minor: int
    outstanding_minor: int
    currency: str


class BatchCreate(_Request):
    method: Method


class PayoutLinePublic(BaseModel):
    line_id: int
    amount_minor: int
    status: Literal["pending", "paid", "failed"]


class BatchPublic(BaseModel):
    batch_id: str
    method: Method
    status: Literal["open", "sent", "closed"]
    created_utc: datetime
    lines: list[PayoutLinePublic]


class LineSettle(_Request):
    outcome: Literal["paid", "failed"]
