"""Webhook endpoints and their outbox (issue 20; ``models`` says how a delivery moves).

Endpoints belong to the landlord (every event) or to one integration (its own events and those
of no integration: what ``GET /v1/events`` shows it). When a transaction writes events,
``fan_out`` queues, in it, one delivery per event for each enabled endpoint that wants its
type; the chaos switches are drawn then, from a seeded generator, so the same seed gives the
same duplicates and the same delays.

Targets are checked against the operator's allow-list when an endpoint is saved and again
before each attempt: loopback, and the hosts of ``PORTAL_WEBHOOK_ALLOWED_HOSTS``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import event as sa_event
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col

from portal.core import jobs
from portal.core.db import PENDING_WEBHOOKS, bulk_insert_columns
from portal.core.errors import Conflict, FieldError, NotFound, Unprocessable
from portal.core.ids import IdMinter, new_webhook_secret, reserve, seeded
from portal.core.pagination import keyset
from portal.events import service as events
from portal.events.models import Event
from portal.workspaces.models import Workspace
from portal.workspaces.service import minter

from . import schemas
from .models import WebhookAttempt, WebhookDelivery, WebhookDeliveryState, WebhookEndpoint


class EndpointNotFound(NotFound):
    code = "webhook_endpoint_not_found"


class WebhookDeliveryNotFound(NotFound):
    code = "webhook_delivery_not_found"


class UrlNotAllowed(Unprocessable):
    code = "webhook_url_not_allowed"


class NothingToResend(Conflict):
    code = "nothing_to_resend"


# --- the target policy ---------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    allowed_hosts: frozenset[str] = frozenset()
    timeout_seconds: float = 5.0

    @classmethod
    def of(cls, hosts: str, timeout_seconds: float) -> Policy:
        return cls(
            frozenset(h.strip().lower() for h in hosts.split(",") if h.strip()), timeout_seconds
        )


def url_refusal(url: str, policy: Policy) -> str | None:
    """Why the portal will not call ``url``, or None. Only http(s); only loopback and the
    operator's allowed hosts (an IP literal or a name, compared as written: a name is never
    resolved to decide, so DNS cannot smuggle an internal address past the list)."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018  # a bad port raises here
    except ValueError:
        return "it is not a URL"
    if parts.scheme not in ("http", "https"):
        return "only http and https URLs are called"
    if not host:
        return "it has no host"
    if parts.username or parts.password:
        return "credentials in the URL are not sent; put them in the path or a query"
    if host in policy.allowed_hosts or host == "localhost":
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return (
            f"host {host!r} is not allowed: only loopback and the hosts in "
            "PORTAL_WEBHOOK_ALLOWED_HOSTS"
        )
    if address.is_loopback:
        return None
    return (
        f"address {host} is not allowed: only loopback and the hosts in "
        "PORTAL_WEBHOOK_ALLOWED_HOSTS"
    )


def _check_url(url: str, policy: Policy) -> None:
    reason = url_refusal(url, policy)
    if reason is not None:
        raise UrlNotAllowed(
            f"The portal will not call {url!r}: {reason}.",
            errors=[FieldError("$.url", reason, code="webhook_url_not_allowed")],
        )


# --- waking the clock ------------------------------------------------------------------------

#: Makes a clock advance stop when a delivery falls due (a retry, a chaos delay): the pass
#: after the job sends it.
RETRY = jobs.EventKind("webhooks.retry", jobs.RANK_DELIVERIES)


def wake_at(session: Session, ids: IdMinter, at: datetime, *, now: datetime) -> None:
    """Make the clock stop at ``at`` (once per instant) so the deliveries due then go out."""
    already = session.scalar(
        select(
            exists().where(
                col(jobs.ScheduledEvent.workspace_id) == ids.scope,
                col(jobs.ScheduledEvent.kind) == RETRY.name,
                col(jobs.ScheduledEvent.status) == "pending",
                col(jobs.ScheduledEvent.due_at) == at,
            )
        )
    )
    if not already:
        jobs.schedule(session, ids, kind=RETRY, due_at=at, payload={}, now=now)


