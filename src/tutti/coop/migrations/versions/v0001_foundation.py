"""Foundation: the cooperative, members, logins, API tokens, member keys, onboarding, audit log, contributions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _member_fk(table: str, column: str = "member_id", ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["member.id"], name=op.f(f"fk_{table}_{column}_member"), ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "cooperative",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.Column("signing_public_key", sa.LargeBinary(), nullable=False),
        sa.Column("signing_key_wrapped", sa.LargeBinary(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.Column("audit_head", sa.String(64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_cooperative_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cooperative")),
    )
    op.create_table(
        "member",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=True),
        sa.Column("role", _enum("role", "member", "steward", "buyer"), nullable=False),
        sa.Column("status", _enum("status", "waitlisted", "active", "withdrawn"), nullable=False),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.Column("activated_utc", _utc(), nullable=True),
        sa.Column("withdrawn_utc", _utc(), nullable=True),
        sa.Column("pseudonym", sa.String(32), nullable=False),
        sa.CheckConstraint("email = lower(email)", name=op.f("ck_member_email_lowercase")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member")),
        sa.UniqueConstraint("email", name=op.f("uq_member_email")),
        sa.UniqueConstraint("pseudonym", name=op.f("uq_member_pseudonym")),
    )
    op.create_index(op.f("ix_member_activated_utc"), "member", ["activated_utc"])
    op.create_table(
        "login_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.Column("expires_utc", _utc(), nullable=False),
        sa.Column("csrf_secret", sa.String(64), nullable=False),
        _member_fk("login_session"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_login_session_token_hash")),
    )
    op.create_index(op.f("ix_login_session_member_id"), "login_session", ["member_id"])
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.Column("last_used_utc", _utc(), nullable=True),
        sa.Column("revoked_utc", _utc(), nullable=True),
        _member_fk("api_token"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    op.create_index(op.f("ix_api_token_member_id"), "api_token", ["member_id"])
    op.create_table(
        "member_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.Column("destroyed_utc", _utc(), nullable=True),
        _member_fk("member_key"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_key")),
        sa.UniqueConstraint("member_id", name=op.f("uq_member_key_member_id")),
    )
    op.create_table(
        "waitlist_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("created_utc", _utc(), nullable=False),
        _member_fk("waitlist_entry"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entry")),
        sa.UniqueConstraint("member_id", name=op.f("uq_waitlist_entry_member_id")),
    )
    op.create_index(op.f("ix_waitlist_entry_created_utc"), "waitlist_entry", ["created_utc"])
    op.create_table(
        "onboarding_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capacity_per_day", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(36), nullable=True),
        sa.Column("changed_utc", _utc(), nullable=False),
        sa.CheckConstraint("capacity_per_day >= 0", name=op.f("ck_onboarding_policy_capacity_not_negative")),
        _member_fk("onboarding_policy", "changed_by", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_onboarding_policy")),
    )
    op.create_table(
        "audit_event",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=True),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_audit_event")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_event_hash")),
    )
    op.create_index(op.f("ix_audit_event_member_id"), "audit_event", ["member_id"])
    op.create_table(
        "contribution",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.Column("status", _enum("contribution_status", "accepted", "rejected"), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("blob_path", sa.String(500), nullable=True),
        sa.Column("plays_added", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(), nullable=True),
        sa.Column("export_label", sa.String(200), nullable=True),
        _member_fk("contribution"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contribution")),
    )
    op.create_index(op.f("ix_contribution_member_id"), "contribution", ["member_id"])
    op.create_table(
        "rate_limit",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limit")),
    )


def downgrade() -> None:
    # Children before the member table they point at; dropping a table drops its indexes.
    for table in (
        "rate_limit",
        "contribution",
        "audit_event",
        "onboarding_policy",
        "waitlist_entry",
        "member_key",
        "api_token",
        "login_session",
        "member",
        "cooperative",
    ):
        op.drop_table(table)
