"""Personal text sealed with the member's key, and withdrawals recorded step by step.

``member`` gains the email's lookup hash and sealed form, ``contribution`` its sealed report, and ``withdrawal``
records each withdrawal's progress. Existing plain addresses and reports are sealed when the cooperative next
opens (``tutti.coop.members.emails.seal_plain_rows``), not here: sealing needs the master key, which migrations
never see. Columns are added and indexes created in place (no table is rebuilt: rebuilding ``member`` on SQLite
would cascade deletes through its foreign keys).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("member", sa.Column("email_lookup", sa.String(64), nullable=True))
    op.add_column("member", sa.Column("email_sealed", sa.LargeBinary(), nullable=True))
    op.create_index(op.f("ix_member_email_lookup"), "member", ["email_lookup"], unique=True)
    op.add_column("contribution", sa.Column("sealed_report", sa.LargeBinary(), nullable=True))
    op.create_table(
        "withdrawal",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column(
            "step",
            sa.Enum(
                "decided",
                "files-removed",
                "key-destroyed",
                "done",
                name="withdrawal_step",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("member_rows", sa.BigInteger(), nullable=False),
        sa.Column("pool_rows", sa.BigInteger(), nullable=False),
        sa.Column("pool_files", sa.Integer(), nullable=False),
        sa.Column("blobs", sa.Integer(), nullable=False),
        sa.Column("started_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_utc", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_withdrawal_member_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_withdrawal")),
    )


def downgrade() -> None:
    op.drop_table("withdrawal")
    op.drop_column("contribution", "sealed_report")
    op.drop_index(op.f("ix_member_email_lookup"), table_name="member")
    op.drop_column("member", "email_sealed")
    op.drop_column("member", "email_lookup")
