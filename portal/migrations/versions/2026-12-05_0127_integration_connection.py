"""An integration's connection to its accounting system's server (issue 16: AMSI eSite URL,
portfolio, user, merchant, properties) and its write-only password.

Revision ID: 653b14eac5b0
Revises: i15_tenant_maintenance
Create Date: 2026-12-05 01:27:58.856911
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "653b14eac5b0"
down_revision: str | Sequence[str] | None = "i15_tenant_maintenance"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("integration", schema=None) as batch_op:
        batch_op.add_column(sa.Column("connection", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("connection_password", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("integration", schema=None) as batch_op:
        batch_op.drop_column("connection_password")
        batch_op.drop_column("connection")
