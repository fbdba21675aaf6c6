"""The cooperative's tables, typed. The schema itself changes only through ``tutti.coop.migrations``.

No personal text is stored in plain: a member's email is sealed with their own data key and found by a keyed
hash (``tutti.coop.members.emails``), reports quoting an upload's files are sealed the same way, so destroying
the key erases them from every page, WAL segment and backup that holds them. The pool and the audit log know a
member by ``id`` (a random UUID) and the pool by ``pseudonym`` (128 random bits, never derived from the email).
Times are UTC, timezone-aware.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Dialect,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so migrations can refer to them on both SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
GENESIS_HASH = "0" * 64


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


def new_pseudonym() -> str:
    return secrets.token_hex(16)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite keeps no offset, so UTC is implied there)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Role(StrEnum):
    MEMBER = "member"
    STEWARD = "steward"
    BUYER = "buyer"


class Status(StrEnum):
    WAITLISTED = "waitlisted"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"


class ContributionStatus(StrEnum):
    PENDING = "pending"  # stored sealed, waiting for (or in) its validation job
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    HELD = "held"  # matched another history: waits for a steward, earns nothing, nothing of it in the pool


class WithdrawalStep(StrEnum):
    """Where a withdrawal is: each step is committed before the next begins (``members.withdrawal``)."""

    DECIDED = "decided"  # the member is withdrawn and their rows erased; their files are still to go
    FILES_REMOVED = "files-removed"
    KEY_DESTROYED = "key-destroyed"
    DONE = "done"  # and the database scrubbed (SQLite WAL checkpointed and truncated, PostgreSQL vacuumed)


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


def _enum(cls: type[StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK: no PostgreSQL enum type to migrate when a value is added.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Cooperative(Base):
    """The one cooperative this database serves, its log signing key and the head of its audit chain."""

    __tablename__ = "cooperative"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    name: Mapped[str] = mapped_column(String(200))
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    signing_public_key: Mapped[bytes] = mapped_column(LargeBinary)
    signing_key_wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    audit_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    # Which master key wraps the keys held here (``_keywrap.master_key_id``), and how many rotations made it.
    master_key_id: Mapped[str | None] = mapped_column(String(16))
    master_key_generation: Mapped[int] = mapped_column(Integer, default=1)


class Member(Base):
    __tablename__ = "member"
    __table_args__ = (CheckConstraint("email = lower(email)", name="email_lowercase"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # The plain address of databases from before emails were sealed; sealed and emptied when the cooperative
    # opens (``emails.seal_plain_rows``), None ever after.
    plain_email: Mapped[str | None] = mapped_column("email", String(320), unique=True)
    # HMAC-SHA256 of the normalised address under a key derived from the master key (login finds the member by
    # it), and the address sealed with the member's data key. Both None once the member withdrew.
    email_lookup: Mapped[str | None] = mapped_column(String(64), index=True, unique=True)
    email_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), default=Role.MEMBER)
    status: Mapped[Status] = mapped_column(_enum(Status, "status"), default=Status.WAITLISTED)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    activated_utc: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    withdrawn_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the member followed the link mailed at signup; no login before (``accounts.confirm_email``).
    email_confirmed_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True, default=new_pseudonym)

    @property
    def is_active(self) -> bool:
        return self.status is Status.ACTIVE


class LoginSession(Base):
    __tablename__ = "login_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    csrf_secret: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100), default="")
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Space-separated names of ``tutti.coop.members.tokens.SCOPES``; tokens older than scopes hold all of them.
    scopes: Mapped[str] = mapped_column(String(100), server_default="contribute read account")
    expires_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def revoked(self) -> bool:
        return self.revoked_utc is not None

    @property
    def scope_names(self) -> list[str]:
        return self.scopes.split()


class MemberKey(Base):
    """A member's data key, wrapped by the master key; ``wrapped_key`` is None once destroyed."""

    __tablename__ = "member_key"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), unique=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    destroyed_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Withdrawal(Base):
    """A member's withdrawal, step by step: an interrupted one is completed when the cooperative next opens."""

    __tablename__ = "withdrawal"

    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    step: Mapped[WithdrawalStep] = mapped_column(_enum(WithdrawalStep, "withdrawal_step"))
    # What the withdrawal found when it was decided, for the member's proof.
    member_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    pool_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    pool_files: Mapped[int] = mapped_column(Integer, default=0)
    blobs: Mapped[int] = mapped_column(Integer, default=0)
    started_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WaitlistEntry(Base):
    """A member waiting for admission; the queue is ordered by ``created_utc`` then ``id``."""

    __tablename__ = "waitlist_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), unique=True)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class OnboardingPolicy(Base):
    """One row per change of the daily capacity; the latest row is in force."""

    __tablename__ = "onboarding_policy"
    __table_args__ = (CheckConstraint("capacity_per_day >= 0", name="capacity_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capacity_per_day: Mapped[int] = mapped_column(Integer)
    # None for the founding policy, set from the server's settings.
    changed_by: Mapped[str | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    changed_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """One link of the signed hash chain; ``payload`` is the canonical JSON the hash covers, kept verbatim."""

    __tablename__ = "audit_event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64))
    # No foreign key: the log outlives every row it mentions.
    member_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[bytes] = mapped_column(LargeBinary)


class LogCheckpoint(Base):
    """A signed checkpoint of the audit log (``tutti.coop.audit.checkpoint``): its size, tree head and signed note.

    Kept here to serve them; the copies that matter are those outside the database (files beside it, members'
    pages and receipts), which a rewrite of the database cannot reach.
    """

    __tablename__ = "log_checkpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, unique=True)
    root_hash: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class Contribution(Base):
    """One uploaded export and what validation made of it; the accepted plays live encrypted at ``blob_path``."""

    __tablename__ = "contribution"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    status: Mapped[ContributionStatus] = mapped_column(_enum(ContributionStatus, "contribution_status"))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    blob_path: Mapped[str | None] = mapped_column(String(500))
    plays_added: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[bytes | None] = mapped_column(LargeBinary)
    export_label: Mapped[str | None] = mapped_column(String(200))
    # The report as decided, sealed with the member's data key (it names the upload's files and may quote its
    # records); ``report`` then holds nothing, and ``reasons`` only reason codes.
    sealed_report: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The validation job of an upload (set while and after it runs), and the sealed upload it reads.
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
    upload_path: Mapped[str | None] = mapped_column(String(500))
    # The copy case a held contribution belongs to (kept once resolved, for the record).
    case_id: Mapped[str | None] = mapped_column(ForeignKey("copy_case.id", ondelete="SET NULL"), index=True)


class CopyCase(Base):
    """Histories found to share their content: held together until a steward says whose they are.

    ``resolution`` is a reason code (``tutti.coop.contributions.cases.RESOLUTIONS``), never free text.
    """

    __tablename__ = "copy_case"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    opened_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    owner_member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    resolution: Mapped[str | None] = mapped_column(String(32))
    resolved_by: Mapped[str | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))


class HistoryShingle(Base):
    """The copy index: sampled shingles (``contributions.fingerprint``) of accepted and held contributions."""

    __tablename__ = "history_shingle"
    __table_args__ = (Index("ix_history_shingle_shingle", "shingle"),)

    contribution_id: Mapped[str] = mapped_column(ForeignKey("contribution.id", ondelete="CASCADE"), primary_key=True)
    shingle: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)


class TrackEvidence(Base):
    """What members' pooled plays show of tracks, with no member id: per track, its length (``kind`` ``length``);
    per Spotify track URI, the track it names (``uri``). ``value`` is the side with the most votes, ``votes`` how
    many more agree with it than not (``contributions.evidence``); keys and names are hashes."""

    __tablename__ = "track_evidence"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(32))
    votes: Mapped[int] = mapped_column(Integer)


