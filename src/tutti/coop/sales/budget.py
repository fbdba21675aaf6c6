"""A sale's privacy budget, kept in the database: every release built and every query answered is a spend.

The budget is the epsilon and delta of the recipe the members voted (``sale_budget``); a recipe without noise
(rows) has none and spends none. ``charge`` locks the sale's proposal row, adds up what was spent so far
(``privacy_spend``) and records the new spend only if it fits, all in the caller's transaction, so two queries at
once cannot both spend the last of a budget.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tutti.coop.models import PrivacySpend, Proposal
from tutti.coop.sales.privacy import PrivacyBudget, Spend
from tutti.coop.sales.sale import sale_parameters


def sale_budget(params: Any) -> PrivacyBudget:
    """The total a sale may spend: its recipe's epsilon and delta (none for a recipe without noise)."""
    return PrivacyBudget(float(getattr(params, "epsilon", 0.0)), float(getattr(params, "delta", 0.0)))


def spent(session: Session, proposal_id: str, total: PrivacyBudget) -> PrivacyBudget:
    """``total`` with the sale's recorded spends."""
    rows = session.scalars(
        select(PrivacySpend).where(PrivacySpend.proposal_id == proposal_id).order_by(PrivacySpend.at_utc)
    )
    return PrivacyBudget(total.epsilon, total.delta, [Spend(r.epsilon, r.delta, r.what) for r in rows])


def lock(session: Session, proposal_id: str) -> None:
    """Hold the sale's row lock until the caller's transaction ends: spends of one sale take turns. Take it before
    writing any row that refers to the sale (a foreign key takes a share lock on it, and two such share locks
    waiting to become this lock deadlock)."""
    session.execute(select(Proposal.id).where(Proposal.id == proposal_id).with_for_update())


def charge(
    session: Session,
    proposal_id: str,
    spend: Spend,
    *,
    now: datetime,
    total: PrivacyBudget | None = None,
    release_id: str | None = None,
    query_id: str | None = None,
) -> PrivacyBudget:
    """Record ``spend`` against the sale's budget (its recipe's, unless ``total`` is given); BudgetSpent if it
    does not fit. Holds the proposal's row lock until the caller's transaction ends."""
    lock(session, proposal_id)
    if total is None:
        total = sale_budget(sale_parameters(session, proposal_id))
    current = spent(session, proposal_id, total)
    if spend.epsilon > 0 or spend.delta > 0:
        current.charge(spend)  # raises BudgetSpent, recording nothing
    session.add(
        PrivacySpend(
            proposal_id=proposal_id,
            release_id=release_id,
            query_id=query_id,
            epsilon=spend.epsilon,
            delta=spend.delta,
            what=spend.what[:200],
            at_utc=now,
        )
    )
    session.flush()
    return current
