"""Webhook endpoints, the deliveries owed to them and each attempt (issue 20).

A delivery row is written in the transaction of the event it carries (``portal.events``'
``AFTER_WRITE`` hook), so a committed event is never lost to a crash and a rolled-back one is
never sent: the transactional outbox, as the connectors' deliveries are (``portal.outbox``).

States follow ``DELIVERY_TRANSITIONS``: ``pending`` (due at ``next_attempt_at``, workspace time)
-> ``sending`` (claimed by one worker, until ``claimed_until``, system time) -> ``succeeded``
(a 2xx answer), ``pending`` again (a retry, backed off on the workspace clock) or ``failed``
(the retries ran out, or the endpoint was disabled). A resend queues a new delivery.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime
from portal.workspaces.service import KEPT_ON_RESET


class WebhookDeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


DELIVERY_TRANSITIONS: dict[WebhookDeliveryState, frozenset[WebhookDeliveryState]] = {
    WebhookDeliveryState.PENDING: frozenset(
        {WebhookDeliveryState.SENDING, WebhookDeliveryState.FAILED}
    ),
    # ``sending -> sending``: a claim that expired (its worker died) is taken over.
    WebhookDeliveryState.SENDING: frozenset(
        {
            WebhookDeliveryState.SENDING,
            WebhookDeliveryState.SUCCEEDED,
            WebhookDeliveryState.PENDING,
            WebhookDeliveryState.FAILED,
        }
    ),
    WebhookDeliveryState.SUCCEEDED: frozenset(),
    WebhookDeliveryState.FAILED: frozenset(),
}


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"
    # The tester's receivers are configuration, not the world: a workspace reset keeps them
    # (and the counter of their IDs), as Stripe's "delete all test data" keeps its endpoints.
    __table_args__ = {"info": {KEPT_ON_RESET: "webhook_endpoint"}}

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    #: Whose endpoint: an integration's (it sees its own events and those of no integration),
    #: or the landlord's (None: every event of the workspace).
    integration_id: str | None = Field(default=None, max_length=40)
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=500)
    #: Only these event types; empty: every type.
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    #: The Standard Webhooks signing secret (``whsec_`` + base64); shown once, when created.
    secret: str = Field(max_length=100)
    enabled: bool = True
    disabled_reason: str | None = Field(default=None, max_length=300)
    #: Deliveries in a row that failed for good; ``disable_after`` of them disable the endpoint.
    failure_streak: int = 0
    disable_after: int = 5
    #: The tester's chaos switches (``schemas.Chaos``).
    chaos: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        UniqueConstraint("workspace_id", "seq"),
        # The sender's queue: a workspace's due deliveries.
        Index("ix_webhook_delivery_queue", "workspace_id", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_endpoint", "workspace_id", "endpoint_id", "seq"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    seq: int = Field(sa_type=BigInteger)
    endpoint_id: str = Field(max_length=40)
    event_id: str = Field(max_length=40)
    event_seq: int
    event_type: str = Field(max_length=64)
    state: WebhookDeliveryState = Field(sa_type=StrEnumType(WebhookDeliveryState))
    attempts: int = 0
    #: Workspace time: not sent before it (retries and the chaos delays).
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: System time: a ``sending`` claim older than this was abandoned by its worker.
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    #: Chaos: sent twice (the same ``webhook-id``) on each attempt.
    duplicate: bool = False
    #: Queued by a resend (not by the event itself).
    resend: bool = False
    last_status: int | None = None
    created_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP request of a delivery (a duplicate is a request of its own)."""

    __tablename__ = "webhook_attempt"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    delivery_id: str = Field(primary_key=True, max_length=40)
    n: int = Field(primary_key=True)
    #: Workspace time of the attempt, and the real time the request was signed with.
    at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    url: str = Field(max_length=2000)
    request_headers: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    request_body: str = Field(default="", sa_type=Text)
    status: int | None = None
    response_body: str = Field(default="", sa_type=Text)
    latency_ms: int = 0
    error: str | None = Field(default=None, max_length=500)
    duplicate: bool = False
