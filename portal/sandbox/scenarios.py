"""Scenario files (``seed_data/*.json``, architecture.md §9): a whole world in one document.

Entities refer to each other by local ``key``s; loading returns key -> ID. Loading goes through
the same service functions as the API, in one transaction (all or nothing), and the same file
gives the same IDs every time for the same seed. Validation errors name the JSON path of the bad
field. Later features extend ``Scenario`` with their entities.

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

``portal seed FILE`` creates the workspace the file describes. ``POST
/v1/sandbox/workspaces/{ws}/scenario`` loads the entities into an existing workspace and
ignores its ``workspace`` section (the workspace's seed and clock are already set).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from sqlmodel import Session

from portal.auth import schemas as auth_schemas
from portal.auth import service as auth_service
from portal.balances import schemas as balances_schemas
from portal.balances import service as balances_service
from portal.core import jobs
from portal.core.clock import Clock
from portal.core.errors import FieldError, PortalError, Unprocessable, json_path
from portal.core.ids import IdMinter
from portal.core.money import Amount
from portal.payments import recurring as recurring_service
from portal.payments import schemas as payments_schemas
from portal.payments import service as payments_service
from portal.payments import sources as sources_service
from portal.payments.models import PaymentType
from portal.properties import service as properties_service
from portal.properties.models import DepositAccountType
from portal.residents import approvals
from portal.residents import leases as leases_service
from portal.residents import service as residents_service
from portal.residents.models import PaymentsSetting
from portal.reversals import jobs as reversal_jobs
from portal.reversals.codes import chargeback_reason, return_code
from portal.reversals.models import DisputeOutcome
from portal.sandbox import clock as sandbox_clock
from portal.sandbox import scenario_upkeep as upkeep
from portal.sandbox import service as sandbox_service
from portal.sandbox.spec import KEY_PATTERN, Strict
from portal.workspaces import schemas as ws_schemas
from portal.workspaces import service as workspaces_service
from portal.workspaces.models import Workspace

_Strict = Strict


class IntegrationSpec(auth_schemas.IntegrationCreate):
    key: str = Field(pattern=KEY_PATTERN)
    issue_token: bool = Field(
        default=False, description="Issue a token now; it is returned once in the load result"
    )


class UnitSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=100)
    external_id: str | None = Field(default=None, max_length=64)


class AddressSpec(_Strict):
    street: str = Field(min_length=1, max_length=200)
    city: str = ""
    state: str = ""
    postal_code: str = ""


class PropertySpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    external_id: str | None = Field(default=None, max_length=64)
    address: AddressSpec
    units: list[UnitSpec] = Field(default_factory=list)
    integration: str | None = Field(
        default=None,
        description="Key of the integration the property belongs to (its receipt batches); "
        "default: none, so every integration's",
    )
    post_reversals: bool = Field(default=True, description="MRI: post reversals as debits")


class DepositAccountSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    type: DepositAccountType
    name: str = ""
    account_number: str
    routing_number: str
    properties: list[str] = Field(default_factory=list)

    @field_validator("account_number")
    @classmethod
    def _account(cls, value: str) -> str:
        return properties_service.validate_account_number(value)

    @field_validator("routing_number")
    @classmethod
    def _routing(cls, value: str) -> str:
        return properties_service.validate_routing_number(value)


class LeaseSpec(_Strict):
    key: str | None = Field(
        default=None, pattern=KEY_PATTERN, description="Names the lease for payments' `lease`"
    )
    rent: Amount
    due_day: int = Field(default=1, ge=1, le=31)
    start_date: date
    end_date: date | None = None
    balance: Amount = 0
    external_resident_id: str | None = Field(default=None, min_length=1, max_length=64)
    payments: PaymentsSetting = PaymentsSetting.ALLOWED
    pay_full_balance_only: bool = False


class ResidentSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    phone: str | None = None
    unit: str
    state: Literal["invited", "approved", "waiting"] = "invited"
    password: str | None = Field(default=None, min_length=8)
    lease: LeaseSpec

    @model_validator(mode="after")
    def _consistent(self) -> ResidentSpec:
        if self.state == "waiting" and self.email:
            raise ValueError("a waiting resident has no e-mail")
        if self.state != "waiting" and not self.email:
            raise ValueError(f"an {self.state} resident needs an e-mail")
        if self.state == "approved" and not self.password:
            raise ValueError("an approved resident needs the password they chose")
        return self


class PendingResidentSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    name: str = Field(min_length=1, max_length=200)
    email: str
    password: str = Field(min_length=8)
    phone: str | None = None
    property: str
    unit: str | None = None


class AccountingRecordSpec(_Strict):
    resident_id: str = Field(min_length=1, max_length=64)
    property_id: str = Field(min_length=1, max_length=64)
    unit_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    phone: str | None = None
    rent: Amount
    balance: Amount = 0
    lease_start: date | None = None
    lease_end: date | None = None
    payment_accepted: PaymentsSetting = PaymentsSetting.ALLOWED
    pay_full_balance_only: bool = False


class BalancesSpec(balances_schemas.BalancesIn):
    """A "Send Balances" call the scenario's integration makes when the world is loaded."""

    integration: str = Field(description="Key of the integration that sends the call")


