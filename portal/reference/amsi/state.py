"""The reference eSite's state and the effects of the Ledger calls (connectors.md §3.2).

Portfolio → property → units and leases (with occupants, open items, recurring charges and an
address); per portfolio, journals (cash batches keyed by ``ClientJnlNo``) holding payments and
returns, and their settlements. Money is integer cents; the vendor's bare numbers are parsed
and rendered at the edge (``parse_vendor_amount``, ``vendor_amount``).

Invariants:
- a lease's ``EndBalance`` is the sum of its open items' ``BalDue`` (connectors.md §0.7, true of
  every lease of the captured fixture): the balance is computed from the items, never stored;
- a payment draws the open items down oldest first; what is left over becomes a credit item;
  a return gives back exactly what its payment took (the allocation rule is INFERENCE, §3.2);
- a journal's net is the sum of its payments (negative ones included) less its returns.

Each Ledger operation checks every rule of the §3.2 table before it changes anything, so a
``commit=False`` call (``preliminary=1``, §4.2, or a fault switch that does not commit) answers
exactly what the real call would, and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from portal.core.money import format_cents


@dataclass(frozen=True)
class ErrorCode:
    """An eSite error answer. The numbers are this simulator's own (AMSI's are GAP, §4.1)."""

    number: int
    text: str


INVALID_LOGIN = ErrorCode(1, "Invalid login")
INVALID_PRELIMINARY = ErrorCode(2, "Invalid preliminary flag")
INVALID_XMLDATA = ErrorCode(3, "Invalid XMLData")
UNIT_NOT_FOUND = ErrorCode(10, "Unit not found")
RESIDENT_NOT_FOUND = ErrorCode(11, "Resident not found")
PAYMENTS_BLOCKED = ErrorCode(12, "Payments blocked")
INVALID_AMOUNT = ErrorCode(13, "Invalid amount")
INVALID_DATE = ErrorCode(14, "Invalid date")
INVALID_PAYMENT_TYPE = ErrorCode(15, "Invalid payment type")
INVALID_JOURNAL = ErrorCode(16, "Invalid journal number")
BATCH_CLOSED = ErrorCode(17, "Batch closed")
DUPLICATE = ErrorCode(18, "Duplicate transaction")
PAYMENT_NOT_FOUND = ErrorCode(20, "Payment not found")
INVALID_REASON = ErrorCode(21, "Invalid reason")
ALREADY_RETURNED = ErrorCode(22, "Payment already returned")
DESCRIPTION_TOO_LONG = ErrorCode(23, "Description too long")
JOURNAL_NOT_FOUND = ErrorCode(30, "Journal not found")
MERCHANT_MISMATCH = ErrorCode(31, "Merchant ID mismatch")
SETTLEMENT_MISMATCH = ErrorCode(32, "Settlement amount does not match the journal net")
NO_DATA = ErrorCode(40, "No data")
REJECTED = ErrorCode(99, "Rejected by the reference server's fault switch")

#: Every code the server answers, for the docs (a test checks docs/reference-amsi.md lists them).
ERROR_CODES = (
    INVALID_LOGIN,
    INVALID_PRELIMINARY,
    INVALID_XMLDATA,
    UNIT_NOT_FOUND,
    RESIDENT_NOT_FOUND,
    PAYMENTS_BLOCKED,
    INVALID_AMOUNT,
    INVALID_DATE,
    INVALID_PAYMENT_TYPE,
    INVALID_JOURNAL,
    BATCH_CLOSED,
    DUPLICATE,
    PAYMENT_NOT_FOUND,
    INVALID_REASON,
    ALREADY_RETURNED,
    DESCRIPTION_TOO_LONG,
    JOURNAL_NOT_FOUND,
    MERCHANT_MISMATCH,
    SETTLEMENT_MISMATCH,
    NO_DATA,
    REJECTED,
)


class AmsiError(Exception):
    def __init__(
        self, error: ErrorCode, detail: str = "", *, original: Payment | None = None
    ) -> None:
        super().__init__(detail or error.text)
        self.error = error
        self.detail = detail
        self.original = original

    @property
    def description(self) -> str:
        return f"{self.error.text}: {self.detail}" if self.detail else self.error.text


#: Lease statuses: C and N are AMSI's (§1.4); F and P are this server's labelled extensions (§4.5).
LEASE_STATUSES = {"C": "Current", "N": "Notice", "F": "Future", "P": "Past"}
#: ReturnPayment reasons (§1.6) and where each lands (S1: a Return for NSF, a negative payment
#: coded CHARGE BACK for a card reversal, a negative payment for a refund or void).
RETURN_REASONS = {"NSF": None, "ChargeBack": "CHARGE BACK", "Reverse": "REVERSE"}
PAYMENT_TYPES = {"C", "P"}
#: RT cuts the return description to 30 characters (§1.6); the only known length limit (§1.8).
DESCRIPTION_MAX = 30
#: ``ChargeIncCode`` values read as a security deposit in the External Deposits view (INFERENCE:
#: RT always sent an empty code, §1.5).
SECURITY_DEPOSIT_CODES = {"SECDEP", "SD", "DEPOSIT"}

_VENDOR_AMOUNT = re.compile(r"^(-)?([0-9]{1,13})(?:\.([0-9]{1,2}))?$")
_POSITIVE_AMOUNT = re.compile(r"^([0-9]{1,13})(?:\.([0-9]{1,2}))?$")
_MDY = re.compile(r"^([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})$")
_DIGITS = re.compile(r"^[0-9]+$")


def parse_vendor_amount(text: str) -> int:
    """eSite's amounts are bare numbers, possibly negative (``1605``, ``-6930``, ``12.5``)."""
    match = _VENDOR_AMOUNT.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an amount")
    sign, whole, frac = match.groups()
    cents = int(whole) * 100 + int((frac or "0").ljust(2, "0"))
    return -cents if sign else cents


