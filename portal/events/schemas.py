"""The wire form of an event (``GET /v1/events``, the operator's feed, and webhook bodies)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from portal.core.pagination import Page


class EventSubject(BaseModel):
    type: str = Field(
        description="payment, resident, deposit_batch, dispute, work_order, applicant"
    )
    id: str


class EventRead(BaseModel):
    id: str
    type: str = Field(description="e.g. payment.completed; the README lists every type")
    seq: int = Field(description="Orders every event of the workspace; `since` takes it")
    timestamp: datetime = Field(description="The workspace clock's instant of the change")
    subject: EventSubject | None = None
    integration_id: str | None = Field(
        default=None, description="Set when the event is one integration's own business"
    )
    data: dict[str, Any] = Field(
        description="The facts of the change at its instant; `object`: the subject as the API "
        "returns it now (null once it is gone)"
    )


EventPage = Page[EventRead]
