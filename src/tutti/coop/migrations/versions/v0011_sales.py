"""Sales: releases and whose data went into each, the privacy budget's spends, download links, buyers' queries,
and the preview of what a sale would release.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None


def _fk(table: str, column: str, target: str, ondelete: str = "CASCADE") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "release",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recipe", sa.String(64), nullable=False),
        sa.Column("recipe_version", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("engine", sa.String(16), nullable=True),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("watermark", sa.String(32), nullable=False),
        sa.Column("folder", sa.String(255), nullable=True),
        sa.Column("manifest_sha256", sa.String(64), nullable=True),
        sa.Column("members_included", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("failure", sa.String(64), nullable=True),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("built_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_utc", sa.DateTime(timezone=True), nullable=False),
        _fk("release", "proposal_id", "proposal"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release")),
        sa.UniqueConstraint("proposal_id", name=op.f("uq_release_proposal_id")),
    )
    op.create_index(op.f("ix_release_status"), "release", ["status"])
    op.create_table(
        "release_member",
        sa.Column("release_id", sa.String(36), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        _fk("release_member", "release_id", "release"),
        _fk("release_member", "member_id", "member"),
        sa.PrimaryKeyConstraint("release_id", "member_id", name=op.f("pk_release_member")),
    )
    op.create_table(
        "buyer_query",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("recipe", sa.String(64), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        sa.Column("at_utc", sa.DateTime(timezone=True), nullable=False),
        _fk("buyer_query", "proposal_id", "proposal"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_buyer_query")),
    )
    op.create_index(op.f("ix_buyer_query_proposal_id"), "buyer_query", ["proposal_id"])
    op.create_table(
        "privacy_spend",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("release_id", sa.String(36), nullable=True),
        sa.Column("query_id", sa.String(36), nullable=True),
        sa.Column("epsilon", sa.Float(), nullable=False),
        sa.Column("delta", sa.Float(), nullable=False),
        sa.Column("what", sa.String(200), nullable=False),
        sa.Column("at_utc", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("epsilon >= 0 AND delta >= 0", name=op.f("ck_privacy_spend_nonnegative")),
        sa.CheckConstraint("(release_id IS NULL) <> (query_id IS NULL)", name=op.f("ck_privacy_spend_one_use")),
        _fk("privacy_spend", "proposal_id", "proposal"),
        _fk("privacy_spend", "release_id", "release"),
        _fk("privacy_spend", "query_id", "buyer_query"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_spend")),
    )
    op.create_index(op.f("ix_privacy_spend_proposal_id"), "privacy_spend", ["proposal_id"])
    op.create_table(
        "download_link",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("release_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("max_downloads", sa.Integer(), nullable=False),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("created_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_utc", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("downloads >= 0 AND downloads <= max_downloads", name=op.f("ck_download_link_within_limit")),
        _fk("download_link", "release_id", "release"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_download_link_token_hash")),
    )
    op.create_index(op.f("ix_download_link_release_id"), "download_link", ["release_id"])
    op.create_table(
        "sale_preview",
        sa.Column("proposal_id", sa.String(36), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("computed_utc", sa.DateTime(timezone=True), nullable=False),
        _fk("sale_preview", "proposal_id", "proposal"),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_sale_preview")),
    )


def downgrade() -> None:
    op.drop_table("sale_preview")
    op.drop_table("download_link")
    op.drop_table("privacy_spend")
    op.drop_table("buyer_query")
    op.drop_table("release_member")
    op.drop_table("release")
