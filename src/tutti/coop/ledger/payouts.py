"""Payouts without a wallet: members say where they are paid, stewards batch balances into payout files, and
each line is settled exactly once.

Payout details (an IBAN validated by schwifty, or a PayPal or Wise email, and the name to pay) are sealed with the
member's own data key, as their email is: withdrawal destroys the key, and the details with it.

A batch (``create_batch``) takes every member balance of at least the policy's ``payout_minimum_minor`` whose
owner gave details of the batch's method, and moves it to the in-transit account in one transfer: a balance in a
batch cannot be batched again. The file (``batch_file``) is made from the sealed details when asked for. The batch
is then marked sent (``mark_sent``), and each line paid or failed (``settle``): paid moves its money from in-transit
to paid-out, failed returns it to the member's balance. A line is settled once: the second attempt is refused,
even when two stewards click at the same moment (a conditional update, then a transfer whose key is the line's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import orjson
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from tutti.coop import audit, crypto
from tutti.coop.actions import ISSUE_PAYOUT, SET_PAYOUT_DETAILS, require
from tutti.coop.db import lock_cooperative
from tutti.coop.errors import Conflict, InvalidInput, KeyDestroyed, NotFound
from tutti.coop.governance import policy
from tutti.coop.governance.terms import amount_text
from tutti.coop.ledger import accounts, payout_files
from tutti.coop.ledger.transfers import Leg, book, currency_code, post
from tutti.coop.members.accounts import normalise_email
from tutti.coop.models import LedgerAccount, Member, PayoutBatch, PayoutDetails, PayoutLine, utcnow
from tutti.coop.settings import CoopSettings

METHODS: dict[str, str] = {
    "iban": "a SEPA credit transfer to an IBAN (EUR)",
    "paypal": "PayPal, to an email address",
    "wise": "Wise, to an email address",
}
OPEN, SENT, CLOSED = "open", "sent", "closed"
PENDING, PAID, FAILED = "pending", "paid", "failed"
MAX_NAME = 70  # what a SEPA file carries of a creditor's name


@dataclass(frozen=True)
class Details:
    method: str
    name: str
    iban: str | None = None
    email: str | None = None

    @property
    def masked(self) -> str:
        """What a page shows: the IBAN's country and last four characters, or the email's first letter."""
        if self.iban:
            return f"{self.iban[:2]}•• •••• {self.iban[-4:]}"
        assert self.email is not None
        user, _, domain = self.email.partition("@")
        return f"{user[:1]}•••@{domain}"


def check_details(method: str, name: str, account: str) -> Details:
    """Validated details: ``account`` is an IBAN for ``iban``, an email otherwise; InvalidInput naming the field."""
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}")
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"name must be the account holder's name, 1 to {MAX_NAME} characters")
    if method == "iban":
        try:
            iban = IBAN(account)
        except SchwiftyException as exc:
            raise InvalidInput(f"iban is not a valid IBAN: {exc}") from None
        return Details(method, name, iban=iban.compact)
    try:
        return Details(method, name, email=normalise_email(account))
    except InvalidInput:
        raise InvalidInput(f"email must be the address of the {METHODS[method].split(',')[0]} account") from None


def set_details(
    session: Session, settings: CoopSettings, member: Member, details: Details, *, now: datetime | None = None
) -> None:
    """Keep ``details`` sealed with the member's key, replacing any given before."""
    require(SET_PAYOUT_DETAILS, member)
    when = now or utcnow()
    sealed = crypto.encrypt_blob(crypto.member_key(session, member, settings), orjson.dumps(details.__dict__))
    row = session.get(PayoutDetails, member.id)
    if row is None:
        session.add(PayoutDetails(member_id=member.id, method=details.method, sealed=sealed, updated_utc=when))
    else:
        row.method, row.sealed, row.updated_utc = details.method, sealed, when
    session.flush()
    audit.record(session, audit.PayoutDetailsChanged(member_id=member.id, method=details.method), now=when)