# --- endpoints -----------------------------------------------------------------------------


def create_endpoint(
    session: Session,
    ids: IdMinter,
    body: schemas.EndpointIn,
    *,
    integration_id: str | None,
    policy: Policy,
    now: datetime,
) -> WebhookEndpoint:
    _check_url(body.url, policy)
    endpoint = WebhookEndpoint(
        workspace_id=ids.scope,
        id=ids.new("webhook_endpoint", "whe"),
        integration_id=integration_id,
        url=body.url,
        description=body.description,
        event_types=events.check_types(body.event_types, "$.event_types"),
        secret=new_webhook_secret(),
        disable_after=body.disable_after,
        chaos=body.chaos.model_dump(),
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    session.flush()
    _forget(session)
    return endpoint


def list_endpoints(
    session: Session,
    workspace_id: str,
    integration_id: str | None,
    *,
    after: str | None,
    limit: int,
) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(
        col(WebhookEndpoint.workspace_id) == workspace_id,
        _owned_by(integration_id),
    )
    return list(session.scalars(keyset(query, col(WebhookEndpoint.id), after=after, limit=limit)))


def _owned_by(integration_id: str | None) -> Any:
    if integration_id is None:
        return col(WebhookEndpoint.integration_id).is_(None)
    return col(WebhookEndpoint.integration_id) == integration_id


def get_endpoint(
    session: Session,
    workspace_id: str,
    integration_id: str | None,
    endpoint_id: str,
    *,
    for_update: bool = False,
) -> WebhookEndpoint:
    """One of the caller's endpoints (a landlord's or one integration's); 404 otherwise."""
    query = select(WebhookEndpoint).where(
        col(WebhookEndpoint.workspace_id) == workspace_id,
        col(WebhookEndpoint.id) == endpoint_id,
        _owned_by(integration_id),
    )
    if for_update:
        query = query.with_for_update()
    endpoint = session.scalars(query).one_or_none()
    if endpoint is None:
        raise EndpointNotFound(f"No webhook endpoint {endpoint_id!r}.")
    return endpoint


def update_endpoint(
    session: Session,
    endpoint: WebhookEndpoint,
    body: schemas.EndpointPatch,
    *,
    policy: Policy,
    now: datetime,
) -> WebhookEndpoint:
    if body.url is not None:
        _check_url(body.url, policy)
        endpoint.url = body.url
    if body.event_types is not None:
        endpoint.event_types = events.check_types(body.event_types, "$.event_types")
    if body.description is not None:
        endpoint.description = body.description
    if body.disable_after is not None:
        endpoint.disable_after = body.disable_after
    if body.chaos is not None:
        endpoint.chaos = body.chaos.model_dump()
    if body.enabled is not None and body.enabled != endpoint.enabled:
        endpoint.enabled = body.enabled
        endpoint.failure_streak = 0
        endpoint.disabled_reason = None if body.enabled else "disabled by its owner"
        if body.enabled:  # what was resent while it was off goes out now
            session.info.setdefault(PENDING_WEBHOOKS, set()).add(endpoint.workspace_id)
    endpoint.updated_at = now
    session.add(endpoint)
    session.flush()
    _forget(session)
    return endpoint


def delete_endpoint(session: Session, endpoint: WebhookEndpoint) -> None:
    """The endpoint goes; its undelivered deliveries fail (nothing is sent to it again)."""
    session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.workspace_id) == endpoint.workspace_id,
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.state) == WebhookDeliveryState.PENDING,
        )
        .values(state=WebhookDeliveryState.FAILED)
        .execution_options(synchronize_session=False)
    )
    session.delete(endpoint)
    session.flush()
    _forget(session)


# --- the outbox: one delivery per event and endpoint -------------------------------------------

_ENDPOINTS = "webhook_endpoints"


