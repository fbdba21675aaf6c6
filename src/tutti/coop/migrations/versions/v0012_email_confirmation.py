"""When each member confirmed their address (``accounts.confirm_email``); no login before. Members who signed up
before confirmation existed count as confirmed when they joined.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("email_confirmed_utc", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE member SET email_confirmed_utc = created_utc")


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_column("email_confirmed_utc")
