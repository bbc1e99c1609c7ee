"""The reference MRI's state (connectors.md §3.3): credentials; properties (property IDs are
case-insensitive, §4.9) → buildings → units → leases → residents; charges; cash batches keyed by
(property, ``ExternalBatchID``) holding receipts; a ledger per lease. Money is integer cents;
MRI's two-decimal strings are parsed and written at the edge (``parse_vendor_amount``,
``format_cents``). Dates are MRI's: local, without a zone (§4.12).

Invariants:
- a lease's balance is the sum of its ledger (an opening entry from the seed, then receipts,
  voids, adjustments): computed, never stored; co-residents share their lease and its balance
  (§2.4);
- a batch's total is the sum of its posted receipts (voided ones are kept and excluded);
- one batch per (property, ``ExternalBatchID``), ever: once closed, a receipt for it is refused.

Batches close on the admin's word, on the client's (``MRI_S-PMRM_CloseBatch``, this simulator's
own API: MRI's is unknown, §4.6) or, with ``end_of_day`` set, lazily: every call first closes
the open batches opened before the most recent end of day (``World.tick``), dated at that end of
day, so the outcome depends only on the server clock, not on when a call happens to arrive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


@dataclass(frozen=True)
class ErrorKind:
    """An MRI error answer (HTTP 200 + ``Error/Message``). MRI's texts are GAP (§2.6): these
    are this simulator's own; ``number`` is the row of the §3.3 table (the call journal's
    ``error_codes``; the wire carries only the message)."""

    number: int
    text: str


INVALID_PAYLOAD = ErrorKind(3, "Invalid payload")
RESIDENT_NOT_FOUND = ErrorKind(4, "Resident not found")
INVALID_PAYMENT_TYPE = ErrorKind(5, "Invalid payment type")
INVALID_AMOUNT = ErrorKind(6, "Invalid payment amount")
INVALID_DATE = ErrorKind(7, "Invalid payment date")
TOO_LONG = ErrorKind(8, "too long")
DUPLICATE = ErrorKind(9, "Duplicate")
BATCH_CLOSED = ErrorKind(10, "Batch closed")
EPAYMENTS_BLOCKED = ErrorKind(11, "ePayments blocked")
CHARGE_NOT_FOUND = ErrorKind(12, "Charge not found")
PROPERTY_NOT_FOUND = ErrorKind(13, "Property not found")
#: Rows 14-15 answer ``MRI_S-PMRM_CloseBatch``, this simulator's own API (§4.6).
BATCH_NOT_FOUND = ErrorKind(14, "Batch not found")
CONTROL_TOTAL_MISMATCH = ErrorKind(15, "Control total mismatch")
REJECTED = ErrorKind(99, "Rejected by the reference server's fault switch")

#: Every answer the server gives, for the docs (a test checks docs/reference-mri.md lists them).
ERROR_KINDS = (
    INVALID_PAYLOAD,
    RESIDENT_NOT_FOUND,
    INVALID_PAYMENT_TYPE,
    INVALID_AMOUNT,
    INVALID_DATE,
    TOO_LONG,
    DUPLICATE,
    BATCH_CLOSED,
    EPAYMENTS_BLOCKED,
    CHARGE_NOT_FOUND,
    PROPERTY_NOT_FOUND,
    BATCH_NOT_FOUND,
    CONTROL_TOTAL_MISMATCH,
    REJECTED,
)


class MriError(Exception):
    def __init__(
        self,
        kind: ErrorKind,
        detail: str = "",
        *,
        field_name: str | None = None,
        original: Receipt | None = None,
    ) -> None:
        super().__init__(detail or kind.text)
        self.kind = kind
        self.detail = detail
        self.field_name = field_name
        self.original = original

    @property
    def message(self) -> str:
        head = f"{self.field_name} {self.kind.text}" if self.field_name else self.kind.text
        return f"{head}: {self.detail}" if self.detail else head


RESIDENT_STATUSES = ("Current", "Co-Resident", "Other Resident", "Old", "New")
PAYMENT_TYPES = ("C", "K")
#: Receipts applied to a charge with one of these codes, or whose ``CashType`` is one of them
#: (case-insensitive), land in the security-deposit ledger (INFERENCE: no source shows how MRI
#: tells them apart, §2.10).
SECURITY_DEPOSIT_CODES = frozenset({"SEC", "SECDEP", "SD", "DEP", "DEPOSIT"})
#: What a receipt without a ``ChargeID`` answers as its ``ChargeCode`` (MH's sample, §2.6).
PREPAYMENT_CHARGE_CODE = "PPR"

_AMOUNT = re.compile(r"^(-)?([0-9]{1,13})(?:\.([0-9]{1,2}))?$")
_DATETIME = re.compile(
    r"^([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[T ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]{1,7}))?)?)?$"
)
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")


def parse_vendor_amount(text: str) -> int:
    """MRI's amounts: two decimals at most, possibly negative (``-111289270.00``, §2.4)."""
    match = _AMOUNT.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an amount")
    sign, whole, frac = match.groups()
    cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -cents if sign else cents


