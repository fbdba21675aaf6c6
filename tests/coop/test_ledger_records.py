"""What members and the accountant get from the ledger, on both databases: receipts that verify offline (and
fail when altered), histories, yearly statements, the accountant's export, and a withdrawal with a balance."""

from __future__ import annotations

import copy
import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import select

from tests.coop.conftest import CoopDb
from tests.helpers.governance import steward
from tests.helpers.ledger import PAID, passed_sale
from tutti.coop.audit import transparency
from tutti.coop.errors import Conflict, InvalidInput, NotFound
from tutti.coop.ledger import accounts, erasure, payments, payouts, receipts, statements
from tutti.coop.ledger.transfers import check_books
from tutti.coop.members import data_export, withdrawal
from tutti.coop.models import LedgerAccount, Member, PayoutDetails

POINTS = {"ada@example.org": 3, "bo@example.org": 1}


def _sale_paid(db: CoopDb) -> tuple[str, dict[str, str]]:
    sale, ids = passed_sale(db.sessions, POINTS, price_minor=20_000)
    with db.sessions.begin() as session:
        payments.record_payment(session, steward(session), sale, 20_000, "pay-1", now=PAID)
    return sale, ids


def _receipt(db: CoopDb, member_id: str) -> dict[str, Any]:
    with db.sessions.begin() as session:
        mine = receipts.of_member(session, member_id)[0]
        loaded: dict[str, Any] = orjson.loads(
            orjson.dumps(receipts.receipt_file(session, db.settings, member_id, mine.id))
        )
        return loaded


def test_a_receipt_verifies_offline_and_any_change_to_it_is_caught(founded_db: CoopDb) -> None:
    _, ids = _sale_paid(founded_db)
    data = _receipt(founded_db, ids["ada@example.org"])
    key = transparency.pinned_verifier_key(founded_db.settings.data_dir)
    checked = receipts.verify_receipt(data, key)
    assert (checked.body["reason"], checked.body["weight"], checked.body["share"]) == ("included", 3, 13_500)
    forged = copy.deepcopy(data)
    forged["receipt"] = data["receipt"].replace('"share":13500', '"share":18000')
    edits = {
        "share raised": forged,
        "entry altered": {**data, "entry": {**data["entry"], "payload": data["entry"]["payload"].replace("1", "2")}},
        "checkpoint of another key": {**data, "checkpoint": data["checkpoint"].replace("\u2014", "-")},
        "proof cut": {**data, "inclusion": {**data["inclusion"], "proof": data["inclusion"]["proof"][:-1]}},
    }
    # And files that are not receipts at all: each refused in a sentence, never with a traceback.
    edits |= {
        "empty": {},
        "no proof": {**data, "inclusion": {}},
        "proof not a list": {**data, "receipts_tree": {**data["receipts_tree"], "proof": "00"}},
        "entry a list": {**data, "entry": []},
        "seq a word": {**data, "entry": {**data["entry"], "seq": "one"}},
        "body not text": {**data, "receipt": {"share": 1}},
    }
    for name, altered in edits.items():
        with pytest.raises(InvalidInput):
            receipts.verify_receipt(altered, key)
        assert name
    with founded_db.sessions() as session, pytest.raises(NotFound):
        other = receipts.of_member(session, ids["bo@example.org"])[0]
        receipts.receipt_file(session, founded_db.settings, ids["ada@example.org"], other.id)


def test_histories_statements_and_the_accountants_export_trace_every_posting(founded_db: CoopDb) -> None:
    sale, ids = _sale_paid(founded_db)
    with founded_db.sessions() as session:
        moves = statements.history(session, ids["ada@example.org"])
        assert [(m.kind, m.amount, m.proposal_id) for m in moves] == [("payment", 13_500, sale)]
        year = statements.statement(session, ids["ada@example.org"], PAID.year)
        assert (year.opening, year.earned, year.paid_out, year.closing) == (0, 13_500, 0, 13_500)
        assert statements.statement(session, ids["ada@example.org"], PAID.year + 1).opening == 13_500
        with pytest.raises(InvalidInput, match="calendar year"):
            statements.statement(session, ids["ada@example.org"], 9999)
        assert b"135.00" in statements.statement_csv(year)
        exported = list(csv.DictReader(io.StringIO(statements.ledger_csv(session).decode())))
        assert tuple(exported[0]) == statements.EXPORT_COLUMNS
        assert sum(int(row["amount_minor"]) for row in exported) == 20_000
        assert {row["credit_kind"] for row in exported} == {"fee", "member"}
        assert not any("example.org" in value for row in exported for value in row.values())
        [due] = statements.receivables(session)
        assert (due.price, due.paid, due.outstanding) == (20_000, 20_000, 0)


