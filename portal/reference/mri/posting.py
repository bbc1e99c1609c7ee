"""``MRI_S-PMRM_PaymentDetailsByPropertyID`` (POST, connectors.md §2.6, §3.3): one receipt per
record, checked in the order of the §3.3 table (rows 3-12), then posted when ``commit``.

A duplicate (row 9) is reported before the checks of state that may have changed since the
original was posted (a closed batch, a blocked lease, a charge gone), so a client retrying
after a commit-then-hang always reads a duplicate, whatever happened in between; the answer
names the original's ``TransactionID`` and ``BatchId``.

Effects: the receipt joins the open batch of (property, ``ExternalBatchID``), opening one on
the first receipt (§2.10); the lease's ledger gets the receipt, lowering its balance; with a
``ChargeID`` the receipt is applied to that charge's unpaid amount; a receipt for a
security-deposit charge, or with a security-deposit ``CashType``, lands in the security-deposit
ledger (reversals alike). Lengths are MRI's (§2.6);
over-length fields are refused or cut (``over_length``) before anything else reads them, so a
cut ``ExternalTransactionNumber`` is what the duplicate check compares (as a truncating MRI
would).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from portal.core.money import format_cents
from portal.reference.mri.state import (
    BATCH_CLOSED,
    CHARGE_NOT_FOUND,
    DUPLICATE,
    EPAYMENTS_BLOCKED,
    INVALID_AMOUNT,
    INVALID_DATE,
    INVALID_PAYLOAD,
    INVALID_PAYMENT_TYPE,
    PAYMENT_TYPES,
    PREPAYMENT_CHARGE_CODE,
    RESIDENT_NOT_FOUND,
    SECURITY_DEPOSIT_CODES,
    TOO_LONG,
    Batch,
    Charge,
    LedgerEntry,
    MriError,
    Property,
    Receipt,
    Resident,
    World,
    parse_vendor_amount,
)

#: The answer's fields in MRI's order (MH's response sample, §2.6).
ANSWER_FIELDS = (
    "TransactionID",
    "ResidentNameID",
    "PropertyID",
    "SiteID",
    "ChargeCode",
    "PaymentInitiationDatetime",
    "PaymentAmount",
    "CheckNumber",
    "PaymentType",
    "PartnerName",
    "ExternalTransactionNumber",
    "ExternalBatchID",
    "Description",
    "BatchDescription",
    "CheckURL",
    "UpdateControlTotal",
    "ChargeID",
    "DepositDate",
    "BatchId",
    "ApplyToChargesThroughDate",
    "TrackingValue",
    "ApplyToDirectDebitOnly",
    "CashType",
)
#: What the server decides, whatever the request says.
ASSIGNED = frozenset({"TransactionID", "BatchId", "ChargeCode"})
#: Request field names, matched case-insensitively (RT writes ``ExternalBatchId``, MH
#: ``ExternalBatchID``, §2.6).
REQUEST_FIELDS = {name.lower(): name for name in ANSWER_FIELDS if name not in ASSIGNED}
#: MRI's length limits (MH validates them, §2.6).
LIMITS = {
    "CheckNumber": 15,
    "ExternalTransactionNumber": 10,
    "ExternalBatchID": 30,
    "Description": 30,
    "BatchDescription": 30,
}
DATE_FIELDS = ("PaymentInitiationDatetime", "DepositDate", "ApplyToChargesThroughDate")
#: Defaults of the answer (MH's sample: ``CashType`` ``VM``, the flags ``N``).
DEFAULTS = {"CashType": "VM", "UpdateControlTotal": "N", "ApplyToDirectDebitOnly": "N"}

_POSITIVE = re.compile(r"^[0-9]{1,13}(?:\.[0-9]{1,2})?$")
_NEGATIVE = re.compile(r"^-[0-9]{1,13}(?:\.[0-9]{1,2})?$")
# Table row 7: ``Y-m-d`` or ``Y-m-d\\THH:MM:SS``, nothing else.
_PAYMENT_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}:[0-9]{2})?$")


@dataclass
class Posting:
    """What one record came to. ``receipt`` is None when nothing was committed."""

    answer: dict[str, str | datetime | None]
    receipt: Receipt | None
    notes: list[str] = field(default_factory=list)

    @property
    def committed(self) -> bool:
        return self.receipt is not None


def canonical(record: Mapping[str, str | None]) -> tuple[dict[str, str | None], list[str]]:
    """The record by MRI's field names; unknown names are returned apart (ignored)."""
    known: dict[str, str | None] = {}
    unknown: list[str] = []
    for name, value in record.items():
        mri_name = REQUEST_FIELDS.get(name.lower())
        if mri_name is None:
            unknown.append(name)
        else:
            known[mri_name] = value.strip() if isinstance(value, str) else value
    return known, unknown


