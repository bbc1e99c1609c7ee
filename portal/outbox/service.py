"""Queueing deliveries inside the caller's transaction (issue 16; ``models`` says why).

Features that move money call ``enqueue`` with facts; they never talk to a vendor. The session
remembers which workspaces got new deliveries (``session.info``, ``core.db.after_commit``) so
that whoever commits it has them sent at once (``portal.connectors.worker``); nothing is sent
before the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col

from portal.auth.models import Integration, IntegrationKind
from portal.core import transitions
from portal.core.db import PENDING_DELIVERIES
from portal.core.errors import Conflict, NotFound
from portal.core.ids import IdMinter, reserve
from portal.core.pagination import keyset

from .models import DELIVERY_TRANSITIONS, Delivery, DeliveryState, Topic

#: The vendor's name for each topic, per kind of integration that is sent deliveries.
OPERATIONS: dict[IntegrationKind, dict[Topic, str]] = {
    IntegrationKind.AMSI: {
        Topic.PAYMENT: "AddPayment",
        Topic.REVERSAL: "ReturnPayment",
        Topic.JOURNAL_CLOSE: "UpdateSettlementData",
    },
    # connectors.md §2.6; the close is the simulator's own API (§4.6 GAP, docs/decisions.md).
    IntegrationKind.MRI: {
        Topic.PAYMENT: "MRI_S-PMRM_PaymentDetailsByPropertyID",
        Topic.REVERSAL: "MRI_S-PMRM_PaymentDetailsByPropertyID",
        Topic.JOURNAL_CLOSE: "MRI_S-PMRM_CloseBatch",
    },
}


@dataclass(frozen=True)
class NewDelivery:
    integration: Integration
    topic: Topic
    subject_id: str
    key: str
    facts: dict[str, Any]
    journal: str | None = None
    amount_cents: int | None = None


def connected(session: Session, workspace_id: str) -> list[Integration]:
    """The workspace's integrations the portal sends deliveries to: a kind with a connector and
    connection settings. One indexed read, cached for the transaction (a day's autopay asks for
    every chunk of payments)."""
    cache: dict[str, list[Integration]] = session.info.setdefault("outbox_connected", {})
    if workspace_id not in cache:
        cache[workspace_id] = list(
            session.scalars(
                select(Integration)
                .where(
                    col(Integration.workspace_id) == workspace_id,
                    col(Integration.kind).in_(list(OPERATIONS)),
                    col(Integration.connection).is_not(None),
                )
                .order_by(col(Integration.id))
            )
        )
    return cache[workspace_id]


def forget_connected(session: Session) -> None:
    """After an integration's connection changed in this transaction."""
    session.info.pop("outbox_connected", None)


def enqueue(session: Session, ids: IdMinter, new: Sequence[NewDelivery], *, now: datetime) -> int:
    """Queue deliveries, each due now, in the given order; a key already queued for its
    integration is skipped (a fact is reported once). Returns how many were queued."""
    if not new:
        return 0
    ws = ids.scope
    first = reserve(session, ws, "delivery_seq", len(new))
    delivery_ids = ids.many("delivery", len(new), "dlv")
    rows = [
        {
            "workspace_id": ws,
            "id": delivery_ids[n],
            "seq": first + n,
            "integration_id": d.integration.id,
            "topic": d.topic.value,
            "operation": OPERATIONS[d.integration.kind][d.topic],
            "subject_id": d.subject_id,
            "key": d.key,
            "journal": d.journal,
            "amount_cents": d.amount_cents,
            "facts": d.facts,
            "state": DeliveryState.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "last_attempt_at": None,
            "claimed_until": None,
            "last_response": None,
            "created_at": now,
            "sent_at": None,
        }
        for n, d in enumerate(new)
    ]
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = Delivery.__table__  # type: ignore[attr-defined]
    result = session.connection().execute(
        insert(table)
        .on_conflict_do_nothing(index_elements=["workspace_id", "integration_id", "key"])
        .returning(table.c.id),
        rows,
    )
    queued = len(result.fetchall())
    if queued:
        session.info.setdefault(PENDING_DELIVERIES, set()).add(ws)
    return queued


# --- reading and retrying -------------------------------------------------------------------


class DeliveryNotFound(NotFound):
    code = "delivery_not_found"


class DeliveryNotRetryable(Conflict):
    code = "delivery_not_retryable"


def list_deliveries(
    session: Session,
    workspace_id: str,
    integration_id: str,
    *,
    states: Sequence[DeliveryState] = (),
    after: int | None,
    limit: int,
) -> list[Delivery]:
    """An integration's deliveries in the order they are sent (``seq``)."""
    query = select(Delivery).where(
        col(Delivery.workspace_id) == workspace_id,
        col(Delivery.integration_id) == integration_id,
    )
    if states:
        query = query.where(col(Delivery.state).in_(list(states)))
    return list(session.scalars(keyset(query, col(Delivery.seq), after=after, limit=limit)))


def get_delivery(
    session: Session, workspace_id: str, integration_id: str, delivery_id: str
) -> Delivery:
    delivery = session.get(Delivery, (workspace_id, delivery_id))
    if delivery is None or delivery.integration_id != integration_id:
        raise DeliveryNotFound(f"No delivery {delivery_id!r} for this integration.")
    return delivery


def retry(session: Session, delivery: Delivery, *, now: datetime) -> Delivery:
    """A tester's retry of a failed or rejected delivery: pending again, due now, with a fresh
    round of attempts (the same facts, so the same ``ClientTransactionID``)."""
    if DeliveryState.PENDING not in DELIVERY_TRANSITIONS[delivery.state]:
        raise DeliveryNotRetryable(
            f"Delivery {delivery.id} is {delivery.state.value}; only a failed or rejected "
            "delivery can be retried (a pending one is sent on its own).",
            extra={"state": delivery.state.value},
        )
    done = session.execute(
        update(Delivery)
        .where(
            col(Delivery.workspace_id) == delivery.workspace_id,
            col(Delivery.id) == delivery.id,
            transitions.moving(
                col(Delivery.state),
                DELIVERY_TRANSITIONS,
                [delivery.state],
                DeliveryState.PENDING,
            ),
        )
        .values(state=DeliveryState.PENDING, attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise DeliveryNotRetryable(f"Delivery {delivery.id} changed meanwhile; read it again.")
    session.info.setdefault(PENDING_DELIVERIES, set()).add(delivery.workspace_id)
    session.refresh(delivery)
    return delivery
