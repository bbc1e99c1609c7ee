"""Sending webhooks (issue 20): after the commit that queued them, retried on the workspace
clock, signed per Standard Webhooks.

A pass works as the connectors' outbox does (``portal.connectors.worker``), in three steps,
none holding a transaction across the network:

1. **claim** (a short transaction): the due deliveries of the workspace (``next_attempt_at``
   reached on the workspace clock, the endpoint enabled), oldest due first, move
   ``pending -> sending`` by one compare-and-set UPDATE that returns the rows it moved: two
   workers never claim one delivery. The events are rendered then, each with its object as the
   API returns it at that moment.
2. **attempt**: one signed POST per delivery (two with the duplicate switch), outside any
   transaction. ``webhook-id`` is the event's ID (the same on every retry and resend),
   ``webhook-timestamp`` the real time of the attempt (receivers compare it with their own
   clock: Standard Webhooks libraries refuse one five minutes off), ``webhook-signature`` made
   by the ``standardwebhooks`` library.
3. **record** (a short transaction): every request made, then ``succeeded`` (a 2xx), or
   ``pending`` with the next attempt backed off **on the workspace clock** (``SCHEDULE``; a
   scheduled event at that instant makes a clock advance stop there and retry), or ``failed``
   when the retries ran out. ``disable_after`` failed deliveries in a row disable the
   endpoint: its waiting deliveries fail with it (a resend brings them back) and the landlord
   users get an e-mail.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
import httpx
from sqlalchemy import Engine, and_, bindparam, exists, func, or_, select, update
from sqlmodel import Session, col
from standardwebhooks.webhooks import Webhook

from portal.auth import service as auth_service
from portal.core import couriers, http, jobs, transitions
from portal.core.clock import Clock, as_aware
from portal.core.db import PENDING_WEBHOOKS, loop_writer, session_scope
from portal.core.ids import IdMinter
from portal.events import service as events
from portal.events.models import Event
from portal.events.schemas import EventRead
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

from .models import (
    DELIVERY_TRANSITIONS,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryState,
    WebhookEndpoint,
)
from .service import RETRY, Policy, url_refusal, wake_at

log = logging.getLogger(__name__)

#: The waits after each failed attempt, in workspace time: Standard Webhooks' (and Svix's)
#: schedule: 8 attempts over about 27 hours; a receiver down for an afternoon or a night gets
#: everything once it is back.
SCHEDULE = tuple(
    timedelta(seconds=s) for s in (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
)
#: Deliveries claimed at once by a pass.
BATCH = 50
#: A claim is abandoned (its worker died) after this much real time.
CLAIM_FOR = timedelta(minutes=2)
#: What an attempt keeps of the request it sent and the answer it got.
REQUEST_EXCERPT = 4000
RESPONSE_EXCERPT = 1000

_LIVE = (WebhookDeliveryState.PENDING, WebhookDeliveryState.SENDING)

#: The target policy and timeout (``Settings``); set by the app and the CLI.
POLICY = Policy()


def _woken(_ctx: jobs.JobContext, _payload: dict[str, Any]) -> dict[str, Any]:
    # Nothing to do in the job: the delivery pass after it sends what is due.
    return {}


HANDLERS = (jobs.EventHandler(RETRY, _woken),)


@dataclass(frozen=True)
class Claim:
    workspace_id: str
    delivery_id: str
    endpoint_id: str
    url: str
    secret: str
    event_id: str
    body: bytes
    attempts: int
    duplicate: bool
    now: datetime


@dataclass(frozen=True)
class Sent:
    """One HTTP request made for a claim."""

    sent_at: datetime
    headers: dict[str, str]
    status: int | None
    response: str
    latency_ms: int
    error: str | None
    duplicate: bool

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim_next(
    session: Session, workspace_id: str, *, system: Clock, until: datetime | None = None
) -> list[Claim]:
    """Claim the workspace's due deliveries (the module docstring, step 1)."""
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        return []
    now = as_aware(until) if until is not None else workspaces_service.now_of(ws, system)
    real_now = system.now()
    due = and_(
        col(WebhookDelivery.workspace_id) == workspace_id,
        or_(
            and_(
                col(WebhookDelivery.state) == WebhookDeliveryState.PENDING,
                col(WebhookDelivery.next_attempt_at) <= now,
            ),
            and_(
                col(WebhookDelivery.state) == WebhookDeliveryState.SENDING,
                col(WebhookDelivery.claimed_until) <= real_now,
            ),
        ),
        col(WebhookDelivery.endpoint_id).in_(
            select(col(WebhookEndpoint.id)).where(
                col(WebhookEndpoint.workspace_id) == workspace_id,
                col(WebhookEndpoint.enabled).is_(True),
            )
        ),
    )
    candidates = session.scalars(
        select(col(WebhookDelivery.id))
        .where(due)
        .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.seq))
        .limit(BATCH)
    ).all()
    if not candidates:
        return []
    claimed_ids = set(
        session.scalars(
            update(WebhookDelivery)
            .where(due, col(WebhookDelivery.id).in_(list(candidates)))
            .values(
                state=WebhookDeliveryState.SENDING,
                attempts=col(WebhookDelivery.attempts) + 1,
                claimed_until=real_now + CLAIM_FOR,
                last_attempt_at=now,
            )
            .returning(col(WebhookDelivery.id))
            .execution_options(synchronize_session=False)
        ).all()
    )
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(
                col(WebhookDelivery.workspace_id) == workspace_id,
                col(WebhookDelivery.id).in_(list(claimed_ids)),
            )
            .execution_options(populate_existing=True)
        )
    )
    order = {delivery_id: n for n, delivery_id in enumerate(candidates)}
    rows.sort(key=lambda d: order[d.id])
    endpoints = {
        e.id: e
        for e in session.scalars(
            select(WebhookEndpoint).where(
                col(WebhookEndpoint.workspace_id) == workspace_id,
                col(WebhookEndpoint.id).in_({d.endpoint_id for d in rows}),
            )
        )
    }
    found = session.scalars(
        select(Event).where(
            col(Event.workspace_id) == workspace_id,
            col(Event.seq).in_({d.event_seq for d in rows}),
        )
    ).all()
    bodies = {
        r["seq"]: EventRead.model_validate(r).model_dump_json().encode()
        for r in events.render(session, workspace_id, found)
    }
    return [
        Claim(
            workspace_id=workspace_id,
            delivery_id=d.id,
            endpoint_id=d.endpoint_id,
            url=endpoints[d.endpoint_id].url,
            secret=endpoints[d.endpoint_id].secret,
            event_id=d.event_id,
            body=bodies[d.event_seq],
            attempts=d.attempts,
            duplicate=d.duplicate,
            now=now,
        )
        for d in rows
    ]