def post_payment(
    world: World, record: Mapping[str, str | None], now: datetime, *, commit: bool
) -> Posting:
    fields, unknown = canonical(record)
    notes = [f"ignored unknown field {name}" for name in unknown]
    prop, resident = _resident(world, fields)
    payment_type = fields.get("PaymentType") or ""
    if payment_type not in PAYMENT_TYPES:
        raise MriError(INVALID_PAYMENT_TYPE, f"PaymentType {payment_type!r} is not C or K")
    amount = _amount(fields.get("PaymentAmount"), world.switches.negative_amounts == "reversal")
    dates = _dates(fields)
    _lengths(fields, world.switches.over_length == "truncate", notes)
    txn = fields.get("ExternalTransactionNumber") or ""
    external_batch_id = fields.get("ExternalBatchID") or ""
    if not txn or not external_batch_id:
        missing = "ExternalTransactionNumber" if not txn else "ExternalBatchID"
        raise MriError(INVALID_PAYLOAD, f"{missing} is missing")
    earlier = _earlier(world, prop, txn, fields.get("CheckNumber"))
    if earlier is not None:
        if world.switches.duplicates == "reject":
            raise MriError(
                DUPLICATE,
                f"ExternalTransactionNumber {txn} was posted as {earlier.transaction_id} "
                f"in batch {earlier.batch_id}",
                original=earlier,
            )
        notes.append(f"{txn} posted again (duplicates=accept_twice)")
    batch = world.batches.get((prop.key, external_batch_id))
    if batch is not None and batch.closed_at is not None:
        raise MriError(BATCH_CLOSED, f"batch {batch.batch_id} ({external_batch_id}) is closed")
    lease = resident.lease
    if lease.blocked and world.switches.block_epayments == "reject":
        raise MriError(EPAYMENTS_BLOCKED, f"BlockEPayments=Y on lease {lease.label}")
    charge = _charge(resident, fields.get("ChargeID"))
    charge_code = charge.charge_code if charge is not None else PREPAYMENT_CHARGE_CODE
    answer = _answer(fields, dates, amount, charge_code)
    if not commit:
        answer["BatchId"] = batch.batch_id if batch is not None else None
        return Posting(answer, None, notes)
    if batch is None:
        batch = Batch(
            batch_id=f"{world.next_number('batch', 19_001):014d}",
            property_key=prop.key,
            external_batch_id=external_batch_id,
            opened_at=now,
        )
        world.batches[(prop.key, external_batch_id)] = batch
    transaction_id = f"{world.next_number('receipt', 501):08d}PP"
    answer["TransactionID"], answer["BatchId"] = transaction_id, batch.batch_id
    receipt = Receipt(
        transaction_id=transaction_id,
        property_key=prop.key,
        resident_name_id=resident.name_id,
        lease_key=lease.key,
        amount_cents=amount,
        payment_type=payment_type,
        payment_date=dates["PaymentInitiationDatetime"],
        external_transaction_number=txn,
        check_number=fields.get("CheckNumber"),
        external_batch_id=external_batch_id,
        batch_id=batch.batch_id,
        charge_id=charge.charge_id if charge is not None else None,
        charge_code=charge_code,
        cash_type=str(answer["CashType"]),
        ledger=_ledger(charge, str(answer["CashType"])),
        answer=answer,
        posted_at=now,
        notes=notes,
    )
    if charge is not None and amount > 0:
        taken = min(amount, max(charge.unpaid_cents, 0))
        charge.unpaid_cents -= taken
        receipt.applied.append((charge.charge_id, taken))
    kind = "receipt" if amount > 0 else "reversal"
    lease.ledger.append(LedgerEntry(now, kind, -amount, transaction_id))
    batch.receipts.append(receipt)
    world.receipts.append(receipt)
    world.touch(lease, now)
    return Posting(answer, receipt, notes)