def parse_vendor_datetime(text: str) -> datetime:
    """``YYYY-MM-DD``, ``…THH:MM[:SS]``, with up to 7 fractional digits (§2.4): local, naive."""
    match = _DATETIME.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a date")
    year, month, day, hour, minute, second, frac = match.groups()
    return datetime(  # noqa: DTZ001 - MRI's dates carry no zone (§4.12)
        int(year),
        int(month),
        int(day),
        int(hour or 0),
        int(minute or 0),
        int(second or 0),
        int((frac or "0")[:6].ljust(6, "0")),
    )


class Switches(BaseModel):
    """The server's behaviour switches (connectors.md §3.1, §3.3, §4; docs/reference-mri.md)."""

    model_config = ConfigDict(extra="forbid")

    duplicates: Literal["reject", "accept_twice"] = "reject"
    """A repeated ``ExternalTransactionNumber`` on the property: Duplicate, or post it again."""
    duplicate_check_number: bool = False
    """Also treat a repeated non-empty ``CheckNumber`` on the property as a duplicate."""
    over_length: Literal["reject", "truncate"] = "reject"
    """A field over MRI's limit (§2.6): an error, or cut to the limit silently."""
    block_epayments: Literal["accept", "reject"] = "accept"
    """A receipt for a lease with ``BlockEPayments=Y``: post it (MRI probably does), or refuse."""
    negative_amounts: Literal["reject", "reversal"] = "reject"
    """A negative ``PaymentAmount``: refuse it (row 6), or post it as a reversal (§2.10)."""
    skip: Literal["start_row", "literal"] = "start_row"
    """``$skip=k``: start at row k, 1-based (following links loses nothing, §4.7), or skip k
    rows."""
    page_size: int = Field(default=300, ge=1, le=100_000)
    """Rows per page when the request has no ``$top`` (§2.8)."""
    end_of_day: str | None = None
    """``HH:MM`` on the server clock in ``time_zone``: open batches opened before it close then."""
    time_zone: str = "UTC"
    """MRI's local time (§4.12): end of day, and the ``LastUpdateDate`` the server stamps."""
    control_total: Literal["ignore", "reject"] = "ignore"
    """A ``CloseBatch`` whose ``ControlTotal``/``ReceiptCount`` differ from MRI's own: close it
    anyway (a note in the journal), or refuse (row 15) and leave the batch open."""

    @field_validator("end_of_day")
    @classmethod
    def _hhmm(cls, value: str | None) -> str | None:
        if value is not None and not _HHMM.match(value):
            raise ValueError("end_of_day is HH:MM (24-hour)")
        return value

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


@dataclass
class Credential:
    client_id: str
    database: str
    user: str
    partner_key: str
    password: str

    @property
    def username(self) -> str:
        """The Basic-auth user name RT sent: the four settings joined with ``/`` (§2.2)."""
        return "/".join((self.client_id, self.database, self.user, self.partner_key))


LeaseKey = tuple[str, str, str]
"""(BuildingID, UnitID, LeaseID): a lease within its property; ``LeaseID`` is a per-unit
sequence (§0.6)."""


@dataclass
class Charge:
    charge_id: str
    lease_key: LeaseKey
    charge_code: str
    description: str
    amount_cents: int
    frequency: str
    effective: datetime | None
    end: datetime | None
    is_concession: str = "N"
    unpaid_cents: int = 0

    @property
    def security_deposit(self) -> bool:
        return self.charge_code.upper() in SECURITY_DEPOSIT_CODES


@dataclass
class LedgerEntry:
    at: datetime
    kind: str
    """``opening`` (the seeded balance), ``receipt``, ``reversal`` (a negative receipt), ``void``
    / ``nsf`` / ``reversed`` (a receipt undone on the MRI side), ``adjustment``."""
    amount_cents: int
    """Signed: a receipt lowers the balance (negative), an undone one raises it."""
    transaction_id: str | None = None


