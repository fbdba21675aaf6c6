"""API tokens carry scopes and may expire.

Tokens made before this revision get every scope (``contribute read account``) and no expiry, so scripts that
use them keep working exactly as before; members replace them with narrower tokens at will.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None

EVERY_SCOPE = "contribute read account"


def upgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("scopes", sa.String(100), nullable=False, server_default=EVERY_SCOPE))
        batch.add_column(sa.Column("expires_utc", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_utc")
        batch.drop_column("scopes")
