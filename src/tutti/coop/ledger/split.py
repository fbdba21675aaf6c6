"""Fair shares: who a sale's proceeds go to, by what weight, and the exact split of an amount among them.

``split_basis`` reads the members a passed sale includes, as governance fixed them when its vote closed
(``governance.consent.included``, which leaves out anyone withdrawn since), and weighs them by the policy's
``share_basis``: ``points`` (the contribution points of their accepted contributions, the default), ``equal``,
or ``mix`` (half equally, half by points). Releases are not recorded in the database yet; when they are, this
is the one place that narrows the set to the members whose data went into the sale's release
(``sales.release.ReleaseTables.used``): a member left out of a release is not paid for it, and a release only
ever narrows the set fixed at close.

``largest_remainder`` splits an amount exactly (the Hamilton method): each party gets the whole part of its
quota, and the minor units left over go one each to the largest remainders. Ties among equal remainders go in
ascending order of SHA-256(salt ":" party), the salt being the transfer's key: deterministic, checkable by
anyone holding the weights, and not always the same members. Parties of weight 0 get nothing; when every weight
is 0 the amount is split equally.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tutti.coop.governance import consent, policy, proposals
from tutti.coop.models import Contribution, ContributionStatus


def _tie_order(salt: str, party: str) -> bytes:
    return hashlib.sha256(f"{salt}:{party}".encode()).digest()


def largest_remainder(total: int, weights: Mapping[str, int], salt: str) -> dict[str, int]:
    """``total`` split among ``weights``' parties in proportion, exactly (see the module docstring)."""
    if total < 0 or any(w < 0 for w in weights.values()):
        raise ValueError("a split is of a non-negative amount by non-negative weights")
    if not weights:
        return {}
    if sum(weights.values()) == 0:
        weights = dict.fromkeys(weights, 1)
    whole = sum(weights.values())
    shares = {party: total * w // whole for party, w in weights.items()}
    left = total - sum(shares.values())
    order = sorted(weights, key=lambda p: (-(total * weights[p] % whole), _tie_order(salt, p)))
    for party in order[:left]:
        shares[party] += 1
    return shares


def points(session: Session, member_ids: list[str]) -> dict[str, int]:
    """Each member's contribution points: the scores of their accepted contributions."""
    found = dict(
        session.execute(
            select(Contribution.member_id, func.coalesce(func.sum(Contribution.score), 0))
            .where(Contribution.status == ContributionStatus.ACCEPTED, Contribution.member_id.in_(member_ids))
            .group_by(Contribution.member_id)
        ).all()
    )
    return {m: int(found.get(m, 0)) for m in member_ids}


def weigh(basis: str, member_points: Mapping[str, int]) -> dict[str, int]:
    """Weights of ``basis`` from each member's points (``mix``: P + n * p, i.e. half equal, half by points)."""
    if basis == "equal":
        return dict.fromkeys(member_points, 1)
    if basis == "mix":
        whole, n = sum(member_points.values()), len(member_points)
        return {m: whole + n * p for m, p in member_points.items()} if whole else dict.fromkeys(member_points, 1)
    return dict(member_points)


def split_basis(session: Session, proposal_id: str) -> dict[str, int]:
    """{member id: weight} of a passed sale: its included members (fixed at close) weighed by the policy."""
    proposal = proposals.get(session, proposal_id)
    included = consent.included(session, proposal)
    return weigh(policy.current(session).share_basis, points(session, included))
