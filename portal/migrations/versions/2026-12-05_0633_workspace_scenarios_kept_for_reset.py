"""Issue 18: the scenarios loaded into a workspace, kept so a reset loads them again (the
document, the digests of the tokens it minted, the settings before it).

Revision ID: 1de78fce47fe
Revises: 3ab51b7a0e35
Create Date: 2026-12-05 06:33:12.947038
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1de78fce47fe"
down_revision: str | Sequence[str] | None = "3ab51b7a0e35"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workspace_scenario",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("scenario", sa.String(length=100), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("tokens", sa.JSON(), nullable=False),
        sa.Column("settings_before", sa.JSON(), nullable=False),
        sa.Column("created", sa.Boolean(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_workspace_scenario_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "seq", name=op.f("pk_workspace_scenario")),
    )


def downgrade() -> None:
    op.drop_table("workspace_scenario")
