"""A delivery as a tester reads it (issue 16, pinned: ``state``, ``attempts``,
``next_attempt_at``, ``last_response``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from portal.core.money import Cents
from portal.core.pagination import Page

from .models import Delivery, DeliveryState


class DeliveryRead(BaseModel):
    id: str
    seq: int = Field(description="The order deliveries are sent in (per workspace)")
    integration_id: str
    topic: str = Field(examples=["payment", "reversal", "journal_close"])
    operation: str = Field(examples=["AddPayment", "ReturnPayment", "UpdateSettlementData"])
    subject_id: str = Field(description="The payment, reversal or batch it reports")
    journal: str | None = Field(description="The journal (deposit batch) it lands in")
    amount: Cents | None = Field(description="Signed: what it adds to its journal")
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime | None = Field(
        description="Workspace time of the next attempt; null once sent, rejected or failed"
    )
    last_attempt_at: datetime | None
    sent_at: datetime | None
    facts: dict[str, Any] = Field(description="What the call is built from")
    last_response: dict[str, Any] | None = Field(
        description="The last attempt: the request sent, the verdict (sent, rejected, "
        "transport, unbuildable), the vendor's error code and text, the result"
    )
    created_at: datetime


def delivery_read(d: Delivery) -> DeliveryRead:
    waiting = d.state in (DeliveryState.PENDING, DeliveryState.SENDING)
    return DeliveryRead(
        id=d.id,
        seq=d.seq,
        integration_id=d.integration_id,
        topic=d.topic,
        operation=d.operation,
        subject_id=d.subject_id,
        journal=d.journal,
        amount=d.amount_cents,
        state=d.state,
        attempts=d.attempts,
        next_attempt_at=d.next_attempt_at if waiting else None,
        last_attempt_at=d.last_attempt_at,
        sent_at=d.sent_at,
        facts=d.facts,
        last_response=d.last_response,
        created_at=d.created_at,
    )


DeliveryPage = Page[DeliveryRead]
