"""What the JSON API takes (``*Create``/``*Update``) and gives back (``*Public``), typed once for the server, the
OpenAPI document and the ``tutti coop contribute`` client.

Plain pydantic, no FastAPI import: the command-line client reads server answers with these same classes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from tutti.coop.models import ContributionStatus, Role, Status

# Matches the member table's column and members.passwords.MAX_PASSWORD: longer input is refused before any hashing.
MAX_EMAIL = 320
MAX_PASSWORD = 1024


def _not_a_boolean(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("a number is expected, not true or false")
    return value


# A whole number as JSON Schema means it: 3 and 3.0 are, ``false`` is not (pydantic would read it as 0).
WholeNumber = Annotated[int, BeforeValidator(_not_a_boolean)]


# Integer columns are 32-bit on PostgreSQL: a larger id or position names nothing, and is refused as input.
MAX_DB_INT = 2**31 - 1


class _Request(BaseModel):
    """A request body."""


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class SignupCreate(_Request):
    email: str = Field(max_length=MAX_EMAIL, examples=["ada@example.org"])
    password: str = Field(
        max_length=MAX_PASSWORD,
        description="10 to 1024 characters, hard to guess (not a common password, a repeat or the email).",
    )


class LoginCreate(_Request):
    email: str = Field(max_length=MAX_EMAIL)
    password: str = Field(max_length=MAX_PASSWORD)


class MemberPublic(_Public):
    id: str
    email: str | None
    role: Role
    status: Status
    created_utc: datetime
    activated_utc: datetime | None
    waitlist_position: int | None = Field(None, description="1-based place in the queue while waitlisted.")


class SignupAccepted(BaseModel):
    """The one answer to a signup, whether or not the email already had an account."""

    detail: str


class SessionPublic(_Public):
    """A login: the session itself travels as an HttpOnly cookie; form posts and API calls made with that cookie
    send ``csrf_token`` back in the ``X-CSRF-Token`` header."""

    member: MemberPublic
    csrf_token: str


class WaitlistPositionPublic(_Public):
    status: Status
    position: int | None
    waiting: int
    capacity_per_day: int


TokenScope = Literal["contribute", "read", "account"]


def _contribute_only() -> list[TokenScope]:
    return ["contribute"]


class TokenCreate(_Request):
    name: str = Field("", max_length=100, examples=["laptop uploads"])
    scopes: list[TokenScope] = Field(
        default_factory=_contribute_only,
        min_length=1,
        max_length=3,
        description="What the token may do: `contribute` (upload, follow uploads), `read` (the member's data), "
        "`account` (tokens, export, withdrawal). Ask for the fewest that do the job.",
    )
    expires_in_days: int = Field(90, ge=1, le=365, description="Days until the token stops working.")


class TokenPublic(_Public):
    id: int
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it by.")
    scopes: list[TokenScope] = Field(validation_alias=AliasChoices("scope_names", "scopes"))
    created_utc: datetime
    expires_utc: datetime | None = Field(description="None for tokens made before tokens expired.")
    last_used_utc: datetime | None
    revoked_utc: datetime | None


class TokenCreated(TokenPublic):
    secret: str = Field(description="The token itself: shown this once, never stored.")


class FileReportPublic(_Public):
    name: str
    format: str | None
    plays: int
    problems: int
    implausible: int
    problem_examples: list[str]
    skipped: dict[str, int]
    unread_reason: str | None


class FilePairPublic(_Public):
    file_a: str
    file_b: str
    shared: int
    disagreeing: int


class ConsistencyPublic(_Public):
    pairs: list[FilePairPublic]
    shared: int
    disagreeing: int
    passed: bool
    reason: str


class CheckPublic(_Public):
    name: str
    value: float | None
    threshold: str
    applicable: bool
    passed: bool
    critical: bool
    penalty: int
    reason: str


class PlausibilityPublic(_Public):
    checks: list[CheckPublic]
    score: int
    passed: bool
    reasons: list[str]


class CopyCheckPublic(_Public):
    """How close the upload is to another member's history (never whose)."""

    similarity: float
    method: str
    near_copy: bool
    compared_members: int
    reason: str


class ScoreItemPublic(_Public):
    name: str
    points: int
    explanation: str


class ScorePublic(_Public):
    items: list[ScoreItemPublic]