def attempt(claim: Claim, system: Clock, policy: Policy | None = None) -> list[Sent]:
    """The HTTP requests of one claim (no database): one, or two with the duplicate switch."""
    policy = policy or POLICY
    out: list[Sent] = []
    for copy in range(2 if claim.duplicate else 1):
        sent_at = system.now()
        headers = {
            "content-type": "application/json",
            "user-agent": "portal-webhooks/0.1",
            "webhook-id": claim.event_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(claim.secret).sign(claim.event_id, sent_at, claim.body),
        }
        refusal = url_refusal(claim.url, policy)
        if refusal is not None:
            out.append(Sent(sent_at, headers, None, "", 0, f"not sent: {refusal}", copy > 0))
            break
        started = time.perf_counter()
        try:
            with http.client(timeout=policy.timeout_seconds, follow_redirects=False) as client:
                response = client.post(claim.url, content=claim.body, headers=headers)
            status, text, error = response.status_code, response.text[:RESPONSE_EXCERPT], None
        except httpx.HTTPError as exc:
            status, text, error = None, "", f"{type(exc).__name__}: {exc}"[:500]
        latency = int((time.perf_counter() - started) * 1000)
        out.append(Sent(sent_at, headers, status, text, latency, error, copy > 0))
    return out


def record(session: Session, claim: Claim, sent: Sequence[Sent]) -> WebhookDeliveryState:
    """Keep the requests made and what the delivery came to (step 3)."""
    first_n = (
        session.scalar(
            select(func.coalesce(func.max(col(WebhookAttempt.n)), 0)).where(
                col(WebhookAttempt.workspace_id) == claim.workspace_id,
                col(WebhookAttempt.delivery_id) == claim.delivery_id,
            )
        )
        or 0
    )
    for i, s in enumerate(sent, start=1):
        session.add(
            WebhookAttempt(
                workspace_id=claim.workspace_id,
                delivery_id=claim.delivery_id,
                n=first_n + i,
                at=claim.now,
                sent_at=s.sent_at,
                url=claim.url,
                request_headers=s.headers,
                request_body=claim.body.decode()[:REQUEST_EXCERPT],
                status=s.status,
                response_body=s.response,
                latency_ms=s.latency_ms,
                error=s.error,
                duplicate=s.duplicate,
            )
        )
    ok = bool(sent) and sent[0].ok
    values: dict[str, Any] = {
        "claimed_until": None,
        "last_status": sent[0].status if sent else None,
    }
    if ok:
        to = WebhookDeliveryState.SUCCEEDED
        values["finished_at"] = claim.now
    elif claim.attempts <= len(SCHEDULE):
        to = WebhookDeliveryState.PENDING
        values["next_attempt_at"] = claim.now + SCHEDULE[claim.attempts - 1]
    else:
        to = WebhookDeliveryState.FAILED
        values["finished_at"] = claim.now
    values["state"] = to
    done = session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.workspace_id) == claim.workspace_id,
            col(WebhookDelivery.id) == claim.delivery_id,
            col(WebhookDelivery.attempts) == claim.attempts,
            transitions.moving(
                col(WebhookDelivery.state),
                DELIVERY_TRANSITIONS,
                [WebhookDeliveryState.SENDING],
                to,
            ),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        # Our claim expired and another worker took the delivery over: its word stands.
        log.warning(
            "webhook delivery %s: claim lost before its outcome was kept", claim.delivery_id
        )
        session.flush()
        return to
    ws = session.get(Workspace, claim.workspace_id)
    assert ws is not None
    ids = workspaces_service.minter(ws, session)
    if to is WebhookDeliveryState.SUCCEEDED:
        session.execute(
            update(WebhookEndpoint)
            .where(
                col(WebhookEndpoint.workspace_id) == claim.workspace_id,
                col(WebhookEndpoint.id) == claim.endpoint_id,
                col(WebhookEndpoint.failure_streak) > 0,
            )
            .values(failure_streak=0)
            .execution_options(synchronize_session=False)
        )
    elif to is WebhookDeliveryState.PENDING:
        wake_at(session, ids, values["next_attempt_at"], now=claim.now)
    else:
        _failed_for_good(session, ids, claim)
    session.flush()
    return to


