"""Compute-to-data: the buyer of a sale with query access asks aggregate queries where the data lives.

A query is never SQL: it is the sale's recipe (an aggregate recipe the members voted) with a few parameters the
buyer may choose (``BUYER_PARAMETERS``: the period, artist or track, and the epsilon this answer spends); every
other parameter (the k floor, the contribution bounds) is the one the members voted. Each answer is bounded and
noised like a release and spends from the sale's privacy budget; when the budget is spent, answers stop. The
spend is charged and the query recorded (and logged) *before* the engine runs, in one transaction that locks the
sale: two queries at once cannot both spend the last of a budget, and an answer that fails still counts (noise is
never drawn twice for one question).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy.orm import Session, sessionmaker

from tutti.coop import audit
from tutti.coop.actions import QUERY_SALE, require
from tutti.coop.errors import Conflict, InvalidInput, NotFound
from tutti.coop.governance.proposals import EXECUTED
from tutti.coop.models import BuyerQuery, Member, Proposal, utcnow
from tutti.coop.sales import budget
from tutti.coop.sales.privacy import BudgetSpent, Spend
from tutti.coop.sales.recipes import parameters_from, parameters_to_dict, recipe_named
from tutti.coop.sales.releases import included_source, run_recipe
from tutti.coop.sales.sale import parameters_of, sale_of
from tutti.coop.settings import CoopSettings

BUYER_PARAMETERS = frozenset({"since", "until", "by", "epsilon"})
QUERIES_PER_BUDGET = 10  # an answer that names no epsilon spends a tenth of the sale's budget


@dataclass(frozen=True)
class Answer:
    query_id: str
    tables: dict[str, list[dict[str, Any]]]
    epsilon: float
    delta: float
    epsilon_left: float
    members: int


def _open_sale(session: Session, buyer: Member, proposal_id: str, when: datetime) -> tuple[Proposal, Any, Any]:
    require(QUERY_SALE, buyer)
    proposal, terms = sale_of(session, proposal_id)
    if terms.buyer_id != buyer.id:
        raise NotFound("no such sale")
    if terms.delivery != "query" or proposal.status != EXECUTED:
        raise Conflict("this sale gives no query access")
    assert proposal.executed_utc is not None
    if proposal.executed_utc + timedelta(days=terms.duration_days) <= when:
        raise Conflict("the licence of this sale has ended")
    return proposal, terms, parameters_of(terms)


def ask(
    sessions: sessionmaker[Session],
    settings: CoopSettings,
    buyer_id: str,
    proposal_id: str,
    chosen: Mapping[str, Any],
    *,
    now: datetime | None = None,
) -> Answer:
    """Answer one aggregate query of the buyer's sale (see the module docstring); BudgetSpent once it is spent."""
    when = now or utcnow()
    unknown = sorted(set(chosen) - BUYER_PARAMETERS)
    if unknown:
        raise InvalidInput(f"a query may choose only {', '.join(sorted(BUYER_PARAMETERS))}; not {', '.join(unknown)}")
    with sessions.begin() as session:
        budget.lock(session, proposal_id)  # first: the query row below refers to the sale
        buyer = session.get_one(Member, buyer_id)
        proposal, terms, voted = _open_sale(session, buyer, proposal_id, when)
        recipe = recipe_named(terms.recipe.name)
        total = budget.sale_budget(voted)
        epsilon = chosen.get("epsilon", total.epsilon / QUERIES_PER_BUDGET)
        plain = {**parameters_to_dict(voted), **{k: v for k, v in chosen.items() if k != "epsilon"}, "epsilon": epsilon}
        if "by" in chosen and not any(f.name == "by" for f in dataclasses.fields(voted)):
            raise InvalidInput(f"recipe {recipe.name} has no choice of artist or track")
        params = parameters_from(recipe, plain)
        delta = float(getattr(voted, "delta", 0.0)) * params.epsilon / total.epsilon
        if "delta" in plain:
            params = dataclasses.replace(params, delta=delta)
        query = BuyerQuery(
            proposal_id=proposal_id,
            recipe=recipe.name,
            parameters=parameters_to_dict(params),
            epsilon=params.epsilon,
            delta=delta,
            rows=0,
            members=0,
            at_utc=when,
        )
        session.add(query)
        session.flush()
        try:
            left = budget.charge(
                session,
                proposal_id,
                Spend(params.epsilon, delta, f"query {query.id}"),
                now=when,
                total=total,
                query_id=query.id,
            )
        except BudgetSpent:
            session.rollback()
            with sessions.begin() as refusing:
                audit.record(refusing, audit.QueryRefused(proposal_id=proposal_id, reason="budget-spent"), now=when)
            raise
        query_id = query.id
        source, _ids = included_source(session, settings, proposal)
        epsilon_left = total.epsilon - left.spent_epsilon
    built = run_recipe(settings, source, recipe, params, b"\x00" * 32, f"query-{query_id}")  # no pseudonyms
    rows = sum(t.num_rows for t in built.tables.values())
    with sessions.begin() as session:
        stored = session.get_one(BuyerQuery, query_id)
        stored.rows, stored.members = rows, built.members
        audit.record(
            session,
            audit.QueryAnswered(
                proposal_id=proposal_id,
                query_id=query_id,
                recipe=recipe.name,
                rows=rows,
                members=built.members,
                epsilon=params.epsilon,
                delta=delta,
            ),
            now=when,
        )
    return Answer(
        query_id,
        {name: _rows(table) for name, table in built.tables.items()},
        params.epsilon,
        delta,
        max(0.0, epsilon_left),
        built.members,
    )


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()} for row in table.to_pylist()]
