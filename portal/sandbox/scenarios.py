"""Scenario files (``seed_data/*.json``, architecture.md §9): a whole world in one document.

Entities refer to each other by local ``key``s; loading returns key -> ID. Loading goes through
the same service functions as the API, in one transaction (all or nothing), and the same file
gives the same IDs every time for the same seed; the residents, payment sources and schedules go
in set-based (``scenario_bulk``, ``scenario_bulk_money``), the same rows as those services would
write, and a row they would refuse is handed to them to refuse. Validation errors name the JSON
path of the bad field. Later features extend ``Scenario`` with their entities.

Format, version 1::

    {
      "scenario": "short-name", "description": "...",
      "workspace": {"id"?, "name", "seed", "clock": {"mode", "now"}, "settings": {...},
                    "landlord": {"email", "password", "name"}},
      "integrations": [{"key", "name", "kind", "features", "processing_options",
                        "issue_token": true}],
      "properties": [{"key", "name", "external_id", "address": {"street", "city", "state",
                      "postal_code"}, "units": [{"key", "name", "external_id"}]}],
      "deposit_accounts": [{"key", "type", "name", "account_number", "routing_number",
                            "properties": [property keys]}],
      "residents": [{"key", "name", "email", "phone", "unit": unit key, "state":
                     "invited" | "approved" | "waiting", "password" (approved),
                     "lease": {"key"?, "rent", "due_day", "start_date", "end_date", "balance",
                               "external_resident_id", "payments", "pay_full_balance_only"}}],
      "pending_residents": [{"key", "name", "email", "password", "phone", "property", "unit"}],
      "accounting_records": [{"resident_id", "property_id", "unit_id", "name", "email",
                              "phone", "rent", "balance", "lease_start", "lease_end",
                              "payment_accepted", "pay_full_balance_only"}],
      "balances": [{"integration": integration key, "bank_account": {...},
                    "residents": [...]}]   (a "Send Balances" call, as the client sends it),
      "payment_sources": [{"key", "resident": resident key, "type": "bank_account",
                           "routing_number", "account_number"}
                          | {"key", "resident", "type": "card", "number", "exp_month",
                             "exp_year", "funding"?}],
      "recurring_payments": [{"key"?, "resident", "source": source key, "lease"?: lease key,
                              "amount", "type", "day_of_month", "end_month"?}],
      "payments": [{"key"?, "resident", "source", "lease"?, "amount", "type", "at": instant,
                    "date"?}],
      "reversals": [{"key"?, "payment": payment key, "action": "void" | "refund" | "return" |
                     "chargeback" | "accept" | "challenge", "at": instant (after the
                     payment's), "code" (return: "R01"), "reason_code" (chargeback: "10.4"),
                     "outcome"? (chargeback: "won" | "lost"), "evidence"? (challenge)}],
      "work_orders": [...], "applications": [...]   (see ``scenario_upkeep``),
      "advance_to": instant?
    }

Residents arrive through the portal's own paths: an ``invited`` resident gets the invitation
e-mail, an ``approved`` one has also accepted it with ``password``, a ``pending`` one signed up
(and the landlord was told). ``accounting_records`` stand for what an accounting client has
sent, so "approve by sync" can be exercised before a client has called.

Money moves last, on the workspace clock. Sources and recurring schedules are set up at the
load instant; then the payments are made in ``at`` order: before each, the clock advances to
its ``at`` running every job due on the way (cut-offs close batches, settlements deposit them,
schedules charge), and the payment is made at that instant through the same rules as ``POST
/v1/resident/payments`` (a future ``date`` schedules it). A payment the rules refuse fails the
whole load (422 ``scenario_refused`` naming ``$.payments[i]`` and the rule's code). Finally the
clock advances to ``advance_to``. The whole load is still one transaction: the advances
checkpoint nothing. A payment's ``lease`` is a lease ``key`` (default: the resident's own lease).

Reversals happen in one of two ways:

- **magic values** of the payment sources (architecture.md §8), with no entry of their own: a
  payment from ACH account ``10000000NN`` is returned with ``RNN`` 2 banking days after its
  business date (after the deposit), from ``20000000NN`` on its deposit date before the deposit,
  and card ``4000000000000259`` is charged back (Visa 10.4) 3 banking days after the deposit.
  The clock's ``reversals.magic`` job does it at 05:00 New York, so it happens during the load
  when the load's clock passes that day, else on the tester's later advance;
- ``reversals`` entries: one action on a payment (by its ``key``) at the instant ``at``,
  strictly after the payment's. ``code`` belongs to a ``return`` (and only to it),
  ``reason_code`` to a ``chargeback``, which may also give the dispute's ``outcome`` if it is
  challenged; ``accept`` and ``challenge`` (with ``evidence``) answer the payment's open
  dispute. Reversals are merged with the payments in time order (at one instant the payments
  first, then the reversals in document order). One at or before the load's final instant
  (``advance_to``, or the last payment's ``at`` if later) is performed during the load, the
  clock advanced to ``at`` first, with the same rules as the landlord and operator routes
  (``initiated_by`` ``scenario``); a refused one fails the whole load (422
  ``scenario_refused`` naming ``$.reversals[i]`` and the rule's code). Its ``key`` names the
  reversal (for ``accept`` and ``challenge``, the dispute); a void that cancels a payment
  scheduled for a later day moves no money, leaves no reversal, and its key names nothing.
  A later one is stored as a ``reversals.scheduled`` event due at ``at`` and listed in the
  result's ``scheduled``: it happens when the tester advances the clock past it, and a refusal
  then is reported in that advance's job list instead of failing anything.

``portal seed FILE`` and ``POST /v1/sandbox/scenarios`` (``create_from``) create the workspace
the file describes (ID, name, seed, clock, settings, landlord) and load it: the same IDs either
way. ``POST /v1/sandbox/workspaces/{ws}/scenario`` (``scenario_loads.load_into_workspace``)
loads into an existing workspace: it applies the file's settings, moves the clock forward to the
file's ``clock.now`` (refused if that is before the workspace clock) and ensures the file's
landlord login; the workspace keeps its ID, name, seed and clock mode. Every load is kept
(``scenario_store``) so that ``reset`` loads it again. The design is
``docs/scenarios-over-http.md``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from portal.auth import service as auth_service
from portal.balances import service as balances_service
from portal.core import jobs
from portal.core.clock import Clock
from portal.core.errors import FieldError, PortalError, Unprocessable
from portal.core.ids import IdMinter, buffered
from portal.payments import recurring as recurring_service
from portal.payments import schemas as payments_schemas
from portal.payments import service as payments_service
from portal.payments import sources as sources_service
from portal.properties import accounts as accounts_service
from portal.properties import service as properties_service
from portal.residents import approvals, invitations, signups
from portal.residents import leases as leases_service
from portal.reversals import jobs as reversal_jobs
from portal.sandbox import clock as sandbox_clock
from portal.sandbox import scenario_bulk, scenario_bulk_money, scenario_store
from portal.sandbox import scenario_upkeep as upkeep
from portal.sandbox import service as sandbox_service
from portal.sandbox.scenario_spec import (
    BankSourceSpec,
    ReversalSpec,
    Scenario,
    ScenarioLoaded,
    ScheduledReversal,
    WorkspaceFromScenario,
    parse,
)
from portal.workspaces import schemas as ws_schemas
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace


def load_into(
    session: Session,
    ws: Workspace,
    scenario: Scenario,
    *,
    signing_key: str,
    now: datetime,
    system: Clock,
    ignored: list[str] | None = None,
) -> ScenarioLoaded:
    """Create the scenario's entities in ``ws``, then make its payments on the workspace clock
    (see the module docstring); flushes, never commits. ``now`` is the workspace's instant,
    ``system`` the process clock (a ``real``-mode workspace clock runs from it)."""
    ids = workspaces_service.minter(ws, session)
    keys: dict[str, str] = {}
    tokens: dict[str, str] = {}
    for spec in scenario.integrations:
        integration = auth_service.create_integration(
            session,
            ids,
            name=spec.name,
            kind=spec.kind,
            features=[f.value for f in spec.features],
            processing_options=spec.processing_options.model_dump(),
            now=now,
            flavor=spec.flavor,
            lockbox_format=spec.lockbox_format,
            connection=spec.connection,
        )
        keys[spec.key] = integration.id
        if spec.issue_token:
            _row, token = auth_service.issue_token(
                session, ids, integration, key=signing_key, now=now
            )
            tokens[spec.key] = token
    # Everything up to the payments happens at ``now``, with IDs reserved in blocks (the same
    # IDs; ``ids.buffered``); the clock only moves after.
    with buffered(session):
        leases = _load_world(session, ids, scenario, keys, now=now)
        for call in scenario.balances:
            integration = auth_service.get_integration(session, ws.id, keys[call.integration])
            balances_service.receive(session, ids, integration, call, now=now)
        try:
            upkeep.load_work_orders(session, ids, scenario.work_orders, keys, leases, now=now)
        except PortalError as exc:
            raise _refused("$.work_orders", exc) from None
        try:
            upkeep.load_applications(session, ids, scenario.applications, keys, now=now)
        except PortalError as exc:
            raise _refused("$.applications", exc) from None
    scheduled = _load_money(session, ws, ids, scenario, keys, leases, now=now, system=system)
    return ScenarioLoaded(
        workspace_id=ws.id,
        scenario=scenario.scenario,
        keys=keys,
        tokens=tokens,
        ignored=ignored or [],
        scheduled=scheduled,
    )


def _load_world(
    session: Session, ids: IdMinter, scenario: Scenario, keys: dict[str, str], *, now: datetime
) -> dict[str, str]:
    """Properties, accounts and people, through the same services the API uses (the residents
    set-based, ``scenario_bulk``). Returns each resident key's lease ID."""
    leases: dict[str, str] = {}
    for p in scenario.properties:
        prop = properties_service.create_property(
            session,
            ids,
            name=p.name,
            external_id=p.external_id,
            street=p.address.street,
            city=p.address.city,
            state=p.address.state,
            postal_code=p.address.postal_code,
            post_reversals=p.post_reversals,
            now=now,
        )
        if p.integration is not None:
            properties_service.update_property(
                session, prop, {"integration_id": keys[p.integration]}
            )
        keys[p.key] = prop.id
        unit_ids = properties_service.create_units(
            session, ids, prop, [(u.name, u.external_id) for u in p.units], now=now
        )
        keys.update((u.key, uid) for u, uid in zip(p.units, unit_ids, strict=True))
    for a in scenario.deposit_accounts:
        keys[a.key] = accounts_service.create_deposit_account(
            session,
            ids,
            type=a.type,
            name=a.name,
            account_number=a.account_number,
            routing_number=a.routing_number,
            property_ids=[keys[k] for k in a.properties],
            now=now,
        ).id
    if not scenario_bulk.load_residents(session, ids, scenario.residents, keys, leases, now=now):
        _residents_one_by_one(session, ids, scenario, keys, leases, now=now)
    for pr in scenario.pending_residents:
        keys[pr.key] = signups.signup(
            session,
            ids,
            email=pr.email,
            password=pr.password,
            name=pr.name,
            phone=pr.phone,
            property_id=keys[pr.property],
            unit_id=keys[pr.unit] if pr.unit else None,
            now=now,
        ).id
    for rec in scenario.accounting_records:
        approvals.record_accounting(
            session,
            ids,
            integration_id=None,
            external_resident_id=rec.resident_id,
            external_property_id=rec.property_id,
            external_unit_id=rec.unit_id,
            name=rec.name,
            email=rec.email,
            phone=rec.phone,
            rent_cents=rec.rent,
            balance_cents=rec.balance,
            lease_start=rec.lease_start,
            lease_end=rec.lease_end,
            payment_accepted=rec.payment_accepted,
            pay_full_balance_only=rec.pay_full_balance_only,
            now=now,
        )
    return leases