def _resident(world: World, fields: Mapping[str, str | None]) -> tuple[Property, Resident]:
    property_id = fields.get("PropertyID") or ""
    prop = world.property(property_id)
    if prop is None:
        raise MriError(RESIDENT_NOT_FOUND, f"no property {property_id!r}")
    name_id = fields.get("ResidentNameID") or ""
    if not name_id:
        # RT sends nil when the holding's exportTenantId is off (§2.6).
        raise MriError(RESIDENT_NOT_FOUND, "ResidentNameID is missing")
    resident = prop.residents.get(name_id)
    if resident is None:
        raise MriError(
            RESIDENT_NOT_FOUND, f"no ResidentNameID {name_id!r} on property {prop.property_id}"
        )
    return prop, resident


def _amount(text: str | None, negative_allowed: bool) -> int:
    value = (text or "").strip()
    if _POSITIVE.match(value) or (negative_allowed and _NEGATIVE.match(value)):
        cents = parse_vendor_amount(value)
        if cents != 0:
            return cents
    allowed = "a non-zero" if negative_allowed else "a positive"
    raise MriError(INVALID_AMOUNT, f"PaymentAmount {text!r} is not {allowed} amount (≤ 2 places)")


def _dates(fields: Mapping[str, str | None]) -> dict[str, datetime]:
    dates: dict[str, datetime] = {}
    for name in DATE_FIELDS:
        value = fields.get(name)
        if not value:
            if name == "PaymentInitiationDatetime":
                raise MriError(INVALID_DATE, f"{name} is missing")
            continue
        try:
            if not _PAYMENT_DATE.match(value):
                raise ValueError(value)
            dates[name] = datetime.fromisoformat(value)
        except ValueError:
            raise MriError(
                INVALID_DATE, f"{name} {value!r} is neither Y-m-d nor Y-m-dTHH:MM:SS"
            ) from None
    return dates


def _lengths(fields: dict[str, str | None], truncate: bool, notes: list[str]) -> None:
    for name, limit in LIMITS.items():
        value = fields.get(name)
        if value is None or len(value) <= limit:
            continue
        if not truncate:
            raise MriError(TOO_LONG, f"{len(value)} characters, at most {limit}", field_name=name)
        fields[name] = value[:limit]
        notes.append(f"{name} cut to {limit} characters (over_length=truncate)")


def _earlier(world: World, prop: Property, txn: str, check_number: str | None) -> Receipt | None:
    by_check = world.switches.duplicate_check_number and bool(check_number)
    for receipt in world.receipts:
        if receipt.property_key != prop.key:
            continue
        if receipt.external_transaction_number == txn or (
            by_check and receipt.check_number == check_number
        ):
            return receipt
    return None


def _ledger(charge: Charge | None, cash_type: str) -> Literal["rent", "security_deposit"]:
    """A deposit charge's code or a deposit ``CashType`` (INFERENCE, §2.10) marks a deposit."""
    if (charge is not None and charge.security_deposit) or (
        cash_type.upper() in SECURITY_DEPOSIT_CODES
    ):
        return "security_deposit"
    return "rent"


def _charge(resident: Resident, charge_id: str | None) -> Charge | None:
    if not charge_id:
        return None
    lease = resident.lease
    for charge in lease.charges:
        if charge.charge_id == charge_id:
            return charge
    raise MriError(CHARGE_NOT_FOUND, f"ChargeID {charge_id} is not a charge of lease {lease.label}")


def _answer(
    fields: Mapping[str, str | None], dates: Mapping[str, datetime], amount: int, charge_code: str
) -> dict[str, str | datetime | None]:
    answer: dict[str, str | datetime | None] = {}
    for name in ANSWER_FIELDS:
        value: str | datetime | None = fields.get(name) or DEFAULTS.get(name)
        if name in dates:
            value = dates[name]
        answer[name] = value
    answer["PaymentAmount"] = format_cents(amount)
    answer["ChargeCode"] = charge_code
    answer["TransactionID"] = None
    answer["BatchId"] = None
    return answer