class Job(Base):
    """Background work: queued, claimed by one worker under a lease, retried, done or failed.

    ``lease_token`` fences a worker: only the holder of the current token may record progress or the outcome,
    so a worker that lost its lease (it stalled past ``lease_expires_utc`` and another took the job) changes
    nothing. ``unique_key`` keeps one live job per subject (a contribution, a day's housekeeping).
    """

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index("ix_job_status_run_after_utc", "status", "run_after_utc"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"), default=JobStatus.QUEUED)
    unique_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    run_after_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_token: Mapped[str | None] = mapped_column(String(32))
    lease_expires_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    progress_done: Mapped[int] = mapped_column(BigInteger, default=0)
    progress_total: Mapped[int | None] = mapped_column(BigInteger)
    progress_note: Mapped[str] = mapped_column(String(200), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # A code and a sentence for the operator; never personal data (file names, emails) or a traceback.
    error: Mapped[str | None] = mapped_column(String(500))
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    started_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PoolFile(Base):
    """Every file of the pool, written in the same transaction as the file itself (``tutti.coop.staged``).

    Counts come from here, not from listing folders or opening files; ``member_key_id`` is the key the file is
    sealed under, ``schema_version`` and ``identity_version`` the contracts it was written by.
    """

    __tablename__ = "pool_file"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(500), unique=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    contribution_id: Mapped[str] = mapped_column(ForeignKey("contribution.id", ondelete="CASCADE"), index=True)
    member_key_id: Mapped[int] = mapped_column(ForeignKey("member_key.id", ondelete="CASCADE"))
    rows: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger)
    schema_version: Mapped[int] = mapped_column(Integer)
    identity_version: Mapped[int] = mapped_column(Integer)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class RateLimitWindow(Base):
    """Attempts of one action by one subject in the current fixed window; ``key`` is a keyed hash, never the
    subject itself (which may be an email or a client address)."""

    __tablename__ = "rate_limit"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger)
    hits: Mapped[int] = mapped_column(Integer)


