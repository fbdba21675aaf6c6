"""Payments, refunds, payouts and settlements racing on PostgreSQL: no money created or lost, every request
applied once however often it is sent, and no payout line paid twice."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from tests.coop.conftest import CoopDb
from tests.helpers.governance import steward
from tests.helpers.ledger import PAID, passed_sale
from tests.helpers.races import postgresql_only, race
from tutti.coop.ledger import accounts, payments, payouts
from tutti.coop.ledger.transfers import check_books
from tutti.coop.models import LedgerAccount, LedgerTransfer, Member

POINTS = {"ada@example.org": 5, "bo@example.org": 3, "cy@example.org": 1, "di@example.org": 0}


def test_money_racing_on_postgresql_is_neither_created_nor_lost(founded_db: CoopDb) -> None:
    postgresql_only(founded_db)
    db = founded_db
    sale, ids = passed_sale(db.sessions, POINTS, price_minor=1_000_000)
    with db.sessions.begin() as session:
        for email, member_id in ids.items():
            details = payouts.check_details("iban", email[:2], "DE89370400440532013000")
            payouts.set_details(session, db.settings, session.get_one(Member, member_id), details)

    def pay(key: str, amount: int) -> Callable[[], object]:
        def call() -> object:
            with db.sessions.begin() as session:
                return payments.record_payment(session, steward(session), sale, amount, key, now=PAID)

        return call

    # Every payment sent twice at once: each lands once.
    assert race([pay(f"p{i}", 10_000) for i in range(20) for _ in range(2)])[0] == 40
    with db.sessions() as session:
        first = list(session.scalars(select(LedgerTransfer.id).where(LedgerTransfer.kind == "payment")))
    assert len(first) == 20

    def refund(payment_id: str, key: str) -> Callable[[], object]:
        def call() -> object:
            with db.sessions.begin() as session:
                return payments.record_refund(session, steward(session), payment_id, 2_000, key, now=PAID)

        return call

    def batch() -> object:
        with db.sessions.begin() as session:
            return payouts.create_batch(session, db.settings, steward(session), "iban", now=PAID)

    # Refunds (each sent twice), more payments and two stewards batching, all at once.
    calls = [refund(p, f"r{n}") for n, p in enumerate(first[:10]) for _ in range(2)]
    calls += [pay(f"q{i}", 5_000) for i in range(10)] + [batch, batch]
    race(calls)
    with db.sessions.begin() as session:
        for found in payouts.batches(session):
            payouts.mark_sent(session, steward(session), found.id, now=PAID)
        lines = [line.id for found in payouts.batches(session) for line in payouts.lines_of(session, found.id)]
    assert lines

    def settle(line_id: int, paid: bool) -> Callable[[], object]:
        def call() -> object:
            with db.sessions.begin() as session:
                return payouts.settle(session, steward(session), line_id, paid, now=PAID)

        return call

    # Four stewards settle every line at once, two saying paid and two failed: one of them wins per line.
    won, refused = race([settle(line, paid) for line in lines for paid in (True, True, False, False)])
    assert (won, refused) == (len(lines), 3 * len(lines))
    with db.sessions() as session:
        assert check_books(session).ok
        kinds = dict(session.execute(select(LedgerTransfer.kind, func.count()).group_by(LedgerTransfer.kind)).all())
        # A refund racing the batch that paid its members' balances out is refused whole; the others land once.
        refunds = kinds.get("refund", 0)
        assert kinds["payment"] == 30 and refunds <= 10
        assert kinds.get("payout-paid", 0) + kinds.get("payout-failed", 0) == len(lines)
        made = [name for name in accounts.SYSTEM if session.get(LedgerAccount, name) is not None]
        held = dict.fromkeys(accounts.SYSTEM, 0) | {n: accounts.balance(session, n).net_credit for n in made}
        members = sum(accounts.member_balance(session, m) for m in ids.values())
        assert all(accounts.member_balance(session, m) >= 0 for m in ids.values())
        # What buyers paid is exactly what the fee, the members, the rails and the refunds hold.
        assert sum(held.values()) + members == 20 * 10_000 + 10 * 5_000
        assert held[accounts.REFUNDS] == refunds * 2_000 and held[accounts.IN_TRANSIT] == 0