def _failed_for_good(session: Session, ids: IdMinter, claim: Claim) -> None:
    """One more failed delivery in a row; at ``disable_after`` the endpoint is disabled (a
    compare-and-set on ``enabled``: told once, however many workers fail at once)."""
    streak = session.scalar(
        update(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.workspace_id) == claim.workspace_id,
            col(WebhookEndpoint.id) == claim.endpoint_id,
        )
        .values(failure_streak=col(WebhookEndpoint.failure_streak) + 1)
        .returning(col(WebhookEndpoint.failure_streak))
        .execution_options(synchronize_session=False)
    )
    reason = f"{streak} deliveries in a row failed; the last: {claim.delivery_id}"
    disabled = session.execute(
        update(WebhookEndpoint)
        .where(
            col(WebhookEndpoint.workspace_id) == claim.workspace_id,
            col(WebhookEndpoint.id) == claim.endpoint_id,
            col(WebhookEndpoint.enabled).is_(True),
            col(WebhookEndpoint.failure_streak) >= col(WebhookEndpoint.disable_after),
        )
        .values(enabled=False, disabled_reason=reason, updated_at=claim.now)
        .execution_options(synchronize_session=False)
    )
    if disabled.rowcount != 1:  # type: ignore[attr-defined]
        return
    # What waited for it fails with it; ``resend {failed_since}`` queues it again.
    session.execute(
        update(WebhookDelivery)
        .where(
            col(WebhookDelivery.workspace_id) == claim.workspace_id,
            col(WebhookDelivery.endpoint_id) == claim.endpoint_id,
            col(WebhookDelivery.state) == WebhookDeliveryState.PENDING,
        )
        .values(state=WebhookDeliveryState.FAILED, finished_at=claim.now)
        .execution_options(synchronize_session=False)
    )
    notifications.send_many(
        session,
        ids,
        [
            notifications.Message(
                to=to,
                subject=f"Webhook endpoint disabled: {claim.url}",
                kind=EmailKind.WEBHOOK_DISABLED,
                body=(
                    f"The portal stopped sending events to {claim.url} (endpoint "
                    f"{claim.endpoint_id}): {reason}.\n\nFix the receiver, enable the endpoint "
                    'again (PATCH /v1/webhooks/{id} {"enabled": true}) and resend what it '
                    'missed (POST /v1/webhooks/{id}/resend {"failed_since": ...}).'
                ),
                data={"endpoint_id": claim.endpoint_id, "delivery_id": claim.delivery_id},
            )
            for to in auth_service.landlord_emails(session, claim.workspace_id)
        ],
        now=claim.now,
    )