def _forget(session: Session | OrmSession) -> None:
    session.info.pop(_ENDPOINTS, None)


# Read once per transaction, not per session: a clock advance commits after every job in one
# session, and an endpoint another request made or disabled meanwhile counts from its next job.
sa_event.listen(OrmSession, "after_commit", _forget)
sa_event.listen(OrmSession, "after_rollback", _forget)


def _enabled(session: Session, workspace_id: str) -> list[WebhookEndpoint]:
    """The workspace's enabled endpoints, read once per transaction (a clock advance writes
    events after every job)."""
    cache: dict[str, list[WebhookEndpoint]] = session.info.setdefault(_ENDPOINTS, {})
    if workspace_id not in cache:
        cache[workspace_id] = list(
            session.scalars(
                select(WebhookEndpoint)
                .where(
                    col(WebhookEndpoint.workspace_id) == workspace_id,
                    col(WebhookEndpoint.enabled).is_(True),
                )
                .order_by(col(WebhookEndpoint.id))
            )
        )
    return cache[workspace_id]


def wants(endpoint: WebhookEndpoint, kind: str, integration_id: str | None) -> bool:
    if endpoint.event_types and kind not in endpoint.event_types:
        return False
    # An integration's endpoint gets what that integration may read (``GET /v1/events``).
    return (
        endpoint.integration_id is None
        or integration_id is None
        or integration_id == endpoint.integration_id
    )


def chaos_of(endpoint: WebhookEndpoint, event_seq: int) -> tuple[bool, timedelta]:
    """Whether the delivery of event ``event_seq`` is duplicated, and how long it waits: drawn
    from the endpoint's seed and the event's number, so the same world misbehaves the same way
    every run."""
    chaos = schemas.Chaos(**endpoint.chaos)
    if not (chaos.duplicate_percent or chaos.reorder_window_seconds or chaos.delay_seconds):
        return False, timedelta(0)
    rng = seeded(f"{chaos.seed}/{endpoint.id}/{event_seq}")
    duplicate = rng.randrange(100) < chaos.duplicate_percent
    wait = chaos.delay_seconds + (
        rng.randrange(chaos.reorder_window_seconds) if chaos.reorder_window_seconds else 0
    )
    return duplicate, timedelta(seconds=wait)


def fan_out(
    session: Session, workspace_id: str, written: Callable[[], list[events.Written]]
) -> None:
    """``events.AFTER_WRITE``: queue each new event for every endpoint that wants it."""
    endpoints = _enabled(session, workspace_id)
    if not endpoints:
        return
    chosen: list[tuple[WebhookEndpoint, events.Written]] = [
        (endpoint, e)
        for e in written()
        for endpoint in endpoints
        if wants(endpoint, e.type, e.integration_id)
    ]
    if not chosen:
        return
    queue(session, workspace_id, chosen, resend=False)


def queue(
    session: Session,
    workspace_id: str,
    chosen: Sequence[tuple[WebhookEndpoint, events.Written]],
    *,
    resend: bool,
) -> list[str]:
    ws = session.get(Workspace, workspace_id)
    assert ws is not None
    ids = minter(ws, session)
    now = max(e.at for _, e in chosen)
    first = reserve(session, workspace_id, "webhook_delivery_seq", len(chosen))
    delivery_ids = ids.many("webhook_delivery", len(chosen), "whd")
    duplicate: list[bool] = []
    due: list[datetime] = []
    for endpoint, e in chosen:
        twice, wait = chaos_of(endpoint, e.seq) if not resend else (False, timedelta(0))
        duplicate.append(twice)
        due.append(e.at + wait)
    bulk_insert_columns(
        session,
        WebhookDelivery,
        len(chosen),
        {
            "workspace_id": (workspace_id,),
            "id": delivery_ids,
            "seq": list(range(first, first + len(chosen))),
            "endpoint_id": [endpoint.id for endpoint, _ in chosen],
            "event_id": [e.id for _, e in chosen],
            "event_seq": [e.seq for _, e in chosen],
            "event_type": [e.type for _, e in chosen],
            "state": (WebhookDeliveryState.PENDING,),
            "attempts": (0,),
            "next_attempt_at": due,
            "last_attempt_at": (None,),
            "claimed_until": (None,),
            "duplicate": duplicate,
            "resend": (resend,),
            "last_status": (None,),
            "created_at": (now,),
            "finished_at": (None,),
        },
    )
    # A delivery held back (chaos) is sent when the clock reaches it: a clock advance stops
    # there (``RETRY``).
    for at in sorted({d for d in due if d > now}):
        wake_at(session, ids, at, now=now)
    session.info.setdefault(PENDING_WEBHOOKS, set()).add(workspace_id)
    return delivery_ids


