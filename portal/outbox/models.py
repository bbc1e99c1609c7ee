"""Deliveries: one row per message the portal owes an accounting system's server (issue 16).

A row is written in the transaction of the change it reports (a payment made, a reversal, a
journal closed), so a delivery is never lost and never invented by a rolled-back request. It
holds **facts**, not a wire document: the connector of the integration's kind turns them into
its vendor's call when it sends (``portal.connectors``), so every attempt sends the same thing
(the same ``ClientTransactionID``, connectors.md §3.2 "retry ... reusing the same
ClientTransactionID").

States follow ``DELIVERY_TRANSITIONS``: ``pending`` (waiting; a retry is pending with a later
``next_attempt_at``) -> ``sending`` (claimed by one worker) -> ``sent`` (the vendor accepted it),
``rejected`` (the vendor refused it: never retried by itself) or ``failed`` (it could not be
built, or transport errors outlasted the retries); a tester may put a failed or rejected
delivery back to ``pending``. A worker that died while sending leaves a ``sending`` row whose
claim expires; another worker claims it again.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    REJECTED = "rejected"
    FAILED = "failed"


DELIVERY_TRANSITIONS: dict[DeliveryState, frozenset[DeliveryState]] = {
    DeliveryState.PENDING: frozenset({DeliveryState.SENDING, DeliveryState.FAILED}),
    # ``sending -> sending``: a claim that expired (its worker died) is taken over.
    DeliveryState.SENDING: frozenset(
        {
            DeliveryState.SENDING,
            DeliveryState.SENT,
            DeliveryState.REJECTED,
            DeliveryState.FAILED,
            DeliveryState.PENDING,
        }
    ),
    DeliveryState.SENT: frozenset(),
    DeliveryState.REJECTED: frozenset({DeliveryState.PENDING}),
    DeliveryState.FAILED: frozenset({DeliveryState.PENDING}),
}


class Topic(StrEnum):
    """What a delivery reports, whatever the vendor calls it."""

    PAYMENT = "payment"
    """A payment entered its deposit batch (AMSI AddPayment, connectors.md §1.5)."""
    REVERSAL = "reversal"
    """A payment was voided, refunded, returned or charged back (AMSI ReturnPayment, §1.6)."""
    JOURNAL_CLOSE = "journal_close"
    """A journal (deposit batch) is closed at the end of its business day (AMSI
    UpdateSettlementData, §1.7)."""


class Delivery(SQLModel, table=True):
    __tablename__ = "delivery"
    __table_args__ = (
        # One delivery per fact: the same payment is never queued twice for one integration.
        UniqueConstraint("workspace_id", "integration_id", "key"),
        UniqueConstraint("workspace_id", "seq"),
        # The worker's queue: an integration's undelivered rows in order.
        Index("ix_delivery_queue", "workspace_id", "integration_id", "state", "seq"),
        Index("ix_delivery_journal", "workspace_id", "integration_id", "journal"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    #: Creation order in the workspace: an integration's deliveries are sent in this order.
    seq: int = Field(sa_type=BigInteger)
    integration_id: str = Field(max_length=40)
    topic: str = Field(max_length=32)
    #: The vendor's operation (``AddPayment``...), for people reading the list.
    operation: str = Field(max_length=64)
    #: What it reports: a payment, reversal or batch ID.
    subject_id: str = Field(max_length=40)
    #: Unique per integration (``payment:<id>``): a fact is queued once.
    key: str = Field(max_length=80)
    #: The journal (deposit batch) it lands in, and its signed amount: a journal's close sums
    #: what was posted to it.
    journal: str | None = Field(default=None, max_length=40)
    amount_cents: int | None = Field(default=None, sa_type=BigInteger)
    facts: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    state: DeliveryState = Field(sa_type=StrEnumType(DeliveryState))
    attempts: int = 0
    #: Workspace time: not sent before it (retries back off on the workspace clock).
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: System time: a ``sending`` claim older than this was abandoned by its worker.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: The last attempt: the request sent, the vendor's verdict, code and text, HTTP status.
    last_response: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True)
    )
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
