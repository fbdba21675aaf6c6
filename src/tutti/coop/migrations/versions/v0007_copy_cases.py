"""Copy detection by containment: the index of sampled shingles, copy cases, and contributions held for them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "copy_case",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("opened_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_utc", sa.DateTime(timezone=True), nullable=True),
        sa.Column("owner_member_id", sa.String(36), nullable=True),
        sa.Column("resolution", sa.String(32), nullable=True),
        sa.Column("resolved_by", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(
            ["owner_member_id"], ["member.id"], name=op.f("fk_copy_case_owner_member_id_member"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["member.id"], name=op.f("fk_copy_case_resolved_by_member"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_copy_case")),
    )
    op.create_table(
        "history_shingle",
        sa.Column("contribution_id", sa.String(36), nullable=False),
        sa.Column("shingle", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_history_shingle_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_history_shingle_member_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("contribution_id", "shingle", name=op.f("pk_history_shingle")),
    )
    op.create_index("ix_history_shingle_shingle", "history_shingle", ["shingle"])
    op.create_index(op.f("ix_history_shingle_member_id"), "history_shingle", ["member_id"])
    with op.batch_alter_table("contribution") as batch:
        batch.drop_constraint(op.f("ck_contribution_contribution_status"), type_="check")
        batch.create_check_constraint(
            "contribution_status", sa.text("status IN ('pending', 'accepted', 'rejected', 'held')")
        )
        batch.add_column(sa.Column("case_id", sa.String(36), nullable=True))
        batch.create_foreign_key(
            op.f("fk_contribution_case_id_copy_case"), "copy_case", ["case_id"], ["id"], ondelete="SET NULL"
        )
        batch.create_index(op.f("ix_contribution_case_id"), ["case_id"])


def downgrade() -> None:
    op.execute("UPDATE contribution SET status = 'rejected' WHERE status = 'held'")
    with op.batch_alter_table("contribution") as batch:
        batch.drop_index(op.f("ix_contribution_case_id"))
        batch.drop_constraint(op.f("fk_contribution_case_id_copy_case"), type_="foreignkey")
        batch.drop_column("case_id")
        batch.drop_constraint(op.f("ck_contribution_contribution_status"), type_="check")
        batch.create_check_constraint("contribution_status", sa.text("status IN ('pending', 'accepted', 'rejected')"))
    op.drop_index(op.f("ix_history_shingle_member_id"), table_name="history_shingle")
    op.drop_index("ix_history_shingle_shingle", table_name="history_shingle")
    op.drop_table("history_shingle")
    op.drop_table("copy_case")
