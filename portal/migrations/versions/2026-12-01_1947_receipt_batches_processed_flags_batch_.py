"""receipt batches: processed flags, batch order, property owner, lockbox attachments

Revision ID: 7be04ecb77c5
Revises: f47b2b445540
Create Date: 2026-12-01 19:47:24.585906
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7be04ecb77c5"
down_revision: str | Sequence[str] | None = "f47b2b445540"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "email_attachment",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("email_id", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_email_attachment_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "email_id", "n", name=op.f("pk_email_attachment")),
    )
    op.create_table(
        "processed_batch",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=16), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_processed_batch_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "integration_id", "batch_id", name=op.f("pk_processed_batch")
        ),
    )
    # Plain ADD COLUMN, not batch mode (see the reversals revision: a SQLite table rebuild
    # fails on a populated database). Existing batches all get 0; their IDs break the tie.
    op.add_column(
        "deposit_batch", sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0")
    )
    op.create_index("ix_deposit_batch_seq", "deposit_batch", ["workspace_id", "seq"], unique=False)
    op.add_column("integration", sa.Column("lockbox_format", sa.String(length=16), nullable=True))
    op.add_column("property", sa.Column("integration_id", sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("property", schema=None) as batch_op:
        batch_op.drop_column("integration_id")
    with op.batch_alter_table("integration", schema=None) as batch_op:
        batch_op.drop_column("lockbox_format")
    with op.batch_alter_table("deposit_batch", schema=None) as batch_op:
        batch_op.drop_index("ix_deposit_batch_seq")
        batch_op.drop_column("seq")
    op.drop_table("processed_batch")
    op.drop_table("email_attachment")
