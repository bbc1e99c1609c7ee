"""The scenario document (``seed_data/*.json``, architecture.md §9): its schema, validated
with errors that name the JSON path, and the shape of a load's result. Loading it is
``portal.sandbox.scenarios``; the format is described there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from portal.auth import schemas as auth_schemas
from portal.balances import schemas as balances_schemas
from portal.core.errors import FieldError, Unprocessable, json_path
from portal.core.money import Amount
from portal.payments import schemas as payments_schemas
from portal.payments.models import PaymentType
from portal.properties import bank_numbers
from portal.properties.models import DepositAccountType
from portal.residents.models import PaymentsSetting
from portal.reversals.codes import chargeback_reason, return_code
from portal.reversals.models import DisputeOutcome
from portal.sandbox import scenario_upkeep as upkeep
from portal.sandbox.spec import KEY_PATTERN, Strict, with_hints
from portal.workspaces import schemas as ws_schemas

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
        return bank_numbers.validate_account_number(value)

    @field_validator("routing_number")
    @classmethod
    def _routing(cls, value: str) -> str:
        return bank_numbers.validate_routing_number(value)


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
        description="return: the NACHA return code (R01-R99)",
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
            raise ValueError(f"{value!r} is not a NACHA return code (R01 to R99)")
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

    @model_validator(mode="wrap")
    @classmethod
    def _did_you_mean(cls, data: Any, handler: ModelWrapValidatorHandler[Scenario]) -> Scenario:
        """A misspelt key's error says which known key it looks like (``$.residents[0].emial``:
        "did you mean 'email'?"), over HTTP and in ``portal seed`` alike."""
        try:
            return handler(data)
        except ValidationError as exc:
            hinted = with_hints(cls, exc)
            if hinted is None:
                raise
            raise hinted from None

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
    """A workspace created from a scenario (``POST /v1/sandbox/scenarios``, ``portal seed``)."""

    workspace: ws_schemas.WorkspaceRead
    landlord: ws_schemas.LandlordLogin = Field(description="The login the scenario defines")
    clock: ws_schemas.ClockRead = Field(description="Where the load left the clock")


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
