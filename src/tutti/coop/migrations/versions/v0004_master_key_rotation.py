"""The cooperative records which master key wraps its keys, and how many rotations there were.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("cooperative") as batch:
        batch.add_column(sa.Column("master_key_id", sa.String(16), nullable=True))
        batch.add_column(sa.Column("master_key_generation", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    with op.batch_alter_table("cooperative") as batch:
        batch.drop_column("master_key_generation")
        batch.drop_column("master_key_id")
