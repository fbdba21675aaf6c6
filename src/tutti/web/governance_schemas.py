"""What the governance API takes and gives back: buyers, proposals, votes, receipts, published ballots, consent.

Kept beside ``schemas`` (whose conventions it follows: ``*Create``/``*Update`` in, ``*Public`` out, plain pydantic)
so the governance contract reads in one place. Choices are closed lists the domain declares
(``tutti.coop.governance``); a value the schema admits but a rule refuses (an unknown currency) answers 400.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, model_validator

from tutti.coop.models import Role
from tutti.web.schemas import WholeNumber

BuyerKind = Literal["ai-developer", "researcher", "music-business", "other"]
Purpose = Literal["ai-training", "research", "music-industry", "product-analytics", "advertising"]
DataKind = Literal["aggregates", "per-member", "rows"]
Delivery = Literal["files", "query"]
Threshold = Literal["simple", "super"]
Weighting = Literal["equal", "banded"]
Choice = Literal["yes", "no", "abstain"]
EmailKind = Literal["opened", "closing", "result"]


def _not_a_flag(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a number or a text is expected, not true or false")
    return value


# A recipe's parameter: JSON Schema's integer, number or string, never a flag (pydantic would read true as 1).
ParameterValue = Annotated[int | float | str, BeforeValidator(_not_a_flag)]


# Bounded whole numbers of optional fields: the bounds sit inside the type so the schema carries them; that a
# flag is no number is checked by ``_Request`` (a before-validator inside a union would hide the bounds).
Fee = Annotated[int, Field(ge=0, le=10_000)]
Capacity = Annotated[int, Field(ge=0, le=1_000_000)]
Percent = Annotated[int, Field(ge=1, le=100)]
VotingDays = Annotated[int, Field(ge=1, le=60)]
Weight = Annotated[int, Field(ge=0, le=1000)]
ScoringPart = Literal["volume", "span", "diversity", "richness"]


def _flags(value: object) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, dict):
        return any(isinstance(v, bool) for v in value.values())
    return False


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_flag_for_a_number(cls, data: object) -> object:
        if isinstance(data, dict):
            for name, value in data.items():
                field = cls.model_fields.get(name)
                if field is not None and field.annotation is not bool and _flags(value):
                    raise ValueError(f"{name}: a number or a text is expected, not true or false")
        return data


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RoleUpdate(_Request):
    role: Role


class MemberRolePublic(_Public):
    member_id: str
    role: Role


class BuyerApplicationCreate(_Request):
    organisation: str = Field(min_length=1, max_length=200, examples=["Listening Lab"])
    kind: BuyerKind
    purpose: str = Field(min_length=1, max_length=4000, description="What the organisation wants data for.")


class BuyerApplicationPublic(_Public):
    id: str
    member_id: str
    organisation: str
    kind: str
    purpose: str
    status: str
    created_utc: datetime
    decided_utc: datetime | None


class BuyerDecision(_Request):
    approve: StrictBool


class RecipeChoiceBody(_Request):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$", examples=["artist-preferences"])
    version: WholeNumber = Field(1, ge=1, le=10_000)
    parameters: dict[str, ParameterValue] = Field(default_factory=dict, max_length=32)


class SaleCreate(_Request):
    """A sale drafted by the buyer asking: the buyer is always the one drafting."""

    title: str = Field(min_length=1, max_length=200)
    price_minor: WholeNumber = Field(ge=0, le=10**15, description="The price in the currency's minor units (cents).")
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"], description="ISO 4217.")
    purpose: str = Field(min_length=1, max_length=4000, description="What the data is for, in plain words.")
    purpose_category: Purpose
    data_kind: DataKind
    duration_days: WholeNumber = Field(
        ge=1, le=3660, description="How long the licence lasts; the data is deleted then."
    )
    delivery: Delivery
    recipe: RecipeChoiceBody


class PolicyCreate(_Request):
    """A change of policy: give only what changes (at least one)."""

    title: str = Field(min_length=1, max_length=200)
    fee_basis_points: Fee | None = Field(None, description="The cooperative's fee; 100 = 1 %.")
    capacity_per_day: Capacity | None = None
    quorum_percent: Percent | None = None
    threshold: Threshold | None = None
    voting_days: VotingDays | None = None
    weighting: Weighting | None = None
    scoring_weights: dict[ScoringPart, Weight] | None = Field(
        None,
        max_length=4,
        description="A percentage per part of a contribution's points (100 leaves a part as it is); parts not given "
        "keep their weight.",
    )
    standing_rules: str | None = Field(None, max_length=20_000)
    share_basis: Literal["points", "equal", "mix"] | None = None
    payout_minimum_minor: int | None = Field(None, ge=0, le=10**15, description="The smallest balance paid out.")


class OpenVoteCreate(_Request):
    voting_days: VotingDays | None = Field(None, description="Default: the policy's.")


class RulesPublic(_Public):
    quorum_percent: int
    threshold: str
    weighting: str


class TallyPublic(_Public):
    yes: int
    no: int
    abstain: int
    ballots: int


class MyPartPublic(_Public):
    """The caller's part in a proposal: whether they may vote, voted, opted out, and are included."""

    elector: bool
    voted: bool
    opted_out: bool | None = Field(description="For sales only.")
    included: bool | None = Field(description="For closed sales: whether the sale includes the caller's data.")