@dataclass
class Lease:
    property_key: str
    building_id: str
    unit_id: str
    lease_id: str
    start: datetime | None
    end: datetime | None
    occupy: datetime | None
    move_out: datetime | None
    rent_cents: int | None
    month_to_month: str | None
    block_epayments: str
    """``Y``, ``N`` or empty, as MRI holds it; ``Y``/``y`` blocks (RT, §0.2)."""
    ledger: list[LedgerEntry] = field(default_factory=list)
    charges: list[Charge] = field(default_factory=list)

    @property
    def key(self) -> LeaseKey:
        return (self.building_id, self.unit_id, self.lease_id)

    @property
    def label(self) -> str:
        return "|".join(self.key)

    @property
    def balance_cents(self) -> int:
        return sum(entry.amount_cents for entry in self.ledger)

    @property
    def blocked(self) -> bool:
        return self.block_epayments.upper() == "Y"


@dataclass
class Resident:
    name_id: str
    lease: Lease
    status: str
    is_current: str
    email: str | None
    fields: dict[str, str | datetime | None]
    """Every element of the seeded entry, parsed, in its order: what a read gives back, with
    the live values (status, balance, flags, dates) laid over it."""
    last_update: datetime | None


@dataclass
class Property:
    property_id: str
    """As seeded; matched case-insensitively (``key``)."""
    buildings: dict[str, dict[str, str | None]] = field(default_factory=dict)
    units: dict[tuple[str, str], dict[str, str | None]] = field(default_factory=dict)
    leases: dict[LeaseKey, Lease] = field(default_factory=dict)
    residents: dict[str, Resident] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return property_key(self.property_id)


def property_key(property_id: str) -> str:
    # RT lower-cased PropertyID on the POST but not RMPROPID on reads (§4.9).
    return property_id.strip().upper()


@dataclass
class Receipt:
    transaction_id: str
    """MRI's receipt ID: 8 digits + ``PP`` (§2.6)."""
    property_key: str
    resident_name_id: str
    lease_key: LeaseKey
    amount_cents: int
    payment_type: str
    payment_date: datetime
    external_transaction_number: str
    check_number: str | None
    external_batch_id: str
    batch_id: str
    charge_id: str | None
    charge_code: str
    cash_type: str
    ledger: Literal["rent", "security_deposit"]
    answer: dict[str, str | datetime | None]
    """What the POST answered (the echoed request by MRI's names, after any truncation, plus
    ``TransactionID``, ``BatchId``, …), in MRI's order."""
    posted_at: datetime
    applied: list[tuple[str, int]] = field(default_factory=list)
    status: Literal["posted", "voided"] = "posted"
    void_reason: str | None = None
    voided_at: datetime | None = None
    notes: list[str] = field(default_factory=list)


@dataclass
class Batch:
    batch_id: str
    """MRI's cash batch: 14 digits (§2.6)."""
    property_key: str
    external_batch_id: str
    opened_at: datetime
    receipts: list[Receipt] = field(default_factory=list)
    closed_at: datetime | None = None
    close_reason: str | None = None
    """``admin``, ``end_of_day`` or ``api`` (``MRI_S-PMRM_CloseBatch``)."""
    stated_control_total_cents: int | None = None
    """What the ``CloseBatch`` that closed it said, if it said (kept, not MRI's own)."""
    stated_receipt_count: int | None = None

    @property
    def state(self) -> Literal["open", "closed"]:
        return "open" if self.closed_at is None else "closed"

    @property
    def total_cents(self) -> int:
        return sum(r.amount_cents for r in self.receipts if r.status == "posted")

    @property
    def count(self) -> int:
        """The posted (not voided) receipts."""
        return sum(1 for r in self.receipts if r.status == "posted")


