"""invite codes stored as digests

Revision ID: aa060b1d1ab6
Revises: 9cc2751c685d
Create Date: 2026-12-04 19:46:21.647327

``resident.invite_code`` keeps its name, type and unique constraint (a SHA-256 in hex is 64
characters, the column's length) and now holds the digest of the code, as integration tokens
do. A data migration only: plain UPDATEs, so SQLite rebuilds no table (residents are pointed at
by leases, payments, ...). The digest is computed here rather than imported from the app, so
this revision keeps meaning what it meant; it equals ``portal.residents.invitations.invite_digest``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "aa060b1d1ab6"
down_revision: str | Sequence[str] | None = "9cc2751c685d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_resident = sa.table(
    "resident",
    sa.column("workspace_id", sa.String),
    sa.column("id", sa.String),
    sa.column("invite_code", sa.String),
)
_CHUNK = 10_000


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(_resident.c.workspace_id, _resident.c.id, _resident.c.invite_code).where(
            _resident.c.invite_code.is_not(None)
        )
    ).all()
    update = (
        sa.update(_resident)
        .where(
            _resident.c.workspace_id == sa.bindparam("b_ws"),
            _resident.c.id == sa.bindparam("b_id"),
        )
        .values(invite_code=sa.bindparam("b_digest"))
    )
    # A digest (64 hex characters) never equals a code (16 URL-safe characters), so no
    # intermediate state of these updates can trip the unique constraint.
    for start in range(0, len(rows), _CHUNK):
        conn.execute(
            update,
            [
                {
                    "b_ws": ws,
                    "b_id": rid,
                    "b_digest": hashlib.sha256(code.encode()).hexdigest(),
                }
                for ws, rid, code in rows[start : start + _CHUNK]
            ],
        )


def downgrade() -> None:
    # A digest cannot be turned back into its code: the digests stay, and the older code finds
    # no invitation by them. Residents invited before can still join by signing up with the
    # invited e-mail address (self sign-up matches an invited resident of the unit).
    pass