def _residents_one_by_one(
    session: Session,
    ids: IdMinter,
    scenario: Scenario,
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: datetime,
) -> None:
    """The residents through the API's own services, one at a time: what the bulk load
    (``scenario_bulk``) writes set-based, and the path that reports a row it would refuse."""
    for r in scenario.residents:
        resident, lease = invitations.invite(
            session,
            ids,
            name=r.name,
            email=r.email,
            phone=r.phone,
            unit_id=keys[r.unit],
            rent_cents=r.lease.rent,
            due_day=r.lease.due_day,
            start_date=r.lease.start_date,
            end_date=r.lease.end_date,
            external_resident_id=r.lease.external_resident_id,
            amsi=False,
            now=now,
        )
        leases_service.update_lease(
            session,
            ids,
            lease,
            {
                "balance_cents": r.lease.balance,
                "payments": r.lease.payments,
                "pay_full_balance_only": r.lease.pay_full_balance_only,
            },
            amsi=False,
            now=now,
        )
        if r.state == "approved":
            assert r.password is not None
            invitations.accept_invited(session, resident, password=r.password, now=now)
        keys[r.key] = resident.id
        leases[r.key] = lease.id
        if r.lease.key is not None:
            keys[r.lease.key] = lease.id


class ScenarioRefused(Unprocessable):
    """The document is valid, but the portal refused one of its steps (a payment breaking a
    rule, a card failing the Luhn check); the field error names the step and the rule's code."""

    code = "scenario_refused"