def resend(
    session: Session,
    endpoint: WebhookEndpoint,
    body: schemas.ResendIn,
    *,
    integration_id: str | None,
    now: datetime,
) -> list[str]:
    """Queue again one event (any the endpoint may see) or every event whose delivery to this
    endpoint failed since an instant. Resent deliveries carry the event's own ``webhook-id``:
    a receiver that already has it can drop it."""
    if (body.event_id is None) == (body.failed_since is None):
        raise Unprocessable(
            "Give exactly one of event_id and failed_since.", code="exactly_one_required"
        )
    ws = endpoint.workspace_id
    if body.event_id is not None:
        found = session.scalars(
            select(Event).where(col(Event.workspace_id) == ws, col(Event.id) == body.event_id)
        ).one_or_none()
        if found is None or not (
            integration_id is None
            or found.integration_id is None
            or found.integration_id == integration_id
        ):
            raise events.EventNotFound(f"No event {body.event_id!r}.")
        picked = [found]
    else:
        assert body.failed_since is not None
        seqs = session.scalars(
            select(col(WebhookDelivery.event_seq))
            .where(
                col(WebhookDelivery.workspace_id) == ws,
                col(WebhookDelivery.endpoint_id) == endpoint.id,
                col(WebhookDelivery.state) == WebhookDeliveryState.FAILED,
                col(WebhookDelivery.finished_at) >= body.failed_since,
            )
            .distinct()
        ).all()
        picked = list(
            session.scalars(
                select(Event)
                .where(col(Event.workspace_id) == ws, col(Event.seq).in_(list(seqs)))
                .order_by(col(Event.seq))
            )
        )
        if not picked:
            raise NothingToResend(
                "No delivery to this endpoint failed since "
                f"{body.failed_since.isoformat()}; nothing was queued."
            )
    written = [events.Written(e.seq, e.id, e.kind, e.integration_id, now) for e in picked]
    return queue(session, ws, [(endpoint, w) for w in written], resend=True)


# --- reading ---------------------------------------------------------------------------------


def list_deliveries(
    session: Session,
    endpoint: WebhookEndpoint,
    *,
    states: Sequence[WebhookDeliveryState] = (),
    after: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(
        col(WebhookDelivery.workspace_id) == endpoint.workspace_id,
        col(WebhookDelivery.endpoint_id) == endpoint.id,
    )
    if states:
        query = query.where(col(WebhookDelivery.state).in_(list(states)))
    return list(session.scalars(keyset(query, col(WebhookDelivery.seq), after=after, limit=limit)))


def get_delivery(
    session: Session, endpoint: WebhookEndpoint, delivery_id: str
) -> tuple[WebhookDelivery, list[WebhookAttempt]]:
    delivery = session.get(WebhookDelivery, (endpoint.workspace_id, delivery_id))
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise WebhookDeliveryNotFound(f"No delivery {delivery_id!r} for this endpoint.")
    attempts = list(
        session.scalars(
            select(WebhookAttempt)
            .where(
                col(WebhookAttempt.workspace_id) == endpoint.workspace_id,
                col(WebhookAttempt.delivery_id) == delivery_id,
            )
            .order_by(col(WebhookAttempt.n))
        )
    )
    return delivery, attempts