def deliver(
    engine: Engine, workspace_id: str, *, system: Clock, until: datetime | None = None
) -> int:
    """A pass, synchronously (a clock advance after each job): send every due delivery.
    Returns how many deliveries were attempted."""
    made = 0
    while True:
        with session_scope(engine) as session:
            claims = claim_next(session, workspace_id, system=system, until=until)
        if not claims:
            return made
        for claim in claims:
            sent = attempt(claim, system)
            with session_scope(engine) as session:
                record(session, claim, sent)
            made += 1


_HAS_LIVE = select(
    exists().where(
        col(WebhookDelivery.workspace_id) == bindparam("workspace_id"),
        col(WebhookDelivery.state).in_(_LIVE),
    )
)


def has_live(session: Session, workspace_id: str) -> bool:
    """Whether the workspace has a webhook delivery not yet finished."""
    return session.scalar(_HAS_LIVE, {"workspace_id": workspace_id}) is True


def queued_in(session: Session, workspace_id: str) -> bool:
    """Whether this transaction queued deliveries for the workspace (its events written)."""
    events.write_pending(session)
    return workspace_id in session.info.get(PENDING_WEBHOOKS, set())


def workspaces_with_due(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(col(WebhookDelivery.workspace_id))
            .distinct()
            .where(col(WebhookDelivery.state).in_(_LIVE))
            .order_by(col(WebhookDelivery.workspace_id))
        )
    )


async def _pass(courier: couriers.Courier, workspace_id: str) -> None:
    """One pass of the webhooks' outbox: claim, send, record, until nothing is due."""
    while True:
        async with loop_writer(courier.state):
            with session_scope(courier.engine) as session:
                claims = claim_next(session, workspace_id, system=courier.system)
        if not claims:
            return
        for claim in claims:
            sent = await anyio.to_thread.run_sync(attempt, claim, courier.system)
            async with loop_writer(courier.state):
                with session_scope(courier.engine) as session:
                    record(session, claim, sent)


def make_courier(engine: Engine, system: Clock, state: Any) -> couriers.Courier:
    """The webhooks' courier (``portal.core.couriers``), made by the app's lifespan."""
    return couriers.Courier(
        engine, system, state, pass_=_pass, due=workspaces_with_due, name="webhook"
    )
