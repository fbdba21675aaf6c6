"""The exact split, as properties: shares sum to the amount, each is within one minor unit of its quota, the
largest remainders get the leftover units, and ties follow the published rule."""

from __future__ import annotations

import hashlib
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from tutti.coop.ledger.payments import divide
from tutti.coop.ledger.split import largest_remainder, weigh

parties = st.dictionaries(st.uuids().map(str), st.integers(0, 10**6), min_size=1, max_size=40)


@given(st.integers(0, 10**12), parties, st.text(max_size=20))
def test_a_split_sums_exactly_and_stays_within_a_unit_of_each_quota(
    total: int, weights: dict[str, int], salt: str
) -> None:
    shares = largest_remainder(total, weights, salt)
    assert sum(shares.values()) == total and set(shares) == set(weights)
    whole = sum(weights.values()) or len(weights)
    for party, share in shares.items():
        quota = Fraction(total * (weights[party] if sum(weights.values()) else 1), whole)
        assert quota - 1 < share <= quota + 1
        assert share >= 0


@given(st.integers(0, 10**9), parties, st.text(max_size=20))
def test_the_split_is_deterministic_and_ignores_the_order_of_parties(
    total: int, weights: dict[str, int], salt: str
) -> None:
    reordered = dict(reversed(list(weights.items())))
    assert largest_remainder(total, weights, salt) == largest_remainder(total, reordered, salt)


def test_ties_go_by_the_hash_of_the_salt_and_the_party() -> None:
    weights = {"a": 1, "b": 1, "c": 1}
    shares = largest_remainder(2, weights, "pay-7")
    first_two = sorted(weights, key=lambda p: hashlib.sha256(f"pay-7:{p}".encode()).digest())[:2]
    assert {p for p, s in shares.items() if s == 1} == set(first_two)
    assert {s for s in largest_remainder(3, weights, "pay-7").values()} == {1}


@given(st.integers(1, 10**12), st.integers(0, 10_000), parties, st.text(max_size=8))
def test_the_fee_and_the_shares_add_up_to_the_payment(
    amount: int, bps: int, weights: dict[str, int], salt: str
) -> None:
    divided = divide(amount, bps, weights, salt)
    assert divided.fee + sum(divided.members.values()) == amount
    assert divided.fee == amount * bps // 10_000


def test_the_bases_weigh_points_equally_or_half_and_half() -> None:
    points = {"a": 30, "b": 10, "c": 0}
    assert weigh("points", points) == points
    assert weigh("equal", points) == {"a": 1, "b": 1, "c": 1}
    mixed = weigh("mix", points)  # half equal (1/3 each), half by points (3/4, 1/4, 0)
    assert [Fraction(mixed[p], sum(mixed.values())) for p in "abc"] == [
        Fraction(1, 6) + Fraction(3, 8), Fraction(1, 6) + Fraction(1, 8), Fraction(1, 6)
    ]  # fmt: skip
    assert largest_remainder(10, {"a": 0, "b": 0}, "") == {"a": 5, "b": 5}
