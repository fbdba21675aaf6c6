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