def _refused(path: str, exc: PortalError) -> ScenarioRefused:
    # A service names fields from its own body's root ($.number): re-root them at the step.
    errors = [
        FieldError(path + e.field[1:] if e.field.startswith("$") else path, e.message, e.code)
        for e in exc.errors
    ] or [FieldError(path, exc.detail, exc.code)]
    return ScenarioRefused(f"{path} was refused ({exc.code}): {exc.detail}", errors=errors)


def _clock_error(path: str, message: str) -> Unprocessable:
    return Unprocessable(
        f"The scenario is not valid: {path}: {message}",
        code="invalid_scenario",
        errors=[FieldError(path, message, "outside_clock")],
    )


def _check_instant(path: str, at: datetime, now: datetime) -> None:
    """A scenario's instants lie between the workspace clock and the longest advance."""
    if at < now:
        raise _clock_error(
            path,
            f"{at.isoformat()} is before the workspace clock ({now.isoformat()}), and the "
            "clock never moves backwards: make it no earlier than the scenario's "
            "workspace.clock.now, or load the scenario into a workspace whose clock is earlier "
            "(POST /v1/sandbox/scenarios starts one at workspace.clock.now)",
        )
    if at - now > sandbox_clock.MAX_ADVANCE:
        raise _clock_error(
            path,
            f"{at.isoformat()} is more than {sandbox_clock.MAX_ADVANCE.days} days after "
            f"the workspace clock ({now.isoformat()})",
        )


