"""The ledger on both databases: payments split exactly, refunds reversed in proportion, transfers idempotent,
balanced and immutable, and every protection attacked directly in the database."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from tests.coop.conftest import CoopDb, events
from tests.helpers.governance import sale_terms, steward
from tests.helpers.ledger import PAID, passed_sale
from tutti.coop.errors import Conflict, InvalidInput, NotAllowed
from tutti.coop.governance import proposals
from tutti.coop.ledger import accounts, payments, receipts
from tutti.coop.ledger.transfers import Posted, check_books
from tutti.coop.models import LedgerTransfer, Member, Role

POINTS = {"ada@example.org": 3, "bo@example.org": 1, "cy@example.org": 2}


def _pay(db: CoopDb, sale: str, amount: int, key: str) -> Posted:
    with db.sessions.begin() as session:
        return payments.record_payment(session, steward(session), sale, amount, key, now=PAID)


def _balances(db: CoopDb, ids: dict[str, str]) -> dict[str, int]:
    with db.sessions() as session:
        return {email: accounts.member_balance(session, member_id) for email, member_id in ids.items()}


def test_a_payment_takes_the_fee_and_splits_the_rest_exactly_by_points(founded_db: CoopDb) -> None:
    sale, ids = passed_sale(founded_db.sessions, POINTS, opted_out=["cy@example.org"], price_minor=100_001)
    posted = _pay(founded_db, sale, 100_001, "pay-1")
    # 10 % of 100,001 rounded down in the members' favour; 90,001 by points 3 : 1 (Cy opted out, the steward
    # has no points): 67,500.75 and 22,500.25, the leftover unit to the larger remainder.
    assert _balances(founded_db, ids) == {"ada@example.org": 67_501, "bo@example.org": 22_500, "cy@example.org": 0}
    with founded_db.sessions() as session:
        assert accounts.balance(session, accounts.FEE).net_credit == 10_000
        assert posted.transfer.amount == 100_001 and not posted.replayed
        assert check_books(session).ok
        logged = events(session, "ledger-transfer-posted")
        assert len(logged) == 1 and all(i not in logged[0].payload for i in ids.values())
        reasons = {email: receipts.body_of(receipts.of_member(session, i)[0])["reason"] for email, i in ids.items()}
        assert reasons == {"ada@example.org": "included", "bo@example.org": "included", "cy@example.org": "opted-out"}
        assert len(events(session, "receipts-issued")) == 1


def test_the_currency_decides_the_minor_units_and_the_ledger_keeps_one(founded_db: CoopDb) -> None:
    sale, ids = passed_sale(founded_db.sessions, {"ada@example.org": 1}, price_minor=1_000, currency="JPY")
    _pay(founded_db, sale, 1_000, "yen")
    with founded_db.sessions() as session:
        mine = receipts.body_of(receipts.of_member(session, ids["ada@example.org"])[0])
        assert (mine["currency"], mine["minor_units"], mine["share"]) == ("JPY", 0, 900)
    other = passed_sale(founded_db.sessions, {"bo@example.org": 1}, buyer_email="b@corp.example", price_minor=500)[0]
    with pytest.raises(Conflict, match="keeps JPY"):
        _pay(founded_db, other, 500, "euros")


def test_a_replay_changes_nothing_and_a_changed_replay_is_refused(founded_db: CoopDb) -> None:
    sale, ids = passed_sale(founded_db.sessions, POINTS, price_minor=10_000)
    first = _pay(founded_db, sale, 4_000, "pay-1")
    again = _pay(founded_db, sale, 4_000, "pay-1")
    assert again.replayed and again.transfer.id == first.transfer.id
    with pytest.raises(Conflict, match="used for another transfer"):
        _pay(founded_db, sale, 4_001, "pay-1")
    with founded_db.sessions() as session:
        assert len(list(session.scalars(select(LedgerTransfer)))) == 1
        assert len(events(session, "ledger-transfer-posted")) == 1
    assert sum(_balances(founded_db, ids).values()) == 3_600


def test_partial_payments_stop_at_the_price_and_refunds_reverse_in_proportion(founded_db: CoopDb) -> None:
    sale, ids = passed_sale(founded_db.sessions, POINTS, price_minor=10_000)
    payment = _pay(founded_db, sale, 6_000, "part-1").transfer.id
    with pytest.raises(Conflict, match=r"leaves 40\.00 EUR to pay, not 40\.01 EUR"):
        _pay(founded_db, sale, 4_001, "part-2")
    _pay(founded_db, sale, 4_000, "part-2")
    before = _balances(founded_db, ids)
    with founded_db.sessions.begin() as session:
        refund = payments.record_refund(session, steward(session), payment, 3_000, "refund-1", now=PAID)
        assert refund.transfer.reverses == payment
        with pytest.raises(Conflict, match=r"30\.00 EUR left to refund"):
            payments.record_refund(session, steward(session), payment, 3_001, "refund-2", now=PAID)
    after = _balances(founded_db, ids)
    # Half of the first payment back: each share of it (and the fee's) halves, exactly.
    taken = {email: before[email] - after[email] for email in ids}
    assert taken == {"ada@example.org": 1_350, "bo@example.org": 450, "cy@example.org": 900}
    with founded_db.sessions() as session:
        assert accounts.balance(session, accounts.REFUNDS).net_credit == 3_000
        assert accounts.balance(session, accounts.FEE).net_credit == 1_000 - 300
        assert payments.paid(session, sale) == 7_000
        assert check_books(session).ok


def test_only_stewards_record_payments_and_only_for_executed_sales(founded_db: CoopDb) -> None:
    sale, ids = passed_sale(founded_db.sessions, POINTS, price_minor=10_000)
    with founded_db.sessions.begin() as session:
        ada = session.get_one(Member, ids["ada@example.org"])
        with pytest.raises(NotAllowed):
            payments.record_payment(session, ada, sale, 100, "mine", now=PAID)
        with pytest.raises(InvalidInput, match="positive"):
            payments.record_payment(session, steward(session), sale, -100, "negative", now=PAID)
        with pytest.raises(InvalidInput, match="positive"):
            payments.record_payment(session, steward(session), sale, 0, "zero", now=PAID)
        lab = session.scalars(select(Member).where(Member.role == Role.BUYER)).one()
        draft = proposals.draft_sale(session, lab, "Not voted yet", sale_terms())
        with pytest.raises(Conflict, match="only a passed, executed sale"):
            payments.record_payment(session, steward(session), draft.id, 100, "too-early", now=PAID)


def _raw(db: CoopDb, statement: str, **params: object) -> None:
    with db.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_the_database_refuses_what_the_code_would_never_write(founded_db: CoopDb) -> None:
    sale, ids = passed_sale(founded_db.sessions, POINTS, price_minor=10_000)
    transfer = _pay(founded_db, sale, 10_000, "pay-1").transfer.id
    with founded_db.sessions() as session:
        ada = accounts.find(session, accounts.MEMBER, ids["ada@example.org"])
        assert ada is not None
        ada_id = ada.id
    attacks = [
        # A posting of a negative amount, which would move money the wrong way unseen.
        ("INSERT INTO ledger_posting (transfer_id, debit_account_id, credit_account_id, amount) "
         "VALUES (:t, 'fee', :a, -5)"),
        # A posting that takes a member below zero (an overdraft).
        ("INSERT INTO ledger_posting (transfer_id, debit_account_id, credit_account_id, amount) "
         "VALUES (:t, :a, 'fee', 999999)"),
        # A posting from an account to itself.
        "INSERT INTO ledger_posting (transfer_id, debit_account_id, credit_account_id, amount) VALUES (:t, :a, :a, 1)",
        # Changing or removing what was posted.
        "UPDATE ledger_posting SET amount = amount + 1 WHERE transfer_id = :t",
        "DELETE FROM ledger_posting WHERE transfer_id = :t",
        "UPDATE ledger_transfer SET amount = 1 WHERE id = :t",
        "DELETE FROM ledger_transfer WHERE id = :t",
        "DELETE FROM ledger_account WHERE id = :a",
    ]  # fmt: skip
    for statement in attacks:
        with pytest.raises(DBAPIError):
            _raw(founded_db, statement, t=transfer, a=ada_id)
    with founded_db.sessions() as session:
        assert check_books(session).ok
    # A balance written straight into an account: PostgreSQL refuses it; on SQLite the books check finds it.
    forged = "UPDATE ledger_account SET credits_posted = credits_posted + 100 WHERE id = :a"
    if founded_db.kind == "postgresql":
        with pytest.raises(DBAPIError, match="only by posting"):
            _raw(founded_db, forged, a=ada_id)
    else:
        _raw(founded_db, forged, a=ada_id)
        with founded_db.sessions() as session:
            found = check_books(session)
            assert not found.ok and any("not the sums of its postings" in f for f in found.findings)