class World:
    """Everything one reference MRI holds, with the numbers it hands out. Deterministic: the
    same calls in the same order give the same IDs."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.credentials: dict[str, Credential] = {}
        self.properties: dict[str, Property] = {}
        self.batches: dict[tuple[str, str], Batch] = {}
        self.receipts: list[Receipt] = []
        self.switches = Switches()
        self._counters: dict[str, int] = {}

    def next_number(self, kind: str, start: int) -> int:
        value = self._counters.get(kind, start)
        self._counters[kind] = value + 1
        return value

    def counters(self) -> dict[str, int]:
        """The numbers handed out so far (a seed that fails gives back what it took)."""
        return dict(self._counters)

    def restore_counters(self, saved: dict[str, int]) -> None:
        self._counters = dict(saved)

    def next_charge_id(self) -> str:
        return f"{self.next_number('charge', 325_001):010d}"

    def login(self, username: str, password: str) -> Credential | None:
        found = self.credentials.get(username)
        return found if found is not None and found.password == password else None

    def property(self, property_id: str | None) -> Property | None:
        return self.properties.get(property_key(property_id or ""))

    def receipt(self, transaction_id: str) -> Receipt | None:
        return next((r for r in self.receipts if r.transaction_id == transaction_id), None)

    def lease_of(self, receipt: Receipt) -> Lease | None:
        prop = self.properties.get(receipt.property_key)
        return None if prop is None else prop.leases.get(receipt.lease_key)

    # --- time --------------------------------------------------------------------------

    def local(self, now: datetime) -> datetime:
        """``now`` on MRI's wall clock, naive, as MRI writes its dates."""
        return now.astimezone(ZoneInfo(self.switches.time_zone)).replace(tzinfo=None)

    def last_end_of_day(self, now: datetime) -> datetime | None:
        """The most recent end of business day at or before ``now`` (aware), if one is set."""
        if self.switches.end_of_day is None:
            return None
        zone = ZoneInfo(self.switches.time_zone)
        hour, minute = (int(part) for part in self.switches.end_of_day.split(":"))
        local = now.astimezone(zone)
        cutoff = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
        if cutoff > local:
            cutoff = datetime.combine(
                local.date() - timedelta(days=1), time(hour, minute), tzinfo=zone
            )
        return cutoff.astimezone(now.tzinfo)

    def tick(self, now: datetime) -> list[Batch]:
        """Close the open batches the most recent end of day has passed (S2: "At the end of the
        business day … the batch" closes), dated at that end of day."""
        cutoff = self.last_end_of_day(now)
        if cutoff is None:
            return []
        due = [b for b in self.batches.values() if b.closed_at is None and b.opened_at < cutoff]
        for batch in due:
            batch.closed_at, batch.close_reason = cutoff, "end_of_day"
        return due

    def close_batches(
        self, now: datetime, *, property_id: str | None = None, external_batch_id: str | None = None
    ) -> list[Batch]:
        """Close the open batches (of one property, or one batch) at ``now``."""
        wanted = None if property_id is None else property_key(property_id)
        chosen = [
            b
            for b in self.batches.values()
            if b.closed_at is None
            and (wanted is None or b.property_key == wanted)
            and (external_batch_id is None or b.external_batch_id == external_batch_id)
        ]
        for batch in chosen:
            batch.closed_at, batch.close_reason = now, "admin"
        return chosen

    def touch(self, lease: Lease, now: datetime) -> None:
        """A change to the lease shows in its residents' ``LastUpdateDate``, so a read by
        ``LastUpdateDate`` finds it (§2.4)."""
        prop = self.properties.get(lease.property_key)
        if prop is None:
            return
        stamp = self.local(now)
        for resident in prop.residents.values():
            if resident.lease is lease:
                resident.last_update = stamp

    # --- the MRI side's own changes (tester controls, §3.3) --------------------------------

    def void_receipt(self, receipt: Receipt, now: datetime, reason: str) -> None:
        """The property manager voids a receipt by hand (S2 "Canceled/Voided Payments"), or
        records an NSF or a reversal: the receipt stays in its batch, out of its total, and the
        lease gets the money back."""
        receipt.status, receipt.void_reason, receipt.voided_at = "voided", reason, now
        lease = self.lease_of(receipt)
        if lease is None:
            return
        lease.ledger.append(LedgerEntry(now, reason, receipt.amount_cents, receipt.transaction_id))
        charges = {charge.charge_id: charge for charge in lease.charges}
        for charge_id, cents in receipt.applied:
            if charge_id in charges:
                charges[charge_id].unpaid_cents += cents
        self.touch(lease, now)

    def adjust_balance(self, lease: Lease, balance_cents: int, now: datetime) -> None:
        change = balance_cents - lease.balance_cents
        if change:
            lease.ledger.append(LedgerEntry(now, "adjustment", change))
            self.touch(lease, now)

    def set_status(self, resident: Resident, status: str, now: datetime) -> None:
        """Move a resident (Current, Old, New, …): ``IsCurrent`` is ``N`` for ``Old`` only
        (§2.4)."""
        resident.status = status
        resident.is_current = "N" if status == "Old" else "Y"
        resident.last_update = self.local(now)