class BankSourceSpec(payments_schemas.BankAccountIn):
    key: str = Field(pattern=KEY_PATTERN)
    resident: str = Field(description="Key of the resident who adds the account")


class CardSourceSpec(payments_schemas.CardIn):
    key: str = Field(pattern=KEY_PATTERN)
    resident: str = Field(description="Key of the resident who adds the card")


PaymentSourceSpec = Annotated[BankSourceSpec | CardSourceSpec, Field(discriminator="type")]


class RecurringPaymentSpec(_Strict):
    """An autopay schedule the resident sets up when the world is loaded."""

    key: str | None = Field(default=None, pattern=KEY_PATTERN)
    resident: str
    source: str = Field(description="Key of one of the resident's payment sources")
    lease: str | None = Field(default=None, description="Lease key; default: the resident's")
    amount: Amount
    type: PaymentType = PaymentType.RENT
    day_of_month: int = Field(ge=1, le=31)
    end_month: payments_schemas.Month | None = None


class PaymentSpec(_Strict):
    """A payment the resident makes at the instant ``at`` (the clock runs there first)."""

    key: str | None = Field(default=None, pattern=KEY_PATTERN)
    resident: str
    source: str = Field(description="Key of one of the resident's payment sources")
    lease: str | None = Field(default=None, description="Lease key; default: the resident's")
    amount: Amount
    type: PaymentType = PaymentType.RENT
    at: ws_schemas.Instant = Field(description="When the resident makes it (RFC 3339)")
    date: dt.date | None = Field(
        default=None, description="A later day (New York) schedules the payment for that day"
    )
    batch_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]{16}$",
        description="The ID the deposit batch this payment opens gets (to reproduce a seed's "
        "batch IDs); refused if the batch exists with another ID",
    )

    @model_validator(mode="after")
    def _batch_id_now(self) -> PaymentSpec:
        if self.batch_id is not None and self.date is not None:
            raise ValueError("batch_id belongs to a payment made at once, not a scheduled one")
        return self


ReversalAction = Literal["void", "refund", "return", "chargeback", "accept", "challenge"]


def _only_for(value: object, info: ValidationInfo, action: str, *, required: bool) -> None:
    """``info.field_name`` belongs to ``action`` alone (and is required by it when
    ``required``). Without a valid ``action`` there is nothing to compare with: that field's
    own error is reported instead."""
    given = info.data.get("action")
    if given is None:
        return
    if value is not None and given != action:
        raise ValueError(f"only a {action} has {info.field_name!r}, not a {given}")
    if value is None and given == action and required:
        raise ValueError(f"a {action} needs {info.field_name!r}")