def _load_sources(
    session: Session,
    ws: Workspace,
    ids: IdMinter,
    scenario: Scenario,
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: datetime,
) -> None:
    """The payment sources and recurring schedules, at ``now``, set-based
    (``scenario_bulk_money``); one it would refuse is reported by the per-row path."""
    if not scenario_bulk_money.load_sources(
        session,
        ws,
        ids,
        scenario.payment_sources,
        scenario.recurring_payments,
        keys,
        leases,
        now=now,
    ):
        _sources_one_by_one(session, ws, ids, scenario, keys, leases, now=now)


def _sources_one_by_one(
    session: Session,
    ws: Workspace,
    ids: IdMinter,
    scenario: Scenario,
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: datetime,
) -> None:
    """The payment sources and recurring schedules through the API's services, one at a
    time; a refusal names ``$.payment_sources[i]`` or ``$.recurring_payments[i]``."""
    for i, s in enumerate(scenario.payment_sources):
        try:
            if isinstance(s, BankSourceSpec):
                source = sources_service.create_bank_account(
                    session,
                    ids,
                    resident_id=keys[s.resident],
                    routing_number=s.routing_number,
                    account_number=s.account_number,
                    now=now,
                )
            else:
                source = sources_service.create_card(
                    session,
                    ids,
                    resident_id=keys[s.resident],
                    number=s.number,
                    exp_month=s.exp_month,
                    exp_year=s.exp_year,
                    funding=s.funding,
                    now=now,
                )
        except PortalError as exc:
            raise _refused(f"$.payment_sources[{i}]", exc) from None
        keys[s.key] = source.id
    for i, r in enumerate(scenario.recurring_payments):
        try:
            schedule = recurring_service.create_schedule(
                session,
                ids,
                resident_id=keys[r.resident],
                lease_id=keys[r.lease] if r.lease else leases[r.resident],
                source_id=keys[r.source],
                amount_cents=r.amount,
                type=r.type,
                day_of_month=r.day_of_month,
                end_month=payments_schemas.parse_month(r.end_month) if r.end_month else None,
                settings=ws.settings,
                now=now,
            )
        except PortalError as exc:
            raise _refused(f"$.recurring_payments[{i}]", exc) from None
        if r.key is not None:
            keys[r.key] = schedule.id