def vendor_amount(cents: int) -> str:
    """Cents as eSite writes them: a bare integer when whole (``1605``), else two places."""
    return str(cents // 100) if cents % 100 == 0 else format_cents(cents)


def parse_mdy(text: str) -> date:
    """``m/d/Y``, the form RT sends and eSite uses for lease and item dates (§1.4, §1.5)."""
    match = _MDY.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a m/d/Y date")
    month, day, year = (int(g) for g in match.groups())
    return date(year, month, day)


def mdy(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def is_digits(text: str) -> bool:
    return bool(_DIGITS.match(text))


SoapVersion = Literal["1.1", "1.2"]
_BOTH_VERSIONS: list[SoapVersion] = ["1.1", "1.2"]


class Switches(BaseModel):
    """The server's behaviour switches (connectors.md §3.1, §3.2; docs/reference-amsi.md)."""

    model_config = ConfigDict(extra="forbid")

    duplicates: Literal["reject", "accept_twice"] = "reject"
    """A repeated ``ClientTransactionID``: answer 18 (the default), or post it again."""
    enforce_block_payment_access: bool = False
    """Refuse AddPayment on a lease with ``BlockPaymentAccess=Y`` (AMSI probably accepts)."""
    settlement_amount_check: Literal["reject", "warn"] = "reject"
    """UpdateSettlementData with an amount other than the journal's net: 32, or accept."""
    return_journal: Literal["by_transaction", "by_batch"] = "by_transaction"
    """Where a return after its journal settled goes: a journal numbered by the transaction ID
    (RT's keying, §1.6), or the journal ``ClientJnlNo`` names."""
    double_escape_results: bool = False
    """Escape every result string twice, as RT's Leasing client suspected AMSI does (§1.2)."""
    soap_versions: list[SoapVersion] = Field(default_factory=lambda: _BOTH_VERSIONS.copy())


@dataclass
class OpenItem:
    item_id: int
    attrs: dict[str, str]
    bal_due_cents: int
    due: date | None
    credit_of: str | None = None
    """The ClientTransactionID whose overpayment this credit item holds."""


@dataclass
class Unit:
    property_id: str
    bldg_id: str
    unit_id: str
    attrs: dict[str, str]

    @property
    def inactive(self) -> bool:
        return self.attrs.get("InactiveFlag", "N").upper() == "Y"


@dataclass
class BalanceChange:
    at: datetime
    change_cents: int
    balance_cents: int
    reason: str
    client_transaction_id: str | None = None


@dataclass
class Lease:
    property_id: str
    bldg_id: str
    unit_id: str
    resi_id: str
    attrs: dict[str, str]
    status: str
    block_payment_access: bool
    block_all_access: bool
    occupants: list[dict[str, str]]
    open_items: list[OpenItem]
    address: tuple[dict[str, str], list[dict[str, str]]] | None
    recurring_charges: list[dict[str, str]]
    history: list[BalanceChange] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.bldg_id, self.unit_id, self.resi_id)

    @property
    def end_balance_cents(self) -> int:
        return sum(item.bal_due_cents for item in self.open_items)


@dataclass
class Property:
    property_id: str
    units: dict[tuple[str, str], Unit] = field(default_factory=dict)
    leases: dict[tuple[str, str, str], Lease] = field(default_factory=dict)

    def knows_unit(self, bldg_id: str, unit_id: str) -> bool:
        # A unit is known from the units document, or from a lease that names it when only the
        # residents were seeded.
        return (bldg_id, unit_id) in self.units or any(
            (lease.bldg_id, lease.unit_id) == (bldg_id, unit_id) for lease in self.leases.values()
        )


LeaseKey = tuple[str, str, str, str]


@dataclass
class Payment:
    seq: int
    client_transaction_id: str
    lease_key: LeaseKey
    amount_cents: int
    payment_type: str
    client_transaction_date: date
    client_merchant_id: str
    journal_no: str
    evolution_reference: str
    posted_at: datetime
    attrs: dict[str, str]
    allocation: list[tuple[int, int]] = field(default_factory=list)
    status: Literal["posted", "returned", "reversed", "reversal"] = "posted"
    reason: str | None = None
    reversal_of: str | None = None
    description: str = ""

    @property
    def charge_inc_code(self) -> str:
        return self.attrs.get("ChargeIncCode", "")


@dataclass
class Return:
    client_transaction_id: str
    reason: str
    description: str
    amount_cents: int
    evolution_transaction_id: str
    journal_no: str
    returned_at: datetime
    placement: Literal["return", "negative_payment"]


@dataclass
class Settlement:
    amount_cents: int
    settlement_date: date
    approval_code: str
    client_merchant_id: str
    settled_at: datetime
    warning: str | None = None


@dataclass
class Journal:
    number: str
    esite_batch_no: str
    client_merchant_id: str
    opened_at: datetime
    payments: list[Payment] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)
    settlements: list[Settlement] = field(default_factory=list)

    @property
    def settled(self) -> bool:
        return bool(self.settlements)

    @property
    def net_cents(self) -> int:
        return sum(p.amount_cents for p in self.payments) - sum(
            r.amount_cents for r in self.returns
        )


