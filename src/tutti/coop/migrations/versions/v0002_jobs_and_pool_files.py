"""Background jobs, a record of every pool file, and contributions that wait for their validation job.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", _enum("job_status", "queued", "running", "done", "failed"), nullable=False),
        sa.Column("unique_key", sa.String(200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("run_after_utc", _utc(), nullable=False),
        sa.Column("lease_token", sa.String(32), nullable=True),
        sa.Column("lease_expires_utc", _utc(), nullable=True),
        sa.Column("progress_done", sa.BigInteger(), nullable=False),
        sa.Column("progress_total", sa.BigInteger(), nullable=True),
        sa.Column("progress_note", sa.String(200), nullable=False),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.Column("started_utc", _utc(), nullable=True),
        sa.Column("finished_utc", _utc(), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_job_attempts_not_negative")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
        sa.UniqueConstraint("unique_key", name=op.f("uq_job_unique_key")),
    )
    op.create_index("ix_job_status_run_after_utc", "job", ["status", "run_after_utc"])
    with op.batch_alter_table("contribution") as batch:
        batch.drop_constraint(op.f("ck_contribution_contribution_status"), type_="check")
        batch.create_check_constraint("contribution_status", sa.text("status IN ('pending', 'accepted', 'rejected')"))
        batch.add_column(sa.Column("job_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("upload_path", sa.String(500), nullable=True))
        batch.create_foreign_key(op.f("fk_contribution_job_id_job"), "job", ["job_id"], ["id"], ondelete="SET NULL")
    op.create_table(
        "pool_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("contribution_id", sa.String(36), nullable=False),
        sa.Column("member_key_id", sa.Integer(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("identity_version", sa.Integer(), nullable=False),
        sa.Column("created_utc", _utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_pool_file_member_id_member"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"],
            ["contribution.id"],
            name=op.f("fk_pool_file_contribution_id_contribution"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_key_id"], ["member_key.id"], name=op.f("fk_pool_file_member_key_id_member_key"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pool_file")),
        sa.UniqueConstraint("path", name=op.f("uq_pool_file_path")),
    )
    op.create_index(op.f("ix_pool_file_member_id"), "pool_file", ["member_id"])
    op.create_index(op.f("ix_pool_file_contribution_id"), "pool_file", ["contribution_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_pool_file_contribution_id"), table_name="pool_file")
    op.drop_index(op.f("ix_pool_file_member_id"), table_name="pool_file")
    op.drop_table("pool_file")
    op.execute("DELETE FROM contribution WHERE status = 'pending'")
    with op.batch_alter_table("contribution") as batch:
        batch.drop_constraint(op.f("fk_contribution_job_id_job"), type_="foreignkey")
        batch.drop_column("upload_path")
        batch.drop_column("job_id")
        batch.drop_constraint(op.f("ck_contribution_contribution_status"), type_="check")
        batch.create_check_constraint("contribution_status", sa.text("status IN ('accepted', 'rejected')"))
    op.drop_index("ix_job_status_run_after_utc", table_name="job")
    op.drop_table("job")
