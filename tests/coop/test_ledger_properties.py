"""Random sequences of sales, weights, opt-outs, payments, refunds, payouts and failures on both databases: the
books balance after every step, no member balance goes negative, every payment splits exactly, and replaying any
transfer with its key changes nothing."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.coop.conftest import CoopDb
from tests.helpers.governance import steward
from tests.helpers.ledger import PAID, add_points, passed_sale, with_points
from tutti.coop.errors import Conflict
from tutti.coop.ledger import accounts, payments, payouts
from tutti.coop.ledger.transfers import check_books, legs_of
from tutti.coop.models import LedgerAccount, LedgerTransfer, Member, PayoutLine

MEMBERS = [f"m{i}@example.org" for i in range(4)]
METHODS = ["iban", "paypal", "iban", "wise"]
IBANS = ["DE89370400440532013000", "FR1420041010050500013M02606"]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(1, 100)),
        st.tuples(st.just("pay"), st.integers(1, 50)),
        st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 100)),
        st.tuples(st.just("refund"), st.integers(0, 5), st.integers(1, 100)),
        st.tuples(st.just("batch"), st.sampled_from(["iban", "paypal", "wise"])),
        st.tuples(st.just("send"), st.booleans()),
        st.tuples(st.just("settle"), st.booleans()),
        st.tuples(st.just("replay"), st.integers(0, 5)),
    ),
    min_size=2,
    max_size=12,
)


@dataclass
class World:
    """What the examples of one test share: the members, and a counter for unique buyers and keys."""

    ids: dict[str, str] = field(default_factory=dict)
    counter: itertools.count[int] = field(default_factory=itertools.count)


_WORLDS: dict[str, World] = {}


def _setup(db: CoopDb, world: World) -> None:
    if world.ids:
        return
    with db.sessions.begin() as session:
        for n, (email, method) in enumerate(zip(MEMBERS, METHODS, strict=True)):
            member = with_points(session, email, 0)
            world.ids[email] = member.id
            account = IBANS[n % 2] if method == "iban" else email
            payouts.set_details(session, db.settings, member, payouts.check_details(method, f"M {n}", account))


def _totals(db: CoopDb) -> tuple[int, int, int]:
    with db.sessions() as session:
        row = session.execute(
            select(func.sum(LedgerAccount.debits_posted), func.sum(LedgerAccount.credits_posted), func.count())
        ).one()
        transfers = int(session.scalar(select(func.count()).select_from(LedgerTransfer)) or 0)
        return int(row[0] or 0), int(row[1] or 0), transfers


def _check(db: CoopDb, world: World) -> None:
    with db.sessions() as session:
        books = check_books(session)
        assert books.ok, books.findings
        for member_id in world.ids.values():
            assert accounts.member_balance(session, member_id) >= 0
        for name in (accounts.FEE, accounts.IN_TRANSIT):
            if session.get(LedgerAccount, name) is not None:
                assert accounts.balance(session, name).net_credit >= 0


Done = list[tuple[str, str, int, str]]  # (kind, key, amount, and the sale or payment it was for)


def _replay(session: Session, actor: Member, sale: str, done: Done, pick: int) -> None:
    """Send one of the payments or refunds posted so far again, with its key: the first transfer comes back."""
    kind, key, amount, target = done[pick % len(done)]
    if kind == "payment":
        again = payments.record_payment(session, actor, sale, amount, key, now=PAID)
    else:
        again = payments.record_refund(session, actor, target, amount, key, now=PAID)
    assert again.replayed and again.transfer.key == key


def _apply(db: CoopDb, world: World, sale: str, price: int, op: tuple[object, ...], done: Done) -> None:
    """One operation in a transaction of its own; refusals (Conflict) must leave everything as it was."""
    before = _totals(db)
    key = f"k{next(world.counter)}"
    try:
        with db.sessions.begin() as session:
            actor = steward(session)
            match op:
                case ("pay", int(percent)):
                    amount = max(1, price * percent // 100)  # of the price: a few of them overpay, and are refused
                    posted = payments.record_payment(session, actor, sale, amount, key, now=PAID)
                    assert sum(leg.amount for leg in legs_of(session, posted.transfer.id)) == amount
                    done.append(("payment", key, amount, posted.transfer.id))
                case ("refund", int(pick), int(percent)) if done:
                    # Of a payment (or again of one refunded already), by a share of the amount picked.
                    _, _, base, payment = done[pick % len(done)]
                    amount = max(1, base * percent // 100)
                    posted = payments.record_refund(session, actor, payment, amount, key, now=PAID)
                    assert sum(leg.amount for leg in legs_of(session, posted.transfer.id)) == amount
                    done.append(("refund", key, amount, payment))
                case ("batch", str(method)):
                    payouts.create_batch(session, db.settings, actor, method, now=PAID)
                case ("send", _):
                    for batch in payouts.batches(session):
                        if batch.status == payouts.OPEN:
                            payouts.mark_sent(session, actor, batch.id, now=PAID)
                case ("settle", bool(paid)):
                    line = session.scalars(select(PayoutLine).where(PayoutLine.status == payouts.PENDING)).first()
                    if line is not None:
                        payouts.settle(session, actor, line.id, paid, now=PAID)
                case ("replay", int(pick)) if done:
                    _replay(session, actor, sale, done, pick)
                case _:
                    pass
    except Conflict:
        assert _totals(db) == before
    if op[0] == "replay":
        assert _totals(db) == before
    _check(db, world)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    points=st.lists(st.integers(0, 50), min_size=4, max_size=4),
    opted_out=st.sets(st.sampled_from(MEMBERS), max_size=3),
    price=st.integers(1, 200_000),
    ops=operations,
)
def test_random_money_keeps_the_books_exact(
    founded_db: CoopDb, points: list[int], opted_out: set[str], price: int, ops: list[tuple[object, ...]]
) -> None:
    # The examples of one test share its database: each adds points, a sale and operations to what is there.
    world = _WORLDS.setdefault(str(founded_db.settings.data_dir), World())
    _setup(founded_db, world)
    with founded_db.sessions.begin() as session:
        for email, extra in zip(MEMBERS, points, strict=True):
            if extra:
                add_points(session, world.ids[email], extra)
    n = next(world.counter)
    sale, _ = passed_sale(founded_db.sessions, {}, opted_out=sorted(opted_out), buyer_email=f"b{n}@corp.example",
                          known=world.ids, price_minor=price)  # fmt: skip
    done: Done = []
    for op in ops:
        _apply(founded_db, world, sale, price, op, done)
