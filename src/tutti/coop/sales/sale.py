"""A sale as the sales code reads it: the proposal, its typed terms, and its recipe's checked parameters."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tutti.coop.errors import NotFound
from tutti.coop.governance.terms import SaleTerms, terms_from
from tutti.coop.models import Proposal
from tutti.coop.sales.recipes import check_sale_recipe


def sale_of(session: Session, proposal_id: str) -> tuple[Proposal, SaleTerms]:
    proposal = session.get(Proposal, proposal_id)
    terms = terms_from(proposal.terms) if proposal is not None else None
    if proposal is None or not isinstance(terms, SaleTerms):
        raise NotFound("no such sale")
    return proposal, terms


def parameters_of(terms: SaleTerms) -> Any:
    """The sale's recipe parameters, checked against the recipe as this cooperative defines it."""
    recipe = terms.recipe
    return check_sale_recipe(recipe.name, recipe.version, recipe.parameters, terms.data_kind, terms.delivery)


def sale_parameters(session: Session, proposal_id: str) -> Any:
    return parameters_of(sale_of(session, proposal_id)[1])