def _load_money(
    session: Session,
    ws: Workspace,
    ids: IdMinter,
    scenario: Scenario,
    keys: dict[str, str],
    leases: dict[str, str],
    *,
    now: datetime,
    system: Clock,
) -> list[ScheduledReversal]:
    """Payment sources and schedules at ``now``; then each payment and reversal at its own
    instant, the clock advanced (and its jobs run) up to it first; then the clock to
    ``advance_to``; then the reversals beyond that are stored for later. Returns those."""
    for i, p in enumerate(scenario.payments):
        _check_instant(f"$.payments[{i}].at", p.at, now)
    if scenario.advance_to is not None:
        _check_instant("$.advance_to", scenario.advance_to, now)
    for i, rv in enumerate(scenario.reversals):
        # Also the stored ones: a world should not hold an action no single advance can reach.
        _check_instant(f"$.reversals[{i}].at", rv.at, now)
    with buffered(session):
        _load_sources(session, ws, ids, scenario, keys, leases, now=now)
    updates = [
        (u.at, 2, (i, j))
        for i, w in enumerate(scenario.work_orders)
        for j, u in enumerate(w.updates)
    ]
    for at, _step, (i, j) in updates:
        _check_instant(f"$.work_orders[{i}].updates[{j}].at", at, now)
    final = max(
        [p.at for p in scenario.payments]
        + [at for at, _step, _ij in updates]
        + ([scenario.advance_to] if scenario.advance_to is not None else []),
        default=now,
    )
    # In time order. At one instant payments come first, as the document lists them: a void at
    # 15:00 does not free a place in the daily limit for a payment at 15:00. Within each list
    # the document's order holds (the index breaks the tie).
    steps: list[tuple[datetime, int, Any]] = sorted(
        [(p.at, 0, i) for i, p in enumerate(scenario.payments)]
        + [(rv.at, 1, i) for i, rv in enumerate(scenario.reversals) if rv.at <= final]
        + updates
    )
    for at, step, i in steps:
        advance_in_load(session, ws, at, system)
        if step == 1:
            _reverse(session, ws, ids, scenario.reversals[i], i, keys)
            continue
        if step == 2:
            w, u = i
            spec = scenario.work_orders[w]
            try:
                upkeep.update_work_order(session, ids, keys[spec.key], spec.updates[u])
            except PortalError as exc:
                raise _refused(f"$.work_orders[{w}].updates[{u}]", exc) from None
            continue
        p = scenario.payments[i]
        try:
            payment = payments_service.make_payment(
                session,
                ids,
                resident_id=keys[p.resident],
                lease_id=keys[p.lease] if p.lease else leases[p.resident],
                source_id=keys[p.source],
                amount_cents=p.amount,
                type=p.type,
                on=p.date,
                settings=ws.settings,
                now=p.at,
                batch_id=p.batch_id,
            )
        except PortalError as exc:
            raise _refused(f"$.payments[{i}]", exc) from None
        if p.key is not None:
            keys[p.key] = payment.id
    if scenario.advance_to is not None:
        advance_in_load(session, ws, scenario.advance_to, system)
    scheduled = []
    for i, rv in enumerate(scenario.reversals):
        if rv.at <= final:
            continue
        payment_id = keys[rv.payment]
        event = jobs.schedule(
            session,
            ids,
            kind=reversal_jobs.SCHEDULED_EVENT,
            due_at=rv.at,
            payload=rv.action_payload(payment_id),
            now=final,
        )
        scheduled.append(
            ScheduledReversal(
                index=i,
                key=rv.key,
                action=rv.action,
                payment_id=payment_id,
                at=rv.at,
                event_id=event.id,
            )
        )
    return scheduled


