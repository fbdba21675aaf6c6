"""What the governance pages and API show, read from ``tutti.coop.governance`` and turned into public schemas,
with the terms of a proposal in plain words (what members read before they vote). Reads only; no queries."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tutti.coop.contributions import scoring
from tutti.coop.errors import InvalidInput
from tutti.coop.governance import ballots, buyers, consent, policy, proposals
from tutti.coop.governance.terms import (
    CURRENCIES,
    DATA_KINDS,
    DELIVERIES,
    PURPOSES,
    THRESHOLDS,
    WEIGHTINGS,
    PolicyChange,
    SaleTerms,
    terms_from,
)
from tutti.coop.members import waitlist
from tutti.coop.models import BuyerApplication, Member, Proposal
from tutti.coop.sales.preview import preview_in_words
from tutti.coop.sales.recipes import recipe_named
from tutti.coop.sales.sale import parameters_of
from tutti.web.governance_schemas import (
    BallotPublic,
    BallotsPublic,
    BuyerApplicationPublic,
    ConsentPublic,
    MyPartPublic,
    PolicyPublic,
    ProposalPublic,
    RulesPublic,
    TallyPublic,
)


def recipe_in_words(terms: SaleTerms) -> str:
    """What the recipe releases and how it is protected, as the recipe itself says it."""
    try:
        return str(recipe_named(terms.recipe.name).describe(parameters_of(terms)))
    except InvalidInput as error:
        return f"This recipe cannot run on this server: {error}"


def _percent(basis_points: int) -> str:
    return f"{basis_points / 100:.2f} %"


def _money(minor: int, currency: str) -> str:
    digits = CURRENCIES.get(currency, 2)
    major, rest = divmod(minor, 10**digits)
    return f"{major:,}.{rest:0{digits}d} {currency}" if digits else f"{major:,} {currency}"


def sale_in_words(session: Session, terms: SaleTerms, proposal: Proposal, viewer: Member) -> list[str]:
    organisation = buyers.organisation_of(session, terms.buyer_id) or "A buyer no longer approved"
    fee = policy.current(session).fee_basis_points
    members = max(1, len(proposals.electorate_now(session)))
    share = terms.price_minor * (10_000 - fee) // 10_000 // members
    recipe = ", ".join(f"{k} = {v}" for k, v in sorted(terms.recipe.parameters.items())) or "no parameters"
    return [
        f"{organisation} pays {terms.price_text} for {DATA_KINDS[terms.data_kind]}, for "
        f"{PURPOSES[terms.purpose_category]}: “{terms.purpose}”",
        f"Licence for {terms.duration_days} days: the buyer may not try to re-identify anyone, may not resell or "
        "pass on the data, and must delete it when the licence ends",
        f"Delivered as {DELIVERIES[terms.delivery]}",
        f"Recipe {terms.recipe.name} (version {terms.recipe.version}) with its privacy settings: {recipe}. "
        + recipe_in_words(terms),
        preview_in_words(session, proposal, viewer.role),
        f"Your estimated share if every member were included equally: about {_money(share, terms.currency)} "
        f"(after the cooperative's fee of {_percent(fee)})",
    ]


def policy_in_words(session: Session, change: PolicyChange) -> list[str]:
    now = policy.current(session)
    words = []
    for name, value in change.changes().items():
        if name == "fee_basis_points":
            words.append(f"Cooperative fee: {_percent(value)} (now {_percent(now.fee_basis_points)})")
        elif name == "capacity_per_day":
            words.append(f"New members admitted per day: {value:,} (now {waitlist.capacity(session):,})")
        elif name == "quorum_percent":
            words.append(f"Quorum: {value} % of members must vote (now {now.quorum_percent} %)")
        elif name == "threshold":
            words.append(f"A vote passes with {THRESHOLDS[value]} (now: {THRESHOLDS[now.threshold]})")
        elif name == "voting_days":
            words.append(f"Votes last {value} days (now {now.voting_days})")
        elif name == "weighting":
            words.append(f"Votes are weighted: {WEIGHTINGS[value]} (now: {WEIGHTINGS[now.weighting]})")
        elif name == "scoring_weights":
            words.append(f"Scoring weights: {_weights(value)} (now {_weights(now.scoring_weights)})")
        else:
            words.append(f"Standing rules, replaced by: “{value}”")
    return words


def _weights(weights: dict[str, int]) -> str:
    return ", ".join(f"{part} {weight} %" for part, weight in scoring.every_weight(weights).items())


def _my_part(session: Session, member: Member, proposal: Proposal) -> MyPartPublic:
    sale = proposal.kind == proposals.SALE
    settled = proposal.status in (proposals.CLOSED, proposals.EXECUTED, proposals.EXPIRED)
    return MyPartPublic(
        elector=proposals.is_elector(session, proposal, member),
        voted=ballots.has_voted(session, proposal, member),
        opted_out=consent.opted_out(session, member, proposal) if sale else None,
        included=(member.id in consent.included(session, proposal)) if sale and settled else None,
    )


def proposal_public(session: Session, member: Member, proposal: Proposal) -> ProposalPublic:
    terms = terms_from(proposal.terms)
    if isinstance(terms, SaleTerms):
        words = sale_in_words(session, terms, proposal, member)
    else:
        words = policy_in_words(session, terms)
    return ProposalPublic(
        id=proposal.id,
        kind=proposal.kind,  # type: ignore[arg-type]
        status=proposal.status,  # type: ignore[arg-type]
        outcome=proposal.outcome,  # type: ignore[arg-type]
        title=proposal.title,
        created_utc=proposal.created_utc,
        opened_utc=proposal.opened_utc,
        closes_utc=proposal.closes_utc,
        closed_utc=proposal.closed_utc,
        executed_utc=proposal.executed_utc,
        terms=dict(proposal.terms),
        in_words=words,
        rules=RulesPublic.model_validate(proposal.rules) if proposal.rules else None,
        electorate_size=proposal.electorate_size,
        tally=TallyPublic.model_validate(proposal.tally) if proposal.tally else None,
        me=_my_part(session, member, proposal),
    )


def proposals_of(session: Session, member: Member) -> list[ProposalPublic]:
    return [proposal_public(session, member, p) for p in proposals.visible(session, member)]


def ballots_public(session: Session, proposal: Proposal) -> BallotsPublic:
    secret = proposal.tally is None
    published = [] if secret else ballots.published(session, proposal)
    return BallotsPublic(
        proposal_id=proposal.id,
        published=not secret,
        outcome=proposal.outcome,
        electorate_size=proposal.electorate_size,
        tally=None if secret else TallyPublic.model_validate(proposal.tally),
        ballots=[BallotPublic(tracking_code=b.tracking_code, choice=b.choice, weight=b.weight) for b in published],  # type: ignore[arg-type]
        ballots_sha256=None if secret else ballots.digest(published),
    )


def consent_public(session: Session, member: Member) -> ConsentPublic:
    prefs = consent.preferences(session, member)
    return ConsentPublic(
        never_sell=prefs.never_sell,
        aggregates_only=prefs.aggregates_only,
        excluded_purposes=list(prefs.excluded_purposes),
        emails=list(prefs.emails),
    )


def policy_public(session: Session) -> PolicyPublic:
    in_force = policy.current(session).to_json()
    weights = scoring.every_weight(in_force["scoring_weights"])
    return PolicyPublic(**(in_force | {"scoring_weights": weights}), capacity_per_day=waitlist.capacity(session))


def application_public(row: BuyerApplication) -> BuyerApplicationPublic:
    return BuyerApplicationPublic.model_validate(row)


def dashboard_votes(session: Session, member: Member) -> list[ProposalPublic]:
    """What the dashboard tells a member about votes: those open now, and results of the last ones closed."""
    shown = [p for p in proposals.visible(session, member) if p.status != proposals.DRAFT]
    open_now = [p for p in shown if p.status == proposals.OPEN]
    results = [p for p in shown if p.closed_utc is not None][:5]
    return [proposal_public(session, member, p) for p in open_now + results]