@dataclass
class Portfolio:
    name: str
    user_id: str
    password: str
    properties: dict[str, Property] = field(default_factory=dict)
    journals: dict[str, Journal] = field(default_factory=dict)
    payments: list[Payment] = field(default_factory=list)
    returns: list[Return] = field(default_factory=list)

    def property(self, property_id: str) -> Property:
        found = self.properties.get(property_id)
        if found is None:
            raise AmsiError(UNIT_NOT_FOUND, f"no property {property_id!r}")
        return found

    def lease(self, key: LeaseKey) -> Lease | None:
        prop = self.properties.get(key[0])
        return None if prop is None else prop.leases.get(key[1:])

    def posted(self, client_transaction_id: str) -> list[Payment]:
        return [
            p
            for p in self.payments
            if p.client_transaction_id == client_transaction_id and p.amount_cents > 0
        ]


@dataclass
class PaymentResult:
    payment: Payment | None
    """None on a dry run (nothing committed)."""
    journal_no: str
    esite_batch_no: str
    evolution_reference: str
    notes: list[str]


@dataclass
class ReturnResult:
    evolution_transaction_id: str
    journal_no: str


@dataclass
class SettlementResult:
    journal: Journal
    warning: str | None


class World:
    """Every portfolio of one reference eSite, with the numbers it hands out. Deterministic: the
    same calls in the same order give the same batch numbers and references."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.portfolios: dict[str, Portfolio] = {}
        self.switches = Switches()
        self._counters: dict[str, int] = {}

    def next_number(self, kind: str, start: int) -> int:
        value = self._counters.get(kind, start)
        self._counters[kind] = value + 1
        return value

    def login(self, user_id: str | None, password: str | None, portfolio: str | None) -> Portfolio:
        found = self.portfolios.get(portfolio or "")
        if found is None or found.user_id != user_id or found.password != password:
            # One answer for every wrong field, as a login should (which field is unknown).
            raise AmsiError(INVALID_LOGIN)
        return found

    # --- Ledger.AddPayment (§1.5) ----------------------------------------------------------

    def add_payment(
        self, portfolio: Portfolio, attrs: Mapping[str, str], now: datetime, *, commit: bool
    ) -> PaymentResult:
        """Validate one ``<Payment>`` in the §3.2 table's order, then post it when ``commit``.

        A duplicate is reported before the checks of state that may have changed since the
        original was posted (a blocked lease, a settled journal), so a client retrying after a
        commit-then-hang always reads a duplicate, whatever happened in between."""
        lease_key, lease = self._payment_lease(portfolio, attrs)
        amount = _positive_amount(attrs.get("Amount"))
        txn_date = _mdy_or(attrs.get("ClientTransactionDate"), INVALID_DATE)
        payment_type = attrs.get("PaymentType", "")
        if payment_type not in PAYMENT_TYPES:
            raise AmsiError(INVALID_PAYMENT_TYPE, f"PaymentType {payment_type!r} is not C or P")
        journal_no = attrs.get("ClientJnlNo", "")
        if not is_digits(journal_no):
            raise AmsiError(INVALID_JOURNAL, f"ClientJnlNo {journal_no!r} is not all digits")
        txn_id = attrs.get("ClientTransactionID", "").strip()
        if not txn_id:
            raise AmsiError(INVALID_XMLDATA, "ClientTransactionID is missing")
        notes: list[str] = []
        earlier = portfolio.posted(txn_id)
        if earlier:
            if self.switches.duplicates == "reject":
                raise AmsiError(
                    DUPLICATE, f"ClientTransactionID {txn_id} was posted", original=earlier[0]
                )
            notes.append(f"ClientTransactionID {txn_id} posted again (duplicates=accept_twice)")
        if lease.status == "P":
            raise AmsiError(PAYMENTS_BLOCKED, "the lease is past")
        if lease.block_payment_access and self.switches.enforce_block_payment_access:
            raise AmsiError(PAYMENTS_BLOCKED, "BlockPaymentAccess=Y")
        journal = portfolio.journals.get(journal_no)
        if journal is not None and journal.settled:
            raise AmsiError(BATCH_CLOSED, f"journal {journal_no} is settled")
        if not commit:
            return PaymentResult(
                None, journal_no, journal.esite_batch_no if journal else "", "", notes
            )
        if journal is None:
            journal = self._open_journal(
                portfolio, journal_no, attrs.get("ClientMerchantID", ""), now
            )
        payment = Payment(
            seq=self.next_number("payment", 1),
            client_transaction_id=txn_id,
            lease_key=lease_key,
            amount_cents=amount,
            payment_type=payment_type,
            client_transaction_date=txn_date,
            client_merchant_id=attrs.get("ClientMerchantID", ""),
            journal_no=journal_no,
            evolution_reference=str(self.next_number("evolution_reference", 3_000_001)),
            posted_at=now,
            attrs=dict(attrs),
            description=attrs.get("Description", ""),
        )
        payment.allocation = self._draw_down(lease, payment)
        _log(lease, now, -amount, "payment", txn_id)
        journal.payments.append(payment)
        portfolio.payments.append(payment)
        return PaymentResult(
            payment, journal_no, journal.esite_batch_no, payment.evolution_reference, notes
        )

    def _payment_lease(
        self, portfolio: Portfolio, attrs: Mapping[str, str]
    ) -> tuple[LeaseKey, Lease]:
        property_id = attrs.get("PropertyID", "")
        bldg_id, unit_id = attrs.get("BldgID", ""), attrs.get("UnitID", "")
        prop = portfolio.properties.get(property_id)
        if prop is None or not bldg_id or not unit_id or not prop.knows_unit(bldg_id, unit_id):
            raise AmsiError(UNIT_NOT_FOUND, f"{property_id}|{bldg_id}|{unit_id}")
        resi_id = attrs.get("ResiID")
        if not resi_id:
            # RT leaves the attribute out when the lease ID is empty (§1.5).
            raise AmsiError(RESIDENT_NOT_FOUND, "ResiID is missing")
        lease = prop.leases.get((bldg_id, unit_id, resi_id))
        if lease is None:
            raise AmsiError(
                RESIDENT_NOT_FOUND, f"no ResiID {resi_id!r} in unit {bldg_id}|{unit_id}"
            )
        return (property_id, bldg_id, unit_id, resi_id), lease

    def _open_journal(
        self, portfolio: Portfolio, number: str, merchant_id: str, now: datetime
    ) -> Journal:
        # AMSI opens a cash batch on the first payment of a ClientJnlNo (§1.7, INFERENCE).
        journal = Journal(
            number=number,
            esite_batch_no=str(self.next_number("esite_batch", 70_001)),
            client_merchant_id=merchant_id,
            opened_at=now,
        )
        portfolio.journals[number] = journal
        return journal

    def _draw_down(self, lease: Lease, payment: Payment) -> list[tuple[int, int]]:
        """Oldest open item first; the rest is a credit item (INFERENCE, §3.2)."""
        left = payment.amount_cents
        allocation: list[tuple[int, int]] = []
        due = [item for item in lease.open_items if item.bal_due_cents > 0]
        due.sort(key=lambda item: (item.due is None, item.due or date.min))
        for item in due:
            if left == 0:
                break
            take = min(left, item.bal_due_cents)
            item.bal_due_cents -= take
            allocation.append((item.item_id, take))
            left -= take
        if left:
            credit = OpenItem(
                item_id=self.next_number("open_item", 1),
                attrs={
                    "PropertyId": lease.property_id,
                    "BldgID": lease.bldg_id,
                    "UnitID": lease.unit_id,
                    "ResiID": lease.resi_id,
                    "IncCode": "PREPAY",
                    "OriginalAmt": vendor_amount(-left),
                    "BalDue": vendor_amount(-left),
                    "ItemDueDate": mdy(payment.client_transaction_date),
                    "IncCodeDesc": "Prepayment",
                },
                bal_due_cents=-left,
                due=payment.client_transaction_date,
                credit_of=payment.client_transaction_id,
            )
            lease.open_items.append(credit)
            allocation.append((credit.item_id, left))
        return allocation

    # --- Ledger.ReturnPayment (§1.6) -------------------------------------------------------

    def return_payment(
        self, portfolio: Portfolio, fields: Mapping[str, str], now: datetime, *, commit: bool
    ) -> ReturnResult:
        txn_id = fields.get("ClientTransactionID", "").strip()
        journal_no = fields.get("ClientJnlNo", "").strip()
        by_batch = self.switches.return_journal == "by_batch"
        candidates = [p for p in portfolio.posted(txn_id) if by_batch or p.journal_no == journal_no]
        if not candidates:
            raise AmsiError(PAYMENT_NOT_FOUND, f"no payment {txn_id!r} in journal {journal_no!r}")
        reason = fields.get("Reason", "")
        if reason not in RETURN_REASONS:
            raise AmsiError(INVALID_REASON, f"Reason {reason!r} is not NSF, ChargeBack or Reverse")
        open_ones = [p for p in candidates if p.status == "posted"]
        if not open_ones:
            raise AmsiError(ALREADY_RETURNED, f"payment {txn_id} was returned")
        description = fields.get("Description", "")
        if len(description) > DESCRIPTION_MAX:
            raise AmsiError(DESCRIPTION_TOO_LONG, f"{len(description)} characters, at most 30")
        original = open_ones[-1]
        target = self._return_journal_no(portfolio, original, journal_no, by_batch)
        journal = portfolio.journals.get(target)
        if journal is not None and journal.settled:
            raise AmsiError(BATCH_CLOSED, f"journal {target} is settled")
        if not by_batch and not is_digits(target):
            raise AmsiError(INVALID_JOURNAL, f"ClientJnlNo {journal_no!r} is not all digits")
        if not commit:
            return ReturnResult("", target)
        if journal is None:
            journal = self._open_journal(portfolio, target, original.client_merchant_id, now)
        evolution_id = str(self.next_number("evolution_transaction", 9_000_001))
        placement: Literal["return", "negative_payment"] = (
            "return" if RETURN_REASONS[reason] is None else "negative_payment"
        )
        record = Return(
            client_transaction_id=txn_id,
            reason=reason,
            description=description,
            amount_cents=original.amount_cents,
            evolution_transaction_id=evolution_id,
            journal_no=target,
            returned_at=now,
            placement=placement,
        )
        portfolio.returns.append(record)
        if placement == "return":
            original.status = "returned"
            journal.returns.append(record)
        else:
            original.status = "reversed"
            negative = Payment(
                seq=self.next_number("payment", 1),
                client_transaction_id=txn_id,
                lease_key=original.lease_key,
                amount_cents=-original.amount_cents,
                payment_type=original.payment_type,
                client_transaction_date=original.client_transaction_date,
                client_merchant_id=original.client_merchant_id,
                journal_no=target,
                evolution_reference=evolution_id,
                posted_at=now,
                attrs={},
                status="reversal",
                reason=RETURN_REASONS[reason],
                reversal_of=txn_id,
                description=description,
            )
            journal.payments.append(negative)
            portfolio.payments.append(negative)
        lease = portfolio.lease(original.lease_key)
        if lease is not None:
            self._give_back(lease, original)
            _log(lease, now, original.amount_cents, f"return ({reason})", txn_id)
        return ReturnResult(evolution_id, target)

    @staticmethod
    def _return_journal_no(
        portfolio: Portfolio, original: Payment, journal_no: str, by_batch: bool
    ) -> str:
        if by_batch:
            # The client names the journal: the original's before deposit, a separate one after.
            if not is_digits(journal_no):
                raise AmsiError(INVALID_JOURNAL, f"ClientJnlNo {journal_no!r} is not all digits")
            return journal_no
        source = portfolio.journals[original.journal_no]
        # RT (§1.6): before the journal settled the return joins it (S1 "reversed in the batch
        # the original payment was posted in"); after, it is a journal of its own, numbered by
        # the transaction ID, which RT's follow-up UpdateSettlementData then names.
        return original.journal_no if not source.settled else original.client_transaction_id

    def _give_back(self, lease: Lease, payment: Payment) -> None:
        items = {item.item_id: item for item in lease.open_items}
        for item_id, cents in payment.allocation:
            item = items.get(item_id)
            if item is None:
                # The lease was seeded again since: the money comes back as an item of its own.
                item = OpenItem(
                    item_id=self.next_number("open_item", 1),
                    attrs={
                        "PropertyId": lease.property_id,
                        "BldgID": lease.bldg_id,
                        "UnitID": lease.unit_id,
                        "ResiID": lease.resi_id,
                        "IncCode": "RETURN",
                        "OriginalAmt": vendor_amount(cents),
                        "BalDue": "0",
                        "ItemDueDate": mdy(payment.client_transaction_date),
                        "IncCodeDesc": "Returned payment",
                    },
                    bal_due_cents=0,
                    due=payment.client_transaction_date,
                )
                lease.open_items.append(item)
                items[item.item_id] = item
            item.bal_due_cents += cents
        lease.open_items = [
            item
            for item in lease.open_items
            if not (item.credit_of == payment.client_transaction_id and item.bal_due_cents == 0)
        ]

    # --- Ledger.UpdateSettlementData (§1.7) ------------------------------------------------

    def settle(
        self, portfolio: Portfolio, fields: Mapping[str, str], now: datetime, *, commit: bool
    ) -> SettlementResult:
        number = fields.get("ExternalJnlNo", "").strip()
        if not is_digits(number):
            raise AmsiError(INVALID_JOURNAL, f"ExternalJnlNo {number!r} is not all digits")
        journal = portfolio.journals.get(number)
        if journal is None:
            raise AmsiError(JOURNAL_NOT_FOUND, f"no journal {number}")
        merchant = fields.get("ClientMerchantId", "").strip()
        if merchant != journal.client_merchant_id:
            raise AmsiError(
                MERCHANT_MISMATCH,
                f"ClientMerchantId {merchant!r}, the journal's is {journal.client_merchant_id!r}",
            )
        amount = _signed_amount(fields.get("SettlementAmount"))
        settlement_date = _mdy_or(fields.get("SettlementDate"), INVALID_DATE)
        net = journal.net_cents
        warning = None
        # A return journal's net is negative and RT settles it with a positive amount (§1.6).
        if amount != net and not (net < 0 and amount == -net):
            text = f"{format_cents(amount)}, the journal's net is {format_cents(net)}"
            if self.switches.settlement_amount_check == "reject":
                raise AmsiError(SETTLEMENT_MISMATCH, text)
            warning = f"settlement amount {text} (settlement_amount_check=warn)"
        if commit:
            journal.settlements.append(
                Settlement(
                    amount_cents=amount,
                    settlement_date=settlement_date,
                    approval_code=fields.get("ApprovalCode", ""),
                    client_merchant_id=merchant,
                    settled_at=now,
                    warning=warning,
                )
            )
        return SettlementResult(journal, warning)


def _positive_amount(text: str | None) -> int:
    match = _POSITIVE_AMOUNT.match((text or "").strip())
    cents = parse_vendor_amount(text or "") if match else 0
    if cents <= 0:
        raise AmsiError(INVALID_AMOUNT, f"Amount {text!r} is not a positive amount (≤ 2 places)")
    return cents


def _signed_amount(text: str | None) -> int:
    try:
        return parse_vendor_amount(text or "")
    except ValueError:
        raise AmsiError(INVALID_AMOUNT, f"{text!r} is not an amount (≤ 2 places)") from None


def _mdy_or(text: str | None, error: ErrorCode) -> date:
    try:
        return parse_mdy(text or "")
    except ValueError:
        raise AmsiError(error, f"{text!r} is not a m/d/Y date") from None


def _log(lease: Lease, now: datetime, change: int, reason: str, txn_id: str | None) -> None:
    lease.history.append(
        BalanceChange(
            at=now,
            change_cents=change,
            balance_cents=lease.end_balance_cents,
            reason=reason,
            client_transaction_id=txn_id,
        )
    )


def lease_status_text(status: str) -> str:
    return LEASE_STATUSES.get(status, status)