class ContributionReportPublic(_Public):
    """The validation report of one upload, itemised: files, checks with measured values, copy check, score.

    ``erased_utc`` is set once the member withdrew: the report was blanked then."""

    contribution_id: str
    status: ContributionStatus
    created_utc: datetime | None = None
    erased_utc: datetime | None = None
    reasons: list[str]
    codes: list[str] = Field(default_factory=list, description="The reasons as stable codes.")
    files: list[FileReportPublic]
    problems: int
    plays_read: int
    plays_distinct: int
    plays_added: int
    consistency: ConsistencyPublic | None
    plausibility: PlausibilityPublic | None
    # Named copy_check: ``copy`` would shadow a pydantic method.
    copy_check: CopyCheckPublic | None
    score: ScorePublic | None
    points: int


class ProgressPublic(_Public):
    """How far the validation of a pending upload is: ``done`` of ``total`` steps (one per file read, then one per
    stage), and what is under way. ``state`` is ``queued`` until a worker takes the job, then ``running``."""

    state: Literal["queued", "running"]
    done: int
    total: int | None
    note: str
    attempt: int


class ContributionPublic(_Public):
    """One upload: ``pending`` with its ``progress`` while it is being validated, then ``accepted`` or
    ``rejected`` with its ``report``."""

    contribution_id: str
    status: ContributionStatus
    created_utc: datetime
    progress: ProgressPublic | None = None
    report: ContributionReportPublic | None = None


class ContributionSummaryPublic(_Public):
    id: str
    created_utc: datetime
    status: ContributionStatus
    formats: str | None
    plays_added: int
    points: int
    reasons: list[str]


class PoolSharePublic(_Public):
    """The member's plays in the pool, counted from the pool files themselves."""

    plays: int
    files: int
    by_source: dict[str, int]
    first_play_utc: datetime | None
    last_play_utc: datetime | None


class DataUsePublic(_Public):
    description: str
    when_utc: datetime


class DataUsesPublic(_Public):
    uses: list[DataUsePublic]
    note: str


class WithdrawalCreate(_Request):
    confirm: Literal["withdraw"] = Field(description='The word "withdraw": erasure cannot be undone.')
    forfeit_balance: StrictBool = Field(
        False, description="With a balance left: it goes to the cooperative's fee account (the 409 says how much)."
    )


class WithdrawalProofPublic(_Public):
    member_id: str
    member_rows_before: int
    member_rows_after: int
    pool_rows_before: int
    pool_rows_after: int
    pool_files_removed: int
    blobs_destroyed: int
    key_destroyed: bool
    status: str
    withdrawn_utc: datetime
    excluded_from_sales: bool
    erased: bool


class OnboardingPublic(_Public):
    capacity_per_day: int
    admitted_today: int
    remaining_today: int
    waiting: int


class WaitlistEntryPublic(_Public):
    position: int
    member_id: str
    created_utc: datetime


class FlaggedContributionPublic(_Public):
    contribution_id: str
    created_utc: datetime
    member_id: str
    matched_member_id: str | None
    similarity: float | None
    method: str | None
    reasons: list[str]


class HeldContributionPublic(_Public):
    contribution_id: str
    member_id: str
    created_utc: datetime
    plays_read: int
    first_play_utc: datetime | None
    last_play_utc: datetime | None
    reaches_further: bool = Field(description="Its plays reach later than any other member's in the case.")
    share: float | None = Field(description="The larger share of content it shares with the history it matched.")


class CopyCasePublic(_Public):
    case_id: str
    opened_utc: datetime
    resolved_utc: datetime | None
    owner_member_id: str | None
    resolution: str | None
    contributions: list[HeldContributionPublic]


class CaseResolution(BaseModel):
    owner_member_id: str | None = Field(
        default=None, max_length=36, description="Whose history it is; none with the resolution `no-owner`."
    )
    resolution: Literal["newer-export", "steward-evidence", "no-owner"]


class ResolvedCasePublic(_Public):
    case_id: str
    owner_member_id: str | None
    released: list[str]
    refused: list[str]


class ErrorPublic(BaseModel):
    """A refusal: one sentence that says what was refused and why."""

    detail: str


LogValue = str | int | float | bool | None | list[str]


class LogEntryPublic(_Public):
    """One entry of the audit log as anyone may read it: ids and codes, never an email or a file name."""

    seq: int
    kind: str
    created_utc: datetime
    member_id: str | None
    payload: dict[str, LogValue]
    prev_hash: str
    hash: str
    signature: str = Field(description="Ed25519 signature of the entry's hash, base64.")


class LogCheckpointPublic(_Public):
    """A signed checkpoint (C2SP signed note): keep it, and check later logs against it."""

    size: int
    root_hash: str = Field(description="The Merkle tree head of the first `size` entries, hex.")
    note: str


class LogProofPublic(_Public):
    """A Merkle proof (RFC 9162): hashes in order, hex."""

    proof: list[str]