def _reverse(
    session: Session,
    ws: Workspace,
    ids: IdMinter,
    rv: ReversalSpec,
    i: int,
    keys: dict[str, str],
) -> None:
    """One reversal during the load, at its ``at`` (the clock is there already)."""
    try:
        out = reversal_jobs.perform(
            session,
            ids,
            rv.action_payload(keys[rv.payment]),
            settings=ws.settings,
            now=rv.at,
            initiated_by="scenario",
        )
    except PortalError as exc:
        raise _refused(f"$.reversals[{i}]", exc) from None
    if rv.key is None:
        return
    named = out["dispute_id"] if rv.action in ("accept", "challenge") else out["reversal_id"]
    # None: a void that cancelled a payment not started yet; no reversal exists to name.
    if named is not None:
        keys[rv.key] = named


def advance_in_load(session: Session, ws: Workspace, target: datetime, system: Clock) -> None:
    """Run the jobs due up to ``target`` inside the load's transaction (no checkpoints: a
    refused step later in the document rolls the advance back too)."""
    sandbox_clock.advance_clock(
        session, ws.id, target=target, system=system, checkpoint=_no_checkpoint
    )


def _no_checkpoint() -> None:
    pass


def create_from(
    session: Session,
    scenario: Scenario,
    *,
    signing_key: str,
    system_now: datetime,
    system_clock: Clock,
    replace: bool = False,
) -> WorkspaceFromScenario:
    """Create the workspace the scenario describes (its ID, seed, clock, settings and landlord)
    and load it: ``portal seed FILE`` and ``POST /v1/sandbox/scenarios``. A workspace of that
    ID is deleted first with ``replace``, else refused (409 ``workspace_exists``). The load is
    kept for ``reset``. Flushes, never commits."""
    with auth_service.scenario_passwords():
        return _create_from(
            session,
            scenario,
            signing_key=signing_key,
            system_now=system_now,
            system_clock=system_clock,
            replace=replace,
        )


def _create_from(
    session: Session,
    scenario: Scenario,
    *,
    signing_key: str,
    system_now: datetime,
    system_clock: Clock,
    replace: bool,
) -> WorkspaceFromScenario:
    wanted = scenario.workspace.id
    if wanted is not None and session.get(Workspace, wanted) is not None:
        if not replace:
            raise workspaces_service.WorkspaceExists(
                f"Workspace {wanted!r} already exists. To delete it and load the scenario "
                "again, pass ?replace=true (POST /v1/sandbox/scenarios?replace=true) or "
                "--replace (portal seed FILE --replace); to return it to the scenario it was "
                f"loaded from, POST /v1/sandbox/workspaces/{wanted}/reset.",
                extra={"workspace_id": wanted},
            )
        sandbox_service.delete_workspace(session, wanted)
    created = sandbox_service.create_workspace(session, scenario.workspace, system_now=system_now)
    ws = created.workspace
    settings_before = dict(ws.settings)
    now = workspaces_service.now_of(ws, system_clock)
    loaded = load_into(session, ws, scenario, signing_key=signing_key, now=now, system=system_clock)
    scenario_store.record(
        session,
        ws,
        scenario,
        tokens=loaded.tokens,
        settings_before=settings_before,
        created=True,
        now=now,
    )
    return WorkspaceFromScenario(
        **loaded.model_dump(),
        workspace=sandbox_service.workspace_read(ws, system_clock),
        landlord=ws_schemas.LandlordLogin(
            email=created.landlord_email, password=created.landlord_password
        ),
        clock=sandbox_service.clock_read(ws, system_clock),
    )


__all__ = [
    "Scenario",
    "ScenarioLoaded",
    "WorkspaceFromScenario",
    "create_from",
    "load_into",
    "parse",
]
