"""Issue 16: the outbox of deliveries to accounting systems, the import runs of a connector,
and the scope of a lease ID (an AMSI ResiID is unique only within its unit, connectors.md §0.6).

Revision ID: 3ab51b7a0e35
Revises: 653b14eac5b0
Create Date: 2026-12-05 02:25:53.036820
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3ab51b7a0e35"
down_revision: str | Sequence[str] | None = "653b14eac5b0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("operation", sa.String(length=64), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("journal", sa.String(length=40), nullable=True),
        sa.Column("amount_cents", sa.BigInteger(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("last_response", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_delivery_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_delivery")),
        sa.UniqueConstraint(
            "workspace_id",
            "integration_id",
            "key",
            name=op.f("uq_delivery_workspace_id_integration_id_key"),
        ),
        sa.UniqueConstraint("workspace_id", "seq", name=op.f("uq_delivery_workspace_id_seq")),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_delivery_journal", ["workspace_id", "integration_id", "journal"], unique=False
        )
        batch_op.create_index(
            "ix_delivery_queue", ["workspace_id", "integration_id", "state", "seq"], unique=False
        )

    op.create_table(
        "import_run",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"], ["workspace.id"], name=op.f("fk_import_run_workspace_id_workspace")
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_import_run")),
    )
    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_import_run_integration", ["workspace_id", "integration_id", "seq"], unique=False
        )

    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("external_scope", sa.String(length=64), nullable=False, server_default="")
        )
        batch_op.drop_constraint(
            batch_op.f("uq_lease_workspace_id_external_resident_id"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_lease_workspace_id_external_scope_external_resident_id"),
            ["workspace_id", "external_scope", "external_resident_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("lease", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_lease_workspace_id_external_scope_external_resident_id"), type_="unique"
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_lease_workspace_id_external_resident_id"),
            ["workspace_id", "external_resident_id"],
        )
        batch_op.drop_column("external_scope")

    with op.batch_alter_table("import_run", schema=None) as batch_op:
        batch_op.drop_index("ix_import_run_integration")

    op.drop_table("import_run")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_queue")
        batch_op.drop_index("ix_delivery_journal")

    op.drop_table("delivery")