class ProposalPublic(_Public):
    id: str
    kind: Literal["sale", "policy"]
    status: Literal["draft", "open", "closed", "executed", "expired"]
    outcome: Literal["passed", "failed", "no-quorum"] | None
    title: str
    created_utc: datetime
    opened_utc: datetime | None
    closes_utc: datetime | None
    closed_utc: datetime | None
    executed_utc: datetime | None
    terms: dict[str, object] = Field(description="The typed, versioned terms as stored (``version`` names them).")
    in_words: list[str] = Field(description="The terms in plain words, as members read them before voting.")
    rules: RulesPublic | None = Field(description="Frozen when the vote opened.")
    electorate_size: int | None
    tally: TallyPublic | None = Field(description="Only once the vote has closed: never a running count.")
    me: MyPartPublic


class VoteCreate(_Request):
    choice: Choice


class VoteChange(_Request):
    tracking_code: str = Field(min_length=1, max_length=40)
    secret: str = Field(min_length=1, max_length=200)
    choice: Choice


class ReceiptPublic(_Public):
    proposal_id: str
    tracking_code: str = Field(description="Find your ballot with it once the ballots are published.")
    secret: str = Field(description="Change your ballot with it until the vote closes. Shown to you only.")
    choice: Choice


class BallotPublic(_Public):
    tracking_code: str
    choice: Choice
    weight: int


class BallotsPublic(_Public):
    """Every ballot of a closed vote and the tally; empty and unpublished while the vote is secret."""

    proposal_id: str
    published: bool
    outcome: str | None
    electorate_size: int | None
    tally: TallyPublic | None
    ballots: list[BallotPublic]
    ballots_sha256: str | None = Field(description="The hash the log's proposal-closed event carries.")


class OptOutUpdate(_Request):
    opted_out: StrictBool


class OptOutPublic(_Public):
    proposal_id: str
    opted_out: bool


class ConsentUpdate(_Request):
    never_sell: StrictBool
    aggregates_only: StrictBool
    excluded_purposes: list[Purpose] = Field(default_factory=list, max_length=5)
    emails: list[EmailKind] = Field(default_factory=list, max_length=3, description="Governance emails wanted.")


class ConsentPublic(_Public):
    never_sell: bool
    aggregates_only: bool
    excluded_purposes: list[str]
    emails: list[str]


class PolicyPublic(_Public):
    fee_basis_points: int
    quorum_percent: int
    threshold: str
    voting_days: int
    weighting: str
    scoring_weights: dict[str, int] = Field(description="Every part of a contribution's points with its percentage.")
    standing_rules: str
    capacity_per_day: int
    share_basis: str
    payout_minimum_minor: int
