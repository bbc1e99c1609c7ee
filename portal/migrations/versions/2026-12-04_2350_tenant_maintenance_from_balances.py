"""tenant maintenance information from balances

Revision ID: i15_tenant_maintenance
Revises: aa060b1d1ab6
Create Date: 2026-12-04 23:50:00

Issue 15, item 5: with the processing option "Send Maintenance Information with Balances" on,
balance intake keeps each line's maintenance information (the tenant's Notification, seed 004
§E) per accounting resident ID. A new table only: no existing row changes. The processing
options themselves live in ``integration.processing_options`` (JSON); the sixth option needs
no migration, since a missing key reads as its default (off).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "i15_tenant_maintenance"
down_revision: str | Sequence[str] | None = "aa060b1d1ab6"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tenant_maintenance",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("external_resident_id", sa.String(length=64), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("notification", sa.String(length=500), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_tenant_maintenance_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "external_resident_id", name=op.f("pk_tenant_maintenance")
        ),
    )


def downgrade() -> None:
    op.drop_table("tenant_maintenance")
