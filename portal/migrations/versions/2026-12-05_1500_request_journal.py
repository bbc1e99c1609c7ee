"""Issue 20: the request journal (its entries, packed per write, and the bodies they refer to);
ID counters are 64-bit (the journal numbers every request of a workspace).

Revision ID: 20a10c0a1e01
Revises: 20b0e0e4e501
Create Date: 2026-12-05 15:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20a10c0a1e01"
down_revision: str | Sequence[str] | None = "20b0e0e4e501"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "journal_batch",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("entries", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "first_seq", name=op.f("pk_journal_batch")),
    )
    op.create_table(
        "journal_body",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=32), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("workspace_id", "digest", name=op.f("pk_journal_body")),
    )
    with op.batch_alter_table("id_counter") as batch_op:
        batch_op.alter_column(
            "next_value", existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("id_counter") as batch_op:
        batch_op.alter_column(
            "next_value", existing_type=sa.BigInteger(), type_=sa.Integer(), existing_nullable=False
        )
    op.drop_table("journal_body")
    op.drop_table("journal_batch")
