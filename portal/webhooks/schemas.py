"""Webhook endpoints, deliveries and attempts on the wire (issue 20)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from portal.core.pagination import Page

from .models import WebhookAttempt, WebhookDelivery, WebhookDeliveryState, WebhookEndpoint


class Chaos(BaseModel):
    """Switches that make deliveries misbehave the way real networks do, deterministically
    (the same seed, the same misbehaviour), so a receiver can be proven idempotent and
    order-tolerant."""

    model_config = {"extra": "forbid"}

    duplicate_percent: int = Field(
        default=0, ge=0, le=100, description="Share of deliveries sent twice (same webhook-id)"
    )
    reorder_window_seconds: int = Field(
        default=0,
        ge=0,
        le=86_400,
        description="Each delivery waits a random 0..window seconds of workspace time: "
        "deliveries arrive out of order once the clock moves on",
    )
    delay_seconds: int = Field(
        default=0, ge=0, le=86_400, description="Every delivery waits this long (workspace time)"
    )
    seed: int = Field(default=0, ge=0, le=2**31 - 1, description="Same seed, same choices")


class EndpointIn(BaseModel):
    model_config = {"extra": "forbid"}

    url: str = Field(max_length=2000, examples=["http://127.0.0.1:9000/hooks"])
    event_types: list[str] = Field(
        default_factory=list, max_length=100, description="Only these types; empty: every type"
    )
    description: str = Field(default="", max_length=500)
    disable_after: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="Disable the endpoint after this many deliveries in a row failed for good",
    )
    chaos: Chaos = Field(default_factory=Chaos)


class EndpointPatch(BaseModel):
    model_config = {"extra": "forbid"}

    url: str | None = Field(default=None, max_length=2000)
    event_types: list[str] | None = Field(default=None, max_length=100)
    description: str | None = Field(default=None, max_length=500)
    disable_after: int | None = Field(default=None, ge=1, le=1000)
    enabled: bool | None = Field(
        default=None, description="true re-enables a disabled endpoint (its failure count resets)"
    )
    chaos: Chaos | None = None


class EndpointRead(BaseModel):
    id: str
    url: str
    description: str
    event_types: list[str]
    integration_id: str | None = Field(description="The integration's endpoint; null: landlord's")
    enabled: bool
    disabled_reason: str | None
    failure_streak: int = Field(description="Deliveries in a row that failed for good")
    disable_after: int
    chaos: Chaos
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, e: WebhookEndpoint) -> EndpointRead:
        return cls(
            id=e.id,
            url=e.url,
            description=e.description,
            event_types=list(e.event_types),
            integration_id=e.integration_id,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            failure_streak=e.failure_streak,
            disable_after=e.disable_after,
            chaos=Chaos(**e.chaos),
            created_at=e.created_at,
            updated_at=e.updated_at,
        )


class EndpointCreated(EndpointRead):
    secret: str = Field(
        description="The signing secret (Standard Webhooks `whsec_...`); shown only now"
    )


EndpointPage = Page[EndpointRead]


class AttemptRead(BaseModel):
    n: int
    at: datetime = Field(description="Workspace time of the attempt")
    sent_at: datetime = Field(description="Real time, as in the webhook-timestamp header")
    url: str
    request_headers: dict[str, Any]
    request_body: str = Field(description="The body sent (cut at 4,000 characters)")
    status: int | None = Field(description="The receiver's HTTP status; null: no answer")
    response_body: str = Field(description="The start of the receiver's answer")
    latency_ms: int
    error: str | None
    duplicate: bool = Field(description="The chaos switch's second copy")

    @classmethod
    def of(cls, a: WebhookAttempt) -> AttemptRead:
        return cls(
            n=a.n,
            at=a.at,
            sent_at=a.sent_at,
            url=a.url,
            request_headers=dict(a.request_headers),
            request_body=a.request_body,
            status=a.status,
            response_body=a.response_body,
            latency_ms=a.latency_ms,
            error=a.error,
            duplicate=a.duplicate,
        )


class DeliveryRead(BaseModel):
    id: str
    endpoint_id: str
    event_id: str = Field(description="Also the webhook-id header: the same on every attempt")
    event_type: str
    event_seq: int
    state: WebhookDeliveryState
    attempts: int
    next_attempt_at: datetime | None = Field(description="Workspace time; null once finished")
    last_attempt_at: datetime | None
    last_status: int | None
    duplicate: bool
    resend: bool
    created_at: datetime
    finished_at: datetime | None
    attempt_log: list[AttemptRead] | None = Field(
        default=None, description="Every request made (one delivery's read only)"
    )

    @classmethod
    def of(cls, d: WebhookDelivery, attempts: list[WebhookAttempt] | None = None) -> DeliveryRead:
        live = d.state in (WebhookDeliveryState.PENDING, WebhookDeliveryState.SENDING)
        return cls(
            id=d.id,
            endpoint_id=d.endpoint_id,
            event_id=d.event_id,
            event_type=d.event_type,
            event_seq=d.event_seq,
            state=d.state,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if live else None,
            last_attempt_at=d.last_attempt_at,
            last_status=d.last_status,
            duplicate=d.duplicate,
            resend=d.resend,
            created_at=d.created_at,
            finished_at=d.finished_at,
            attempt_log=None if attempts is None else [AttemptRead.of(a) for a in attempts],
        )


DeliveryPage = Page[DeliveryRead]


class ResendIn(BaseModel):
    model_config = {"extra": "forbid"}

    event_id: str | None = Field(default=None, max_length=40, description="Send this event again")
    failed_since: datetime | None = Field(
        default=None,
        description="Or: send again every event whose delivery to this endpoint failed at or "
        "after this instant (workspace time)",
    )


class ResendOut(BaseModel):
    queued: int
    delivery_ids: list[str]
