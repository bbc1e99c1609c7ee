"""Sending the outbox (issue 16): deliveries leave after the commit that queued them, each
integration's strictly in order, each claimed by exactly one worker.

A pass works in three steps, none of which holds a transaction open across the network:

1. **claim** (a short transaction): the integration's row is locked ``FOR UPDATE SKIP
   LOCKED`` (PostgreSQL; SQLite's writers are serialized anyway), so two workers never claim
   for one integration at once; the head of its queue — its oldest undelivered rows, as long
   as each is due and nobody holds it, up to ``BATCH`` — is moved ``pending -> sending`` by a
   compare-and-set UPDATE. While deliveries of an integration are claimed the rest wait: the
   vendor sees them in the order they were made (a return after its payment, a settlement
   after its journal's payments).
2. **attempt**: the HTTP calls, one after the other, outside any transaction; after a
   transport error the claims not yet attempted are given back (``release``).
3. **record** (a short transaction): ``sent``; ``rejected`` (the vendor refused: never retried
   by itself, kept in the integration's last error and e-mailed to the landlord users);
   ``failed`` (it could not be built, or the retries ran out: the same); or, for a transport
   error, ``pending`` again with the next attempt backed off **on the workspace clock**: a
   scheduled event at that instant makes a clock advance stop there and retry.

Workers: ``deliver`` runs a pass synchronously (a clock advance after each job, the CLI);
``make_courier`` (``portal.core.couriers``) runs passes on the server's event loop after each
request that queued deliveries (HTTP in a worker thread), and at start-up for whatever a
restart left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import Engine, bindparam, exists, select, update
from sqlmodel import Session, col

from portal.auth import service as auth_service
from portal.auth.models import Integration, IntegrationKind
from portal.core import couriers, jobs, transitions
from portal.core.clock import Clock, as_aware
from portal.core.db import loop_writer, session_scope
from portal.core.money import format_usd
from portal.events import service as events
from portal.notifications import service as notifications
from portal.notifications.models import EmailKind
from portal.outbox.models import DELIVERY_TRANSITIONS, Delivery, DeliveryState, Topic
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

from .amsi import ledger as amsi_ledger
from .mri import ledger as mri_ledger
from .outcome import Outcome

log = logging.getLogger(__name__)

#: A claim is abandoned (its worker died) after this much real time; another worker takes it.
CLAIM_FOR = timedelta(minutes=2)

#: The waits between attempts after transport errors, in workspace time: about two days in
#: all, so an eSite down for an hour, or a night, gets everything once it is back.
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 30, 60, 120, 240, 480, 720, 1440))

#: Makes a clock advance stop at a retry's instant (the pass after that job sends it).
RETRY = jobs.EventKind("connectors.retry", jobs.RANK_DELIVERIES)

_LIVE = (DeliveryState.PENDING, DeliveryState.SENDING)


@dataclass(frozen=True)
class Claim:
    workspace_id: str
    delivery_id: str
    seq: int
    integration_id: str
    kind: IntegrationKind
    topic: Topic
    facts: dict[str, Any]
    connection: dict[str, Any]
    password: str | None
    attempts: int
    now: datetime


#: At most this many deliveries are claimed at once: the due prefix of one integration's queue,
#: sent in order by the worker that claimed them (one claiming transaction, not one each).
BATCH = 25


def claim_next(
    session: Session, workspace_id: str, *, system: Clock, until: datetime | None = None
) -> list[Claim]:
    """Claim the next deliveries of the workspace to send (the module docstring, step 1): the
    due head of one integration's queue, up to ``BATCH`` in a row. ``until``: the workspace
    instant of the pass (a clock advance's job); None: the clock's."""
    ws = session.get(Workspace, workspace_id)
    if ws is None:
        return []
    now = as_aware(until) if until is not None else workspaces_service.now_of(ws, system)
    real_now = system.now()
    integration_ids = session.scalars(
        select(col(Delivery.integration_id))
        .distinct()
        .where(col(Delivery.workspace_id) == workspace_id, col(Delivery.state).in_(_LIVE))
        .order_by(col(Delivery.integration_id))
    ).all()
    for integration_id in integration_ids:
        integration = session.scalars(
            select(Integration)
            .where(
                col(Integration.workspace_id) == workspace_id,
                col(Integration.id) == integration_id,
            )
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if integration is None:
            continue  # another worker is claiming for this integration right now
        queue = session.scalars(
            select(Delivery)
            .where(
                col(Delivery.workspace_id) == workspace_id,
                col(Delivery.integration_id) == integration_id,
                col(Delivery.state).in_(_LIVE),
            )
            .order_by(col(Delivery.seq))
            .limit(BATCH)
            .execution_options(populate_existing=True)
        ).all()
        taken: list[Delivery] = []
        for row in queue:
            held_until = row.claimed_until
            if row.state is DeliveryState.SENDING:
                if not taken and held_until and as_aware(held_until) <= real_now:
                    taken.append(row)  # abandoned by its worker: taken over
                    continue
                break  # in flight; the rest of this integration waits behind it
            if as_aware(row.next_attempt_at) > now:
                break  # backing off; likewise
            taken.append(row)
        if not taken:
            continue
        timeout = float((integration.connection or {}).get("timeout_seconds") or 10)
        claimed_until = real_now + CLAIM_FOR + timedelta(seconds=timeout * len(taken))
        for state in (DeliveryState.SENDING, DeliveryState.PENDING):
            chosen = [row.id for row in taken if row.state is state]
            if not chosen:
                continue
            claimed = session.execute(
                update(Delivery)
                .where(
                    col(Delivery.workspace_id) == workspace_id,
                    col(Delivery.id).in_(chosen),
                    transitions.moving(
                        col(Delivery.state), DELIVERY_TRANSITIONS, [state], DeliveryState.SENDING
                    ),
                )
                .values(
                    state=DeliveryState.SENDING,
                    attempts=col(Delivery.attempts) + 1,
                    claimed_until=claimed_until,
                    last_attempt_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if claimed.rowcount != len(chosen):  # type: ignore[attr-defined]
                # Unreachable while the integration's row is locked; never half-claim.
                raise RuntimeError(f"deliveries of {integration_id} changed while claimed")
        return [
            Claim(
                workspace_id=workspace_id,
                delivery_id=row.id,
                seq=row.seq,
                integration_id=integration_id,
                kind=integration.kind,
                topic=Topic(row.topic),
                facts=dict(row.facts),
                connection=dict(integration.connection or {}),
                password=integration.connection_password,
                attempts=row.attempts + 1,
                now=now,
            )
            for row in taken
        ]
    return []


def release(session: Session, claims: Sequence[Claim]) -> None:
    """Give back claims not attempted (a transport error stopped the run before them): pending
    again, the attempt not counted, due as they were."""
    for claim in claims:
        session.execute(
            update(Delivery)
            .where(
                col(Delivery.workspace_id) == claim.workspace_id,
                col(Delivery.id) == claim.delivery_id,
                col(Delivery.attempts) == claim.attempts,
                transitions.moving(
                    col(Delivery.state),
                    DELIVERY_TRANSITIONS,
                    [DeliveryState.SENDING],
                    DeliveryState.PENDING,
                ),
            )
            .values(state=DeliveryState.PENDING, attempts=claim.attempts - 1, claimed_until=None)
            .execution_options(synchronize_session=False)
        )


#: Each connected kind's sender: its wire format and rules; the rest of the outbox is shared.
SENDERS = {IntegrationKind.AMSI: amsi_ledger.send, IntegrationKind.MRI: mri_ledger.send}
#: How the failure e-mail names the vendor's server.
VENDORS = {IntegrationKind.AMSI: "the eSite", IntegrationKind.MRI: "MRI"}


def attempt(claim: Claim) -> Outcome:
    """The vendor call (no database)."""
    if not claim.connection:
        return Outcome(
            "unbuildable", claim.topic.value, description="the integration has no connection"
        )
    sender = SENDERS.get(claim.kind)
    if sender is None:
        return Outcome(
            "unbuildable", claim.topic.value, description=f"no connector for {claim.kind.value}"
        )
    return sender(
        claim.topic, claim.facts, claim.connection, claim.password, retry=claim.attempts > 1
    )


def record(session: Session, claim: Claim, outcome: Outcome) -> DeliveryState:
    """Keep what the attempt came to (the module docstring, step 3)."""
    response = outcome.as_json() | {"attempt": claim.attempts, "at": claim.now.isoformat()}
    values: dict[str, Any] = {"last_response": response, "claimed_until": None}
    if outcome.verdict == "sent":
        to, values["sent_at"] = DeliveryState.SENT, claim.now
    elif outcome.verdict == "transport" and claim.attempts <= len(BACKOFF):
        to = DeliveryState.PENDING
        values["next_attempt_at"] = claim.now + BACKOFF[claim.attempts - 1]
    elif outcome.verdict == "rejected":
        to = DeliveryState.REJECTED
    else:
        to = DeliveryState.FAILED
    values["state"] = to
    done = session.execute(
        update(Delivery)
        .where(
            col(Delivery.workspace_id) == claim.workspace_id,
            col(Delivery.id) == claim.delivery_id,
            col(Delivery.attempts) == claim.attempts,
            transitions.moving(
                col(Delivery.state), DELIVERY_TRANSITIONS, [DeliveryState.SENDING], to
            ),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        # Our claim expired and another worker took the delivery over: its word stands.
        log.warning("delivery %s: claim lost before its outcome was kept", claim.delivery_id)
        return to
    if to is DeliveryState.SENT:
        return to
    ws = session.get(Workspace, claim.workspace_id)
    assert ws is not None
    ids = workspaces_service.minter(ws, session)
    if to is DeliveryState.PENDING:
        jobs.schedule(
            session,
            ids,
            kind=RETRY,
            due_at=values["next_attempt_at"],
            payload={"delivery_id": claim.delivery_id, "attempt": claim.attempts + 1},
            now=claim.now,
        )
    elif to in (DeliveryState.REJECTED, DeliveryState.FAILED):
        _tell_failure(session, ids, claim, outcome, to)
    return to


def _tell_failure(
    session: Session,
    ids: Any,
    claim: Claim,
    outcome: Outcome,
    state: DeliveryState,
) -> None:
    """A refused or undeliverable posting is the integration's last error and an e-mail to
    every landlord user (issue 16; RT mailed failed posts at its nightly close, §1.5)."""
    if outcome.verdict == "rejected":
        code = "connector_rejected"
        code_part = f" with error {outcome.code}" if outcome.code is not None else ""
        what = (
            f"{VENDORS.get(claim.kind, 'the server')} refused {outcome.operation}{code_part}: "
            f"{outcome.description}"
        )
    elif outcome.verdict == "transport":
        code = "connector_unreachable"
        what = (
            f"{outcome.operation} got no answer after {claim.attempts} attempts: "
            f"{outcome.description}"
        )
    else:
        code = "connector_unbuildable"
        what = f"{outcome.operation} could not be sent: {outcome.description}"
    facts = claim.facts
    subject = {
        Topic.PAYMENT: f"payment {facts.get('transaction_id')}",
        Topic.REVERSAL: f"the reversal of payment {facts.get('transaction_id')}",
        Topic.JOURNAL_CLOSE: f"the close of journal {facts.get('journal')}",
    }[claim.topic]
    session.execute(
        update(Integration)
        .where(
            col(Integration.workspace_id) == claim.workspace_id,
            col(Integration.id) == claim.integration_id,
        )
        .values(
            last_error={
                "at": claim.now.isoformat(),
                "source": "connector",
                "status": None,
                "code": code,
                "detail": f"Posting {subject}: {what}.",
                "delivery_id": claim.delivery_id,
                "operation": outcome.operation,
                "vendor_code": outcome.code,
                "errors": [],
            }
        )
        .execution_options(synchronize_session=False)
    )
    events.emit(
        session,
        claim.workspace_id,
        "connector.delivery_failed",
        now=claim.now,
        integration_id=claim.integration_id,
        data={
            "delivery_id": claim.delivery_id,
            "state": state.value,
            "code": code,
            "operation": outcome.operation,
            "vendor_code": outcome.code,
            "detail": f"Posting {subject}: {what}.",
        },
    )
    amount = facts.get("amount_cents")
    lines = [
        f"The portal could not post {subject} to your accounting system ({state.value}).",
        "",
        f"What happened: {what}.",
    ]
    if amount is not None:
        lines.append(f"Amount: {format_usd(int(amount))}; journal {facts.get('journal')}.")
    lines += ["", f"Delivery {claim.delivery_id}: retry it once the cause is fixed."]
    notifications.send_many(
        session,
        ids,
        [
            notifications.Message(
                to=to,
                subject=f"Posting to your accounting system failed: {subject}",
                kind=EmailKind.CONNECTOR_FAILURE,
                body="\n".join(lines),
                data={"delivery_id": claim.delivery_id, "code": code},
            )
            for to in auth_service.landlord_emails(session, claim.workspace_id)
        ],
        now=claim.now,
    )


def deliver(
    engine: Engine, workspace_id: str, *, system: Clock, until: datetime | None = None
) -> int:
    """A pass, synchronously: send every due delivery of the workspace. Returns how many
    attempts were made."""
    made = 0
    while True:
        with session_scope(engine) as session:
            claims = claim_next(session, workspace_id, system=system, until=until)
        if not claims:
            return made
        for n, claim in enumerate(claims):
            outcome = attempt(claim)
            with session_scope(engine) as session:
                state = record(session, claim, outcome)
                if state is DeliveryState.PENDING:  # retrying: the rest wait behind it
                    release(session, claims[n + 1 :])
            made += 1
            if state is DeliveryState.PENDING:
                break


#: Built once (``has_live`` runs after each job of a clock advance that queued a delivery).
_HAS_LIVE = select(
    exists().where(
        col(Delivery.workspace_id) == bindparam("workspace_id"), col(Delivery.state).in_(_LIVE)
    )
)


def has_live(session: Session, workspace_id: str) -> bool:
    """Whether the workspace's outbox holds a delivery not yet sent or given up."""
    return session.scalar(_HAS_LIVE, {"workspace_id": workspace_id}) is True


def workspaces_with_due(session: Session) -> list[str]:
    return list(
        session.scalars(
            select(col(Delivery.workspace_id))
            .distinct()
            .where(col(Delivery.state).in_(_LIVE))
            .order_by(col(Delivery.workspace_id))
        )
    )


async def _pass(courier: couriers.Courier, workspace_id: str) -> None:
    """One pass of the connectors' outbox: claim, send, record, until nothing is due."""
    while True:
        async with loop_writer(courier.state):
            with session_scope(courier.engine) as session:
                claims = claim_next(session, workspace_id, system=courier.system)
        if not claims:
            return
        for n, claim in enumerate(claims):
            outcome = await anyio.to_thread.run_sync(attempt, claim)
            async with loop_writer(courier.state):
                with session_scope(courier.engine) as session:
                    state = record(session, claim, outcome)
                    if state is DeliveryState.PENDING:
                        release(session, claims[n + 1 :])
            if state is DeliveryState.PENDING:
                break


def make_courier(engine: Engine, system: Clock, state: Any) -> couriers.Courier:
    """The connectors' deliveries courier (``portal.core.couriers``), made by the app's lifespan."""
    return couriers.Courier(
        engine, system, state, pass_=_pass, due=workspaces_with_due, name="delivery"
    )