def details_of(session: Session, settings: CoopSettings, member_id: str) -> Details | None:
    """A member's details opened, or None (none given, or their key destroyed)."""
    row = session.get(PayoutDetails, member_id)
    member = session.get(Member, member_id)
    if row is None or member is None:
        return None
    try:
        raw = orjson.loads(crypto.decrypt_blob(crypto.member_key(session, member, settings), row.sealed))
    except KeyDestroyed:
        return None
    return Details(**raw)


def create_batch(
    session: Session, settings: CoopSettings, steward: Member, method: str, *, now: datetime | None = None
) -> PayoutBatch:
    """A batch of every balance of at least the minimum payable by ``method`` (see the module docstring)."""
    require(ISSUE_PAYOUT, steward)
    if method not in METHODS:
        raise InvalidInput(f"method must be one of {', '.join(METHODS)}")
    lock_cooperative(session)
    currency = book(session)
    if method == "iban" and currency is not None and currency.currency != "EUR":
        raise InvalidInput(f"SEPA credit transfers are in EUR; the ledger keeps {currency.currency}")
    when = now or utcnow()
    minimum = max(1, policy.current(session).payout_minimum_minor)
    due = session.execute(
        select(LedgerAccount.id, LedgerAccount.credits_posted - LedgerAccount.debits_posted)
        .join(PayoutDetails, PayoutDetails.member_id == LedgerAccount.owner_id)
        .where(
            LedgerAccount.kind == accounts.MEMBER,
            PayoutDetails.method == method,
            LedgerAccount.credits_posted - LedgerAccount.debits_posted >= minimum,
        )
        .order_by(LedgerAccount.id)
    ).all()
    if not due:
        least = amount_text(minimum, currency_code(session))
        raise Conflict(f"no balance of at least {least} is payable by {method}")
    batch = PayoutBatch(method=method, status=OPEN, created_by=steward.id, created_utc=when)
    session.add(batch)
    session.flush()
    session.execute(
        insert(PayoutLine),
        [{"batch_id": batch.id, "account_id": a, "amount": int(amount), "status": PENDING} for a, amount in due],
    )
    transit = accounts.account(session, accounts.IN_TRANSIT, now=when).id
    legs = [Leg(a, transit, int(amount)) for a, amount in due]
    post(session, key=f"payout-batch-{batch.id}", kind="payout", legs=legs, batch_id=batch.id, now=when)
    audit.record(
        session,
        audit.PayoutBatchChanged(member_id=steward.id, batch_id=batch.id, status=OPEN, lines=len(due)),
        now=when,
    )
    return batch


def lines_of(session: Session, batch_id: str) -> list[PayoutLine]:
    return list(session.scalars(select(PayoutLine).where(PayoutLine.batch_id == batch_id).order_by(PayoutLine.id)))


def batch_file(
    session: Session,
    settings: CoopSettings,
    batch_id: str,
    *,
    debtor_name: str = "",
    debtor_iban: str = "",
    execution: date | None = None,
) -> tuple[str, bytes]:
    """The batch's payout file (name, bytes) for its method; the SEPA file pays from ``debtor_iban``."""
    batch = session.get(PayoutBatch, batch_id)
    currency = book(session)
    if batch is None or currency is None:
        raise NotFound("no such payout batch")
    lines = []
    for line in lines_of(session, batch.id):
        owner = session.get_one(LedgerAccount, line.account_id).owner_id
        found = None if owner is None else details_of(session, settings, owner)
        if found is None or found.method != batch.method:
            raise Conflict(f"line {line.id}'s member no longer has {batch.method} details: mark it failed")
        lines.append(payout_files.FileLine(line.id, line.amount, found.name, found.iban, found.email))
    stem = f"payouts-{batch.created_utc:%Y%m%d}-{batch.id[:8]}"
    if batch.method == "iban":
        debtor = check_details("iban", debtor_name or "Tutti cooperative", debtor_iban)
        assert debtor.iban is not None
        xml = payout_files.sepa_xml(lines, debtor_name=debtor.name, debtor_iban=debtor.iban,
                                    currency=currency.currency, execution=execution or utcnow().date())  # fmt: skip
        return f"{stem}.xml", xml
    make = payout_files.paypal_csv if batch.method == "paypal" else payout_files.wise_csv
    return f"{stem}-{batch.method}.csv", make(lines, currency=currency.currency, minor_units=currency.minor_units)