class ReversalSpec(_Strict):
    """One reversal action on a scenario payment at the instant ``at`` (see the docstring)."""

    key: str | None = Field(
        default=None,
        pattern=KEY_PATTERN,
        description="Names the reversal (accept and challenge: the dispute) in the result",
    )
    payment: str = Field(description="Key of the payment (one of `payments`)")
    action: ReversalAction
    at: ws_schemas.Instant = Field(description="When it happens (RFC 3339), after the payment")
    # validate_default: the presence rules below must run when the field is left out, too.
    code: str | None = Field(
        default=None,
        max_length=8,
        validate_default=True,
        description="return: the NACHA return code (R01-R85)",
    )
    reason_code: str | None = Field(
        default=None,
        max_length=8,
        validate_default=True,
        description="chargeback: Visa (10.1-13.9) or Mastercard (4808-4871) reason code",
    )
    outcome: DisputeOutcome | None = Field(
        default=None,
        validate_default=True,
        description="chargeback: how the dispute ends if challenged (default: won, or lost "
        "when the evidence contains 'losing_evidence')",
    )
    evidence: str | None = Field(
        default=None,
        max_length=20_000,
        validate_default=True,
        description="challenge: the landlord's evidence",
    )

    @field_validator("code")
    @classmethod
    def _code(cls, value: str | None, info: ValidationInfo) -> str | None:
        _only_for(value, info, "return", required=True)
        if value is not None and return_code(value) is None:
            raise ValueError(f"{value!r} is not a NACHA return code (R01 to R85)")
        return value

    @field_validator("reason_code")
    @classmethod
    def _reason_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        _only_for(value, info, "chargeback", required=True)
        if value is not None and chargeback_reason(value) is None:
            raise ValueError(
                f"{value!r} is not a Visa (10.1-13.9) or Mastercard (4808-4871) reason code"
            )
        return value

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value: DisputeOutcome | None, info: ValidationInfo) -> DisputeOutcome | None:
        _only_for(value, info, "chargeback", required=False)
        return value

    @field_validator("evidence")
    @classmethod
    def _evidence(cls, value: str | None, info: ValidationInfo) -> str | None:
        _only_for(value, info, "challenge", required=False)
        return value

    def action_payload(self, payment_id: str) -> dict[str, str]:
        """The action as ``reversals.jobs.perform`` (and a stored event's payload) takes it."""
        out = {"action": self.action, "payment_id": payment_id}
        for name in ("code", "reason_code", "outcome", "evidence"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value)
        return out


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    scenario: str = Field(min_length=1, max_length=100)
    description: str = ""
    workspace: ws_schemas.WorkspaceCreate = Field(default_factory=ws_schemas.WorkspaceCreate)
    integrations: list[IntegrationSpec] = Field(default_factory=list)
    properties: list[PropertySpec] = Field(default_factory=list)
    deposit_accounts: list[DepositAccountSpec] = Field(default_factory=list)
    residents: list[ResidentSpec] = Field(default_factory=list)
    pending_residents: list[PendingResidentSpec] = Field(default_factory=list)
    accounting_records: list[AccountingRecordSpec] = Field(default_factory=list)
    balances: list[BalancesSpec] = Field(default_factory=list)
    payment_sources: list[PaymentSourceSpec] = Field(default_factory=list)
    recurring_payments: list[RecurringPaymentSpec] = Field(default_factory=list)
    payments: list[PaymentSpec] = Field(default_factory=list)
    reversals: list[ReversalSpec] = Field(default_factory=list)
    work_orders: list[upkeep.WorkOrderSpec] = Field(default_factory=list)
    applications: list[upkeep.ApplicationSpec] = Field(default_factory=list)
    advance_to: ws_schemas.Instant | None = Field(
        default=None, description="Where the clock ends, after the last payment (jobs run)"
    )

    @model_validator(mode="after")
    def _keys(self) -> Scenario:
        """Keys are unique across the document, and every reference names a defined key."""
        seen: dict[str, str] = {}

        def define(key: str, where: str) -> None:
            if key in seen:
                raise ValueError(f"{where}.key {key!r} is already used by {seen[key]}")
            seen[key] = where

        for i, spec in enumerate(self.integrations):
            define(spec.key, f"integrations[{i}]")
        units: set[str] = set()
        props: set[str] = set()
        for i, p in enumerate(self.properties):
            define(p.key, f"properties[{i}]")
            props.add(p.key)
            if p.integration is not None and p.integration not in {
                spec.key for spec in self.integrations
            }:
                raise ValueError(f"properties[{i}].integration: no integration {p.integration!r}")
            for j, u in enumerate(p.units):
                define(u.key, f"properties[{i}].units[{j}]")
                units.add(u.key)
        for i, a in enumerate(self.deposit_accounts):
            define(a.key, f"deposit_accounts[{i}]")
            for ref in a.properties:
                if ref not in props:
                    raise ValueError(f"deposit_accounts[{i}].properties: no property {ref!r}")
        for i, r in enumerate(self.residents):
            define(r.key, f"residents[{i}]")
            if r.unit not in units:
                raise ValueError(f"residents[{i}].unit: no unit {r.unit!r}")
        for i, b in enumerate(self.balances):
            if b.integration not in {spec.key for spec in self.integrations}:
                raise ValueError(f"balances[{i}].integration: no integration {b.integration!r}")
        for i, pr in enumerate(self.pending_residents):
            define(pr.key, f"pending_residents[{i}]")
            if pr.property not in props:
                raise ValueError(f"pending_residents[{i}].property: no property {pr.property!r}")
            if pr.unit is not None and pr.unit not in units:
                raise ValueError(f"pending_residents[{i}].unit: no unit {pr.unit!r}")
        self._money_keys(define)
        self._upkeep_keys(define, units, props)
        return self

    def _money_keys(self, define: Callable[[str, str], None]) -> None:
        """Sources belong to residents; payments and schedules use their own resident's
        source and a lease that resident is on."""
        residents = {r.key for r in self.residents}
        lease_of: dict[str, str] = {}  # lease key -> resident key
        for i, r in enumerate(self.residents):
            if r.lease.key is not None:
                define(r.lease.key, f"residents[{i}].lease")
                lease_of[r.lease.key] = r.key
        owner: dict[str, str] = {}
        for i, s in enumerate(self.payment_sources):
            define(s.key, f"payment_sources[{i}]")
            if s.resident not in residents:
                raise ValueError(f"payment_sources[{i}].resident: no resident {s.resident!r}")
            owner[s.key] = s.resident
        moves: list[tuple[str, RecurringPaymentSpec | PaymentSpec]] = [
            *((f"recurring_payments[{i}]", r) for i, r in enumerate(self.recurring_payments)),
            *((f"payments[{i}]", p) for i, p in enumerate(self.payments)),
        ]
        for where, m in moves:
            if m.key is not None:
                define(m.key, where)
            if m.resident not in residents:
                raise ValueError(f"{where}.resident: no resident {m.resident!r}")
            if owner.get(m.source) != m.resident:
                raise ValueError(
                    f"{where}.source: {m.resident!r} has no payment source {m.source!r}"
                )
            if m.lease is not None and lease_of.get(m.lease) != m.resident:
                raise ValueError(f"{where}.lease: {m.resident!r} is not on a lease {m.lease!r}")
        if self.advance_to is not None:
            for i, p in enumerate(self.payments):
                if p.at > self.advance_to:
                    raise ValueError(
                        f"advance_to is before payments[{i}].at: the clock never goes back"
                    )
        self._reversal_keys(define)

    def _upkeep_keys(
        self, define: Callable[[str, str], None], units: set[str], props: set[str]
    ) -> None:
        """Work orders name a unit or property and perhaps a tenant; applications a resident
        (any, pending ones included) and a unit."""
        people = {r.key for r in self.residents} | {p.key for p in self.pending_residents}
        for i, w in enumerate(self.work_orders):
            define(w.key, f"work_orders[{i}]")
            if w.unit is not None and w.unit not in units:
                raise ValueError(f"work_orders[{i}].unit: no unit {w.unit!r}")
            if w.property is not None and w.property not in props:
                raise ValueError(f"work_orders[{i}].property: no property {w.property!r}")
            if w.tenant is not None and w.tenant not in {r.key for r in self.residents}:
                raise ValueError(f"work_orders[{i}].tenant: no resident {w.tenant!r}")
        for i, a in enumerate(self.applications):
            define(a.key, f"applications[{i}]")
            if a.resident not in people:
                raise ValueError(f"applications[{i}].resident: no resident {a.resident!r}")
            if a.unit not in units:
                raise ValueError(f"applications[{i}].unit: no unit {a.unit!r}")

    def _reversal_keys(self, define: Callable[[str, str], None]) -> None:
        """A reversal names a payment by its key and comes after it (a later ``advance_to``
        is not required: what lies beyond the load is scheduled)."""
        payment_at: dict[str, tuple[int, datetime]] = {
            p.key: (i, p.at) for i, p in enumerate(self.payments) if p.key is not None
        }
        for i, r in enumerate(self.reversals):
            if r.key is not None:
                define(r.key, f"reversals[{i}]")
            if r.payment not in payment_at:
                raise ValueError(f"reversals[{i}].payment: no payment {r.payment!r}")
            j, made = payment_at[r.payment]
            if r.at <= made:
                raise ValueError(
                    f"reversals[{i}].at ({r.at.isoformat()}) is not after payments[{j}].at "
                    f"({made.isoformat()}): a payment is reversed only once it is made"
                )


