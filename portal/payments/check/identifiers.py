"""``portal check`` rules of identifiers and tokens (architecture.md §11): ``batch_id_shape``,
``transaction_id_shape``, ``transaction_id_unique``, ``one_active_token`` and
``token_digest``."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import func, literal, select, union_all
from sqlmodel import Session, col

from portal.auth.models import IntegrationToken
from portal.payments.check.base import Violation, scoped
from portal.payments.models import DepositBatch, Payment, Reversal

BATCH_ID_PATTERN = r"^[0-9]{16}$"
TRANSACTION_ID_PATTERN = r"^[0-9]{12}$"


def id_shapes(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    batches = scoped(
        select(col(DepositBatch.workspace_id), col(DepositBatch.id))
        .where(~col(DepositBatch.id).regexp_match(BATCH_ID_PATTERN))
        .order_by(col(DepositBatch.workspace_id), col(DepositBatch.id)),
        col(DepositBatch.workspace_id),
        workspace_id,
    )
    for ws, batch_id in session.execute(batches):
        yield Violation(ws, "batch_id_shape", f"batch {batch_id!r}", "a batch ID is 16 digits")
    # Payments and reversals each carry their own 12-digit transaction ID.
    for model, what in ((Payment, "payment"), (Reversal, "reversal")):
        rows = scoped(
            select(col(model.workspace_id), col(model.id), col(model.transaction_id))
            .where(~col(model.transaction_id).regexp_match(TRANSACTION_ID_PATTERN))
            .order_by(col(model.workspace_id), col(model.id)),
            col(model.workspace_id),
            workspace_id,
        )
        for ws, item_id, transaction_id in session.execute(rows):
            yield Violation(
                ws,
                "transaction_id_shape",
                f"{what} {item_id}",
                f"transaction ID {transaction_id!r} is not 12 digits",
            )


def unique_transaction_ids(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    ids = union_all(
        scoped(
            select(
                col(Payment.workspace_id).label("workspace_id"),
                col(Payment.transaction_id).label("transaction_id"),
            ),
            col(Payment.workspace_id),
            workspace_id,
        ),
        scoped(
            select(
                col(Reversal.workspace_id).label("workspace_id"),
                col(Reversal.transaction_id).label("transaction_id"),
            ),
            col(Reversal.workspace_id),
            workspace_id,
        ),
    ).subquery("ids")
    query = (
        select(ids.c.workspace_id, ids.c.transaction_id, func.count())
        .group_by(ids.c.workspace_id, ids.c.transaction_id)
        .having(func.count() > literal(1))
        .order_by(ids.c.workspace_id, ids.c.transaction_id)
    )
    for ws, transaction_id, n in session.execute(query):
        yield Violation(
            ws,
            "transaction_id_unique",
            f"transaction {transaction_id}",
            f"used by {n} payments and reversals",
        )


def tokens(session: Session, workspace_id: str | None) -> Iterator[Violation]:
    active = scoped(
        select(
            col(IntegrationToken.workspace_id),
            col(IntegrationToken.integration_id),
            func.count(),
        )
        .where(col(IntegrationToken.active).is_(True))
        .group_by(col(IntegrationToken.workspace_id), col(IntegrationToken.integration_id))
        .having(func.count() > literal(1))
        .order_by(col(IntegrationToken.workspace_id), col(IntegrationToken.integration_id)),
        col(IntegrationToken.workspace_id),
        workspace_id,
    )
    for ws, integration_id, n in session.execute(active):
        yield Violation(
            ws, "one_active_token", f"integration {integration_id}", f"{n} active tokens"
        )
    digests = scoped(
        select(col(IntegrationToken.workspace_id), col(IntegrationToken.id))
        .where(~col(IntegrationToken.digest).regexp_match("^[0-9a-f]{64}$"))
        .order_by(col(IntegrationToken.workspace_id), col(IntegrationToken.id)),
        col(IntegrationToken.workspace_id),
        workspace_id,
    )
    for ws, token_id in session.execute(digests):
        yield Violation(
            ws, "token_digest", f"token {token_id}", "stores something other than a SHA-256 digest"
        )
