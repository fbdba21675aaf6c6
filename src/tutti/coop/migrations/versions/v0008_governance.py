"""Governance: buyer applications, the policy in force, proposals, electors, the voter roll and ballot boxes
(one row per proposal each), opt-outs, the members a sale includes, and members' consent.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None


def _member_fk(table: str, column: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], ["member.id"], name=op.f(f"fk_{table}_{column}_member"), ondelete=ondelete)


def _proposal_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["proposal_id"], ["proposal.id"], name=op.f(f"fk_{table}_proposal_id_proposal"), ondelete="CASCADE"
    )


def _pair(table: str) -> list[SchemaItem]:
    """A (proposal, member) pair table's columns and keys."""
    return [
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        _proposal_fk(table),
        _member_fk(table, "member_id", "CASCADE"),
        sa.PrimaryKeyConstraint("proposal_id", "member_id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    op.create_table(
        "buyer_application",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(36), nullable=True),
        sa.Column("decided_utc", sa.DateTime(timezone=True), nullable=True),
        _member_fk("buyer_application", "member_id", "CASCADE"),
        _member_fk("buyer_application", "decided_by", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_application")),
    )
    op.create_index(op.f("ix_buyer_application_member_id"), "buyer_application", ["member_id"])
    op.create_table(
        "governance_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("proposal_id", sa.String(36), nullable=True),
        sa.Column("changed_utc", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_policy")),
    )
    op.create_table(
        "proposal",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("author_id", sa.String(36), nullable=True),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=True),
        sa.Column("electorate_size", sa.Integer(), nullable=True),
        sa.Column("tally", sa.JSON(), nullable=True),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closes_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("executed_utc", sa.DateTime(timezone=True), nullable=True),
        _member_fk("proposal", "author_id", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal")),
    )
    op.create_index(op.f("ix_proposal_status"), "proposal", ["status"])
    op.create_index(op.f("ix_proposal_author_id"), "proposal", ["author_id"])
    op.create_table("elector", *_pair("elector"), sa.Column("weight", sa.Integer(), nullable=False))
    op.create_table(
        "voter_roll",
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("voted", sa.JSON(), nullable=False),
        _proposal_fk("voter_roll"),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_voter_roll")),
    )
    op.create_table(
        "ballot_box",
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("ballots", sa.JSON(), nullable=False),
        sa.Column("published", sa.Boolean(), nullable=False),
        _proposal_fk("ballot_box"),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_ballot_box")),
    )
    op.create_table("sale_opt_out", *_pair("sale_opt_out"))
    op.create_table("sale_inclusion", *_pair("sale_inclusion"))
    op.create_table(
        "consent",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("never_sell", sa.Boolean(), nullable=False),
        sa.Column("aggregates_only", sa.Boolean(), nullable=False),
        sa.Column("excluded_purposes", sa.JSON(), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("updated_utc", sa.DateTime(timezone=True), nullable=False),
        _member_fk("consent", "member_id", "CASCADE"),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_consent")),
    )


def downgrade() -> None:
    for table in ("consent", "sale_inclusion", "sale_opt_out", "ballot_box", "voter_roll", "elector"):
        op.drop_table(table)
    op.drop_index(op.f("ix_proposal_author_id"), table_name="proposal")
    op.drop_index(op.f("ix_proposal_status"), table_name="proposal")
    op.drop_table("proposal")
    op.drop_table("governance_policy")
    op.drop_index(op.f("ix_buyer_application_member_id"), table_name="buyer_application")
    op.drop_table("buyer_application")