class ScheduledReversal(BaseModel):
    index: int = Field(description="Its place in the scenario's `reversals`")
    key: str | None
    action: ReversalAction
    payment_id: str
    at: datetime
    event_id: str = Field(description="The stored `reversals.scheduled` event")


class ScenarioLoaded(BaseModel):
    workspace_id: str
    scenario: str
    keys: dict[str, str] = Field(description="Scenario key -> ID")
    tokens: dict[str, str] = Field(
        default_factory=dict, description="Integration key -> token (shown this once)"
    )
    ignored: list[str] = Field(default_factory=list)
    scheduled: list[ScheduledReversal] = Field(
        default_factory=list,
        description="Reversals later than the load's final instant, stored to happen when the "
        "clock is advanced past their `at`",
    )


class WorkspaceFromScenario(ScenarioLoaded):
    landlord: ws_schemas.LandlordLogin
    clock: ws_schemas.ClockRead


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
        )
        keys[spec.key] = integration.id
        if spec.issue_token:
            _row, token = auth_service.issue_token(
                session, ids, integration, key=signing_key, now=now
            )
            tokens[spec.key] = token
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
    """Properties, accounts and people, through the same services the API uses. Returns each
    resident key's lease ID."""
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
        for u in p.units:
            keys[u.key] = properties_service.create_unit(
                session, ids, prop, name=u.name, external_id=u.external_id, now=now
            ).id
    for a in scenario.deposit_accounts:
        keys[a.key] = properties_service.create_deposit_account(
            session,
            ids,
            type=a.type,
            name=a.name,
            account_number=a.account_number,
            routing_number=a.routing_number,
            property_ids=[keys[k] for k in a.properties],
            now=now,
        ).id
    for r in scenario.residents:
        resident, lease = residents_service.invite(
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
            residents_service.accept_invited(session, resident, password=r.password, now=now)
        keys[r.key] = resident.id
        leases[r.key] = lease.id
        if r.lease.key is not None:
            keys[r.lease.key] = lease.id
    for pr in scenario.pending_residents:
        keys[pr.key] = residents_service.signup(
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
            f"{at.isoformat()} is before the workspace clock ({now.isoformat()}); the clock "
            "never moves backwards",
        )
    if at - now > sandbox_clock.MAX_ADVANCE:
        raise _clock_error(
            path,
            f"{at.isoformat()} is more than {sandbox_clock.MAX_ADVANCE.days} days after "
            f"the workspace clock ({now.isoformat()})",
        )


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
        _advance(session, ws, at, system)
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
        _advance(session, ws, scenario.advance_to, system)
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


def _advance(session: Session, ws: Workspace, target: datetime, system: Clock) -> None:
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
) -> WorkspaceFromScenario:
    created = sandbox_service.create_workspace(session, scenario.workspace, system_now=system_now)
    ws = created.workspace
    now = workspaces_service.now_of(ws, system_clock)
    loaded = load_into(session, ws, scenario, signing_key=signing_key, now=now, system=system_clock)
    return WorkspaceFromScenario(
        **loaded.model_dump(),
        landlord=ws_schemas.LandlordLogin(
            email=created.landlord_email, password=created.landlord_password
        ),
        clock=sandbox_service.clock_read(ws, system_clock),
    )


def parse(text: str | bytes) -> Scenario:
    """Validate a scenario document; errors name the JSON path (``$.integrations[0].kind``)."""
    try:
        return Scenario.model_validate_json(text)
    except ValidationError as exc:
        errors = [
            FieldError(json_path(e["loc"]), e["msg"], "invalid")
            for e in exc.errors(include_url=False)
        ]
        raise Unprocessable(
            "The scenario is not valid: "
            + "; ".join(f"{e.field}: {e.message}" for e in errors[:5]),
            code="invalid_scenario",
            errors=errors,
        ) from None
