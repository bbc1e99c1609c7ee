"""Issue 20: events for clients (the object each is about, the integration it belongs to) and
webhooks (endpoints, their deliveries, each attempt).

Revision ID: 20b0e0e4e501
Revises: 1de78fce47fe
Create Date: 2026-12-05 14:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20b0e0e4e501"
down_revision: str | Sequence[str] | None = "1de78fce47fe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("event") as batch_op:
        batch_op.add_column(sa.Column("subject_type", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("subject_id", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("integration_id", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_event_workspace_kind_seq", ["workspace_id", "kind", "seq"])
    op.create_table(
        "webhook_attempt",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("delivery_id", sa.String(length=40), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("request_headers", sa.JSON(), nullable=False),
        sa.Column("request_body", sa.Text(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_webhook_attempt_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint(
            "workspace_id", "delivery_id", "n", name=op.f("pk_webhook_attempt")
        ),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("endpoint_id", sa.String(length=40), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("duplicate", sa.Boolean(), nullable=False),
        sa.Column("resend", sa.Boolean(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_webhook_delivery_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "workspace_id", "seq", name=op.f("uq_webhook_delivery_workspace_id_seq")
        ),
    )
    with op.batch_alter_table("webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_delivery_endpoint", ["workspace_id", "endpoint_id", "seq"], unique=False
        )
        batch_op.create_index(
            "ix_webhook_delivery_queue", ["workspace_id", "state", "next_attempt_at"], unique=False
        )

    op.create_table(
        "webhook_endpoint",
        sa.Column("workspace_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("integration_id", sa.String(length=40), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("event_types", sa.JSON(), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.String(length=300), nullable=True),
        sa.Column("failure_streak", sa.Integer(), nullable=False),
        sa.Column("disable_after", sa.Integer(), nullable=False),
        sa.Column("chaos", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspace.id"],
            name=op.f("fk_webhook_endpoint_workspace_id_workspace"),
        ),
        sa.PrimaryKeyConstraint("workspace_id", "id", name=op.f("pk_webhook_endpoint")),
    )


def downgrade() -> None:
    op.drop_table("webhook_endpoint")
    with op.batch_alter_table("webhook_delivery") as batch_op:
        batch_op.drop_index("ix_webhook_delivery_queue")
        batch_op.drop_index("ix_webhook_delivery_endpoint")
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_attempt")
    with op.batch_alter_table("event") as batch_op:
        batch_op.drop_index("ix_event_workspace_kind_seq")
        batch_op.drop_column("integration_id")
        batch_op.drop_column("subject_id")
        batch_op.drop_column("subject_type")
