"""The cooperative's governance policy in force: the fee, how votes are decided, how long they last, how scores
are weighted and the standing rules. One row per change (``governance_policy``), the latest in force; the
founding row holds ``DEFAULT``.

Only ``execution`` calls ``apply``: a policy changes when, and only when, a passed proposal executes. The daily
onboarding capacity is kept where the waitlist reads it (``onboarding_policy``), so a passed change of it is a
new row there too (``waitlist.change_capacity``, which nothing else calls).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop.governance.terms import PolicyChange
from tutti.coop.members import waitlist
from tutti.coop.models import GovernancePolicy, utcnow


@dataclass(frozen=True)
class Policy:
    """What the members decided (or the defaults): ``fee_basis_points`` of every sale go to the cooperative
    (100 = 1 %); a vote needs ``quorum_percent`` of its electorate to cast a ballot and passes by ``threshold``."""

    fee_basis_points: int = 1000
    quorum_percent: int = 20
    threshold: str = "simple"
    voting_days: int = 7
    weighting: str = "equal"
    scoring_weights: dict[str, int] = field(default_factory=dict)
    standing_rules: str = ""
    # How a sale's proceeds are split (``ledger.split``), and the smallest balance a payout batch pays out.
    share_basis: str = "points"
    payout_minimum_minor: int = 1000

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Policy:
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT = Policy()


def current(session: Session) -> Policy:
    """The policy in force."""
    latest = session.scalars(select(GovernancePolicy).order_by(GovernancePolicy.id.desc()).limit(1)).first()
    return DEFAULT if latest is None else Policy.from_json(latest.policy)


def apply(session: Session, change: PolicyChange, proposal_id: str, *, now: datetime | None = None) -> Policy:
    """Put a passed change in force (for ``execution`` only); the policy now in force."""
    when = now or utcnow()
    fields = change.changes()
    capacity = fields.pop("capacity_per_day", None)
    updated = replace(current(session), **fields)
    session.add(GovernancePolicy(policy=updated.to_json(), proposal_id=proposal_id, changed_utc=when))
    session.flush()
    if capacity is not None:
        waitlist.change_capacity(session, capacity, proposal_id=proposal_id, now=when)
    return updated