# --- Governance (``tutti.coop.governance``): buyers, proposals, secret ballots, consent, the policy in force. ---


class BuyerApplication(Base):
    """An organisation asking for a buyer account; a steward approves or refuses it (``governance.buyers``)."""

    __tablename__ = "buyer_application"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), index=True)
    organisation: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    decided_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class GovernancePolicy(Base):
    """One row per passed policy change (the founding row from the defaults); the latest row is in force."""

    __tablename__ = "governance_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The policy as a typed, versioned record (``governance.policy.Policy``).
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    # The proposal that made it (None for the founding defaults).
    proposal_id: Mapped[str | None] = mapped_column(String(36))
    changed_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class Proposal(Base):
    """A sale or a policy change, from draft to its binding end (``governance.proposals``).

    ``terms`` is the typed, versioned record of what is proposed; ``rules`` the quorum, threshold and weighting
    frozen when it opened; ``tally`` the count, written at close and never before.
    """

    __tablename__ = "proposal"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    outcome: Mapped[str | None] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    author_id: Mapped[str | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"), index=True)
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    electorate_size: Mapped[int | None] = mapped_column(Integer)
    tally: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    executed_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Elector(Base):
    """Who may vote on a proposal: the active members when it opened (written once, in one transaction)."""

    __tablename__ = "elector"

    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)


class VoterRoll(Base):
    """Who has voted on a proposal: one row per proposal, the member ids sorted, rewritten whole on each first
    vote; no time, no order of voting (``governance.ballots``)."""

    __tablename__ = "voter_roll"

    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    voted: Mapped[list[str]] = mapped_column(JSON, default=list)


class BallotBox(Base):
    """Every ballot of a proposal in one row, sorted by tracking code and rewritten whole on each vote, so no row,
    id, time or order ties a ballot to a voter (``governance.ballots``). ``published`` once the vote closed."""

    __tablename__ = "ballot_box"

    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    # [[tracking code, SHA-256 of the receipt's secret, choice, weight], ...], sorted by tracking code.
    ballots: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)
    published: Mapped[bool] = mapped_column(default=False)


class SaleOptOut(Base):
    """A member's opt-out from one sale, possible until its vote closes."""

    __tablename__ = "sale_opt_out"

    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)


class SaleInclusion(Base):
    """The members a passed sale includes, fixed when its vote closed (read through ``consent.included``, which
    leaves out anyone withdrawn since)."""

    __tablename__ = "sale_inclusion"

    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)


class Consent(Base):
    """A member's standing preferences about sales; no row means the defaults (``governance.consent``)."""

    __tablename__ = "consent"

    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    never_sell: Mapped[bool] = mapped_column(default=False)
    aggregates_only: Mapped[bool] = mapped_column(default=False)
    excluded_purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Which governance emails the member wants (``governance.notices.KINDS``).
    emails: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class Release(Base):
    """A passed sale's release (``sales.releases``): built by a job from the members the sale includes, then
    delivered to its buyer only. ``sealed_key`` is the release key (pseudonyms, watermark) wrapped by the master
    key; ``folder`` is relative to the data folder and holds the files and the manifest once ``status`` is ready."""

    __tablename__ = "release"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    recipe: Mapped[str] = mapped_column(String(64))
    recipe_version: Mapped[int] = mapped_column(Integer)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    engine: Mapped[str | None] = mapped_column(String(16))
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    watermark: Mapped[str] = mapped_column(String(32))
    folder: Mapped[str | None] = mapped_column(String(255))
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    members_included: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    failure: Mapped[str | None] = mapped_column(String(64))
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    built_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class ReleaseMember(Base):
    """Whose data went into a release, and how much (plays or list entries): what each member sees of the sale,
    and what the ledger splits by. No pseudonym of the release is kept: it is recomputed from the release key."""

    __tablename__ = "release_member"

    release_id: Mapped[str] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    used: Mapped[int] = mapped_column(BigInteger)


