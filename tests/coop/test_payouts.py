"""Payouts on both databases: details validated and sealed, balances batched above the minimum, payout files a
bank or service accepts, and every line settled exactly once."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from sqlalchemy import text

from tests.coop.conftest import CoopDb
from tests.helpers.governance import steward
from tests.helpers.ledger import PAID, passed_sale
from tutti.coop.errors import Conflict, InvalidInput
from tutti.coop.ledger import accounts, payments, payout_files, payouts
from tutti.coop.ledger.transfers import check_books
from tutti.coop.models import Member

POINTS = {"ada@example.org": 3, "bo@example.org": 1, "cy@example.org": 1}
ADA_IBAN = "DE89 3704 0044 0532 0130 00"
COOP_IBAN = "FR14 2004 1010 0505 0001 3M02 606"
PAIN_001 = Path(sepaxml.__file__).parent / "schemas" / f"{payout_files.SEPA_SCHEMA}.xsd"


def _paid_sale(db: CoopDb) -> dict[str, str]:
    sale, ids = passed_sale(db.sessions, POINTS, price_minor=10_000)
    with db.sessions.begin() as session:
        payments.record_payment(session, steward(session), sale, 10_000, "pay-1", now=PAID)
        for email, method, account in [
            ("ada@example.org", "iban", ADA_IBAN),
            ("bo@example.org", "paypal", "Bo@Example.org"),
            ("cy@example.org", "wise", "cy@example.org"),
        ]:
            member = session.get_one(Member, ids[email])
            details = payouts.check_details(method, f"{email[:2].title()} Listener", account)
            payouts.set_details(session, db.settings, member, details, now=PAID)
    return ids


def test_payout_details_are_validated_and_sealed(founded_db: CoopDb) -> None:
    with pytest.raises(InvalidInput, match="iban is not a valid IBAN"):
        payouts.check_details("iban", "Ada", "DE89 3704 0044 0532 0130 01")
    with pytest.raises(InvalidInput, match="email must be"):
        payouts.check_details("paypal", "Ada", "not an email")
    with pytest.raises(InvalidInput, match="method must be"):
        payouts.check_details("bitcoin", "Ada", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT")
    ids = _paid_sale(founded_db)
    with founded_db.engine.connect() as connection:
        dump = " ".join(str(row) for row in connection.execute(text("SELECT * FROM payout_details")))
    assert "DE89" not in dump and "example.org" not in dump
    with founded_db.sessions() as session:
        mine = payouts.details_of(session, founded_db.settings, ids["ada@example.org"])
        assert mine == payouts.Details("iban", "Ad Listener", iban="DE89370400440532013000")
        assert mine.masked == "DE•• •••• 3000"


def test_a_batch_pays_balances_above_the_minimum_once_and_failures_return(founded_db: CoopDb) -> None:
    ids = _paid_sale(founded_db)  # shares 5,400 / 1,800 / 1,800 after the 10 % fee
    with founded_db.sessions.begin() as session:
        batch = payouts.create_batch(session, founded_db.settings, steward(session), "iban", now=PAID)
        lines = payouts.lines_of(session, batch.id)
        assert [(line.amount, line.status) for line in lines] == [(5_400, "pending")]
        assert accounts.member_balance(session, ids["ada@example.org"]) == 0
        with pytest.raises(Conflict, match="no balance"):
            payouts.create_batch(session, founded_db.settings, steward(session), "iban", now=PAID)
        with pytest.raises(Conflict, match="once it is sent"):
            payouts.settle(session, steward(session), lines[0].id, True, now=PAID)
        name, xml = payouts.batch_file(session, founded_db.settings, batch.id, debtor_name="Tutti Coop",
                                       debtor_iban=COOP_IBAN, execution=date(2026, 3, 20))  # fmt: skip
        assert name.endswith(".xml")
        xmlschema.XMLSchema(str(PAIN_001)).validate(xml.decode())
        assert b"<IBAN>DE89370400440532013000</IBAN>" in xml and b'Ccy="EUR">54.00<' in xml
        payouts.mark_sent(session, steward(session), batch.id, now=PAID)
        with pytest.raises(Conflict, match="only an open batch"):
            payouts.mark_sent(session, steward(session), batch.id, now=PAID)
        payouts.settle(session, steward(session), lines[0].id, True, now=PAID)
        with pytest.raises(Conflict, match="marked paid already"):
            payouts.settle(session, steward(session), lines[0].id, True, now=PAID)
        with pytest.raises(Conflict, match="marked paid already"):
            payouts.settle(session, steward(session), lines[0].id, False, now=PAID)
        assert accounts.balance(session, accounts.PAID_OUT).net_credit == 5_400
        assert accounts.balance(session, accounts.IN_TRANSIT).net_credit == 0
        session.refresh(batch)
        assert batch.status == "closed"
        wise = payouts.create_batch(session, founded_db.settings, steward(session), "wise", now=PAID)
        payouts.mark_sent(session, steward(session), wise.id, now=PAID)
        payouts.settle(session, steward(session), payouts.lines_of(session, wise.id)[0].id, False, now=PAID)
        assert accounts.member_balance(session, ids["cy@example.org"]) == 1_800  # failed: back in the balance
        assert check_books(session).ok


def test_the_csv_files_follow_the_documented_columns(founded_db: CoopDb) -> None:
    _paid_sale(founded_db)
    with founded_db.sessions.begin() as session:
        files = {}
        for method in ("paypal", "wise"):
            batch = payouts.create_batch(session, founded_db.settings, steward(session), method, now=PAID)
            files[method] = payouts.batch_file(session, founded_db.settings, batch.id)[1].decode()
            line_id = payouts.lines_of(session, batch.id)[0].id
    paypal = list(csv.reader(io.StringIO(files["paypal"])))
    assert len(paypal) == 1 and len(paypal[0]) == len(payout_files.PAYPAL_COLUMNS)
    assert paypal[0][:3] == ["bo@example.org", "18.00", "EUR"]
    wise = list(csv.DictReader(io.StringIO(files["wise"])))
    assert tuple(wise[0]) == payout_files.WISE_COLUMNS
    assert wise[0] == {
        "name": "Cy Listener", "recipientEmail": "cy@example.org", "paymentReference": f"Tutti payout {line_id}",
        "receiverType": "PRIVATE", "amountCurrency": "target", "amount": "18.00", "sourceCurrency": "EUR",
        "targetCurrency": "EUR",
    }  # fmt: skip


def test_amounts_are_written_with_the_currencys_minor_units() -> None:
    assert [payout_files.major(1234, d) for d in (0, 2, 3)] == ["1234", "12.34", "1.234"]
    assert payout_files.major(5, 2) == "0.05"
