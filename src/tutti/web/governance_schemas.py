"""What the governance API takes and gives back: buyers, proposals, votes, receipts, published ballots, consent.

Kept beside ``schemas`` (whose conventions it follows: ``*Create``/``*Update`` in, ``*Public`` out, plain pydantic)
so the governance contract reads in one place. Choices are closed lists the domain declares
(``tutti.coop.governance``); a value the schema admits but a rule refuses (an unknown currency) answers 400.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tutti.coop.models import Role

BuyerKind = Literal["ai-developer", "researcher", "music-business", "other"]
Purpose = Literal["ai-training", "research", "music-industry", "product-analytics", "advertising"]
DataKind = Literal["aggregates", "per-member", "rows"]
Delivery = Literal["files", "query"]
Threshold = Literal["simple", "super"]
Weighting = Literal["equal", "banded"]
Choice = Literal["yes", "no", "abstain"]
EmailKind = Literal["opened", "closing", "result"]
ParameterValue = int | float | str


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    approve: bool


class RecipeChoiceBody(_Request):
    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$", examples=["artist-preferences"])
    version: int = Field(1, ge=1, le=10_000)
    parameters: dict[str, ParameterValue] = Field(default_factory=dict, max_length=32)


class SaleCreate(_Request):
    """A sale drafted by the buyer asking: the buyer is always the one drafting."""

    title: str = Field(min_length=1, max_length=200)
    price_minor: int = Field(ge=0, le=10**15, description="The price in the currency's minor units (cents).")
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"], description="ISO 4217.")
    purpose: str = Field(min_length=1, max_length=4000, description="What the data is for, in plain words.")
    purpose_category: Purpose
    data_kind: DataKind
    duration_days: int = Field(ge=1, le=3660, description="How long the licence lasts; the data is deleted then.")
    delivery: Delivery
    recipe: RecipeChoiceBody


class PolicyCreate(_Request):
    """A change of policy: give only what changes (at least one)."""

    title: str = Field(min_length=1, max_length=200)
    fee_basis_points: int | None = Field(None, ge=0, le=10_000, description="The cooperative's fee; 100 = 1 %.")
    capacity_per_day: int | None = Field(None, ge=0, le=1_000_000)
    quorum_percent: int | None = Field(None, ge=1, le=100)
    threshold: Threshold | None = None
    voting_days: int | None = Field(None, ge=1, le=60)
    weighting: Weighting | None = None
    scoring_weights: dict[str, int] | None = Field(None, max_length=16)
    standing_rules: str | None = Field(None, max_length=20_000)
    share_basis: Literal["points", "equal", "mix"] | None = None
    payout_minimum_minor: int | None = Field(None, ge=0, le=10**15, description="The smallest balance paid out.")


class OpenVoteCreate(_Request):
    voting_days: int | None = Field(None, ge=1, le=60, description="Default: the policy's.")


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
    opted_out: bool


class OptOutPublic(_Public):
    proposal_id: str
    opted_out: bool


class ConsentUpdate(_Request):
    never_sell: bool
    aggregates_only: bool
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
    scoring_weights: dict[str, int]
    standing_rules: str
    capacity_per_day: int
    share_basis: str
    payout_minimum_minor: int