class PrivacySpend(Base):
    """One spend from a sale's privacy budget: a release built, or a buyer's query answered (``sales.budget``)."""

    __tablename__ = "privacy_spend"
    __table_args__ = (
        CheckConstraint("epsilon >= 0 AND delta >= 0", name="nonnegative"),
        CheckConstraint("(release_id IS NULL) <> (query_id IS NULL)", name="one_use"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    release_id: Mapped[str | None] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"))
    query_id: Mapped[str | None] = mapped_column(ForeignKey("buyer_query.id", ondelete="CASCADE"))
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float)
    what: Mapped[str] = mapped_column(String(200))
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class DownloadLink(Base):
    """A link to a release's files for its buyer: expires, and allows a number of downloads; only a hash of its
    token is kept."""

    __tablename__ = "download_link"
    __table_args__ = (CheckConstraint("downloads >= 0 AND downloads <= max_downloads", name="within_limit"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    release_id: Mapped[str] = mapped_column(ForeignKey("release.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    max_downloads: Mapped[int] = mapped_column(Integer)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class BuyerQuery(Base):
    """A buyer's aggregate query on a sale with query access (``sales.compute``): what was asked, what it cost,
    and how many rows the noisy answer had. Never SQL: a recipe and its parameters."""

    __tablename__ = "buyer_query"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), index=True)
    recipe: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    epsilon: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float)
    rows: Mapped[int] = mapped_column(Integer)
    members: Mapped[int] = mapped_column(Integer)
    at_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class SalePreview(Base):
    """What a sale's recipe would release, computed on the pool when its vote opened, with its privacy applied
    (``sales.preview``): counts for everyone, and the most common entries for members and stewards."""

    __tablename__ = "sale_preview"

    proposal_id: Mapped[str] = mapped_column(ForeignKey("proposal.id", ondelete="CASCADE"), primary_key=True)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_utc: Mapped[datetime] = mapped_column(UTCDateTime())


# --- The ledger (``tutti.coop.ledger``): accounts, immutable transfers of balanced postings, payouts, receipts. ---


class LedgerBook(Base):
    """The ledger's one currency (ISO 4217) and its minor units, fixed by the first transfer ever posted."""

    __tablename__ = "ledger_book"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False, default=1)
    currency: Mapped[str] = mapped_column(String(3))
    minor_units: Mapped[int] = mapped_column(Integer)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerAccount(Base):
    """An account: its posted totals are kept by the database itself (a trigger on ``ledger_posting``).

    ``id`` is random, never derived from a member: once ``owner_id`` is cleared at erasure, the account is
    pseudonymous and the books still balance. ``no_overdraft`` accounts refuse debits beyond their credits.
    """

    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint("debits_posted >= 0 AND credits_posted >= 0", name="totals_not_negative"),
        CheckConstraint("NOT no_overdraft OR debits_posted <= credits_posted", name="no_overdraft"),
        Index("ix_ledger_account_kind_owner_id", "kind", "owner_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    no_overdraft: Mapped[bool] = mapped_column(default=False)
    debits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    credits_posted: Mapped[int] = mapped_column(BigInteger, default=0)
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class LedgerTransfer(Base):
    """One idempotent, immutable transfer: its client key, what it is, and a digest of its content.

    A second post under ``key`` is a replay when ``digest`` matches (nothing changes) and refused otherwise.
    """

    __tablename__ = "ledger_transfer"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(24), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(BigInteger)
    # No foreign keys: the books outlive the proposals and batches they mention.
    proposal_id: Mapped[str | None] = mapped_column(String(36), index=True)
    batch_id: Mapped[str | None] = mapped_column(String(36))
    reverses: Mapped[str | None] = mapped_column(String(36))
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class LedgerPosting(Base):
    """One leg pair of a transfer: ``amount`` from ``debit_account_id`` to ``credit_account_id``, balanced by
    construction (as TigerBeetle's transfers are); never updated or deleted (triggers refuse it)."""

    __tablename__ = "ledger_posting"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("debit_account_id <> credit_account_id", name="two_accounts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfer.id"), index=True)
    debit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    credit_account_id: Mapped[str] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)


class PayoutDetails(Base):
    """Where a member is paid: ``method`` (iban, paypal, wise) and the details sealed with their data key."""

    __tablename__ = "payout_details"

    member_id: Mapped[str] = mapped_column(ForeignKey("member.id", ondelete="CASCADE"), primary_key=True)
    method: Mapped[str] = mapped_column(String(8))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    updated_utc: Mapped[datetime] = mapped_column(UTCDateTime())


class PayoutBatch(Base):
    """A steward's batch of payouts by one method: open (its money in transit), then sent, then closed."""

    __tablename__ = "payout_batch"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    method: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(8))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("member.id", ondelete="SET NULL"))
    created_utc: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PayoutLine(Base):
    """One member's payout in a batch: pending until marked paid or failed, exactly once."""

    __tablename__ = "payout_line"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payout_line_batch_id_account_id", "batch_id", "account_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("payout_batch.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(8))
    decided_utc: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ShareReceipt(Base):
    """A member's receipt for one payment or refund of a sale: its canonical JSON body (salted), its place in
    the tree of that transfer's receipts, and the log entry that signs the tree's root."""

    __tablename__ = "share_receipt"
    __table_args__ = (Index("ix_share_receipt_transfer_id_position", "transfer_id", "position", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("ledger_transfer.id"))
    account_id: Mapped[str] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    audit_seq: Mapped[int] = mapped_column(Integer)