def test_a_withdrawing_member_is_told_about_their_balance_and_the_books_still_balance(founded_db: CoopDb) -> None:
    _, ids = _sale_paid(founded_db)
    with founded_db.sessions.begin() as session:
        ada = session.get_one(Member, ids["ada@example.org"])
        details = payouts.check_details("iban", "Ada", "DE89370400440532013000")
        payouts.set_details(session, founded_db.settings, ada, details, now=PAID)
        note = erasure.what_happens(session, ada)
        assert note is not None and "135.00 EUR" in note and "fee account" in note
    with founded_db.sessions() as session:  # withdrawal commits each of its steps itself
        ada = session.get_one(Member, ids["ada@example.org"])
        withdrawal.withdraw(session, founded_db.settings, ada, now=PAID + timedelta(days=1))
    with founded_db.sessions() as session:
        assert accounts.find(session, accounts.MEMBER, ids["ada@example.org"]) is None
        assert session.get(PayoutDetails, ids["ada@example.org"]) is None
        unowned = select(LedgerAccount).where(LedgerAccount.owner_id.is_(None), LedgerAccount.kind == accounts.MEMBER)
        orphans = list(session.scalars(unowned))
        assert len(orphans) == 1 and accounts.balance(session, orphans[0].id).net_credit == 0
        assert accounts.balance(session, accounts.FEE).net_credit == 2_000 + 13_500
        assert check_books(session).ok
        assert erasure.what_happens(session, session.get_one(Member, ids["bo@example.org"])) is not None


def test_a_members_data_export_holds_their_money(founded_db: CoopDb, tmp_path: Path) -> None:
    _, ids = _sale_paid(founded_db)
    with founded_db.sessions.begin() as session:
        ada = session.get_one(Member, ids["ada@example.org"])
        payouts.set_details(
            session, founded_db.settings, ada, payouts.check_details("paypal", "Ada", "ada@pay.example")
        )
        written = data_export.export_member_data(session, founded_db.settings, ada, tmp_path / "mine.zip")
    with zipfile.ZipFile(written.path) as archive:
        money = orjson.loads(archive.read("money.json"))
    assert money["balance_minor"] == 13_500 and money["payout_details"]["email"] == "ada@pay.example"
    assert [r["share"] for r in money["receipts"]] == [13_500]


def test_a_payout_in_transit_when_its_member_withdraws_fails_to_the_fee_account(founded_db: CoopDb) -> None:
    _, ids = _sale_paid(founded_db)
    with founded_db.sessions.begin() as session:
        ada = session.get_one(Member, ids["ada@example.org"])
        details = payouts.check_details("iban", "Ada", "DE89370400440532013000")
        payouts.set_details(session, founded_db.settings, ada, details, now=PAID)
        batch = payouts.create_batch(session, founded_db.settings, steward(session), "iban", now=PAID)
        batch_id = batch.id
    with founded_db.sessions() as session:
        withdrawal.withdraw(session, founded_db.settings, session.get_one(Member, ids["ada@example.org"]), now=PAID)
    with founded_db.sessions.begin() as session:
        with pytest.raises(Conflict, match="no longer has iban details"):
            payouts.batch_file(session, founded_db.settings, batch_id, debtor_iban="FR1420041010050500013M02606")
        payouts.mark_sent(session, steward(session), batch_id, now=PAID)
        [line] = payouts.lines_of(session, batch_id)
        payouts.settle(session, steward(session), line.id, False, now=PAID)
        assert accounts.balance(session, accounts.FEE).net_credit == 2_000 + 13_500
        assert accounts.balance(session, line.account_id).net_credit == 0
        assert check_books(session).ok