def mark_sent(session: Session, steward: Member, batch_id: str, *, now: datetime | None = None) -> PayoutBatch:
    """The batch's file was handed to the bank or service: its lines can now be settled."""
    require(ISSUE_PAYOUT, steward)
    when = now or utcnow()
    changed = session.execute(
        update(PayoutBatch)
        .where(PayoutBatch.id == batch_id, PayoutBatch.status == OPEN)
        .values(status=SENT, sent_utc=when)
    ).rowcount  # type: ignore[attr-defined]
    batch = session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound("no such payout batch")
    session.refresh(batch)
    if not changed:
        raise Conflict(f"the batch is {batch.status}: only an open batch is marked sent")
    lines = len(lines_of(session, batch_id))
    audit.record(session, audit.PayoutBatchChanged(member_id=steward.id, batch_id=batch_id, status=SENT, lines=lines),
                 now=when)  # fmt: skip
    return batch


def settle(session: Session, steward: Member, line_id: int, paid: bool, *, now: datetime | None = None) -> PayoutLine:
    """Mark one line of a sent batch paid (True) or failed (False), exactly once."""
    require(ISSUE_PAYOUT, steward)
    when = now or utcnow()
    lock_cooperative(session)
    line = session.get(PayoutLine, line_id)
    if line is None:
        raise NotFound("no such payout line")
    session.refresh(line)
    if line.status != PENDING:
        raise Conflict(f"payout line {line_id} was marked {line.status} already")
    batch = session.get_one(PayoutBatch, line.batch_id)
    session.refresh(batch)
    if batch.status != SENT:
        raise Conflict(f"the batch is {batch.status}: lines are settled once it is sent")
    outcome = PAID if paid else FAILED
    changed = session.execute(
        update(PayoutLine).where(PayoutLine.id == line_id, PayoutLine.status == PENDING)
        .values(status=outcome, decided_utc=when)
    ).rowcount  # type: ignore[attr-defined]  # fmt: skip
    session.refresh(line)
    if not changed:
        raise Conflict(f"payout line {line_id} was marked {line.status} already")
    transit = accounts.account(session, accounts.IN_TRANSIT, now=when).id
    target = accounts.account(session, accounts.PAID_OUT, now=when).id if paid else line.account_id
    if not paid and session.get_one(LedgerAccount, line.account_id).owner_id is None:
        target = accounts.account(session, accounts.FEE, now=when).id  # its member withdrew (``erasure``)
    post(session, key=f"payout-line-{line_id}", kind=f"payout-{outcome}", legs=[Leg(transit, target, line.amount)],
         batch_id=batch.id, now=when)  # fmt: skip
    if all(other.status != PENDING for other in lines_of(session, batch.id)):
        batch.status = CLOSED
        audit.record(session, audit.PayoutBatchChanged(member_id=steward.id, batch_id=batch.id, status=CLOSED,
                                                       lines=len(lines_of(session, batch.id))), now=when)  # fmt: skip
    session.flush()
    return line


def failures(session: Session) -> list[PayoutLine]:
    return list(session.scalars(select(PayoutLine).where(PayoutLine.status == FAILED).order_by(PayoutLine.id.desc())))


def batches(session: Session) -> list[PayoutBatch]:
    return list(session.scalars(select(PayoutBatch).order_by(PayoutBatch.created_utc.desc())))
