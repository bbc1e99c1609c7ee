"""The MRI calls that report payments (connectors.md §2.6, §2.10; seed 002), built from a
delivery's facts (``portal.payments.postings``, ``portal.connectors.mri.closing``).

- **A payment** is one ``PaymentDetailsByPropertyID`` record (RT's ``MRIOrder``, §2.6):
  ``PaymentType`` ``K`` for a card, ``C`` for a bank account (§0.5); the amount without fee;
  ``CheckNumber`` the transaction ID for a bank payment only; ``ExternalBatchID`` the portal's
  deposit batch (a later part of it once the portal closed it at the end of the day:
  ``postings``); ``PaymentInitiationDatetime`` the payment's creation in the portal's business
  time zone, with no zone (§4.12); ``PartnerName`` ``RentTrack``.
- **ExternalTransactionNumber** is at most 10 characters in MRI (§2.6) and the portal's
  transaction IDs have 12 digits, which RT sent whole and MRI would refuse or cut (§2.6 ⚠): the
  portal sends the transaction ID in base 36 (8 characters; a reversal's with an ``R``
  before it), unique per receipt and the same on every retry.
- **Description**: RT's ``RT T#<transaction> B#<batch>`` when it fits MRI's 30 characters, else
  ``RT T#<transaction>`` (RT sent it whole, over the limit, §2.6 ⚠).
- **Security deposits** carry the connection's ``security_deposit_cash_type`` as ``CashType``:
  MRI books them to the security-deposit ledger (seed 002; the field is MH's, §2.6).
- **A reversal** (when the property posts reversals, seed 002 "a separate debit") is the same
  record with a negative amount and the reversal's own transaction number (§2.10: the shape is a
  GAP; the reference MRI takes it with ``negative_amounts=reversal``).
- **The end-of-day close** is ``MRI_S-PMRM_CloseBatch``, the simulator's own API (§4.6: MRI's
  is unknown; docs/decisions.md): the property, the batch and the control total and count of
  what the portal posted to it.

A duplicate answer (the ``ExternalTransactionNumber`` is there already) means an earlier
attempt arrived — the answer was lost (§2.3: RT's client re-sent POSTs after a timeout): the
delivery is sent, with MRI's receipt named as the duplicate names it. Any other ``Error`` is a
rejection; a non-200 or unreadable answer a transport error, tried again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from portal.connectors.outcome import Outcome, Unbuildable
from portal.core.money import format_cents
from portal.outbox.models import Topic

from . import client

PARTNER_NAME = "RentTrack"
#: MRI's lengths (§2.6, MH validates them).
DESCRIPTION_MAX = 30
TRANSACTION_NUMBER_MAX = 10
#: The start of MRI's duplicate message (the reference MRI's, docs/reference-mri.md row 9).
DUPLICATE = "duplicate"

OPERATIONS = {
    Topic.PAYMENT: client.PAYMENT_DETAILS,
    Topic.REVERSAL: client.PAYMENT_DETAILS,
    Topic.JOURNAL_CLOSE: client.CLOSE_BATCH,
}

_DIGITS36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def transaction_number(transaction_id: str, *, reversal: bool = False) -> str:
    """The portal's 12-digit transaction ID in base 36, 8 characters (``R`` first for a
    reversal): MRI's ``ExternalTransactionNumber`` (the module docstring)."""
    value = int(transaction_id)
    out = ""
    while value:
        value, digit = divmod(value, 36)
        out = _DIGITS36[digit] + out
    number = ("R" if reversal else "") + out.rjust(8, "0")
    assert len(number) <= TRANSACTION_NUMBER_MAX
    return number


def description(transaction_id: str, batch: str) -> str:
    full = f"RT T#{transaction_id} B#{batch}"
    return full if len(full) <= DESCRIPTION_MAX else f"RT T#{transaction_id}"[:DESCRIPTION_MAX]


def _local(iso: str) -> str:
    """``Y-m-d\\TH:i:s`` without a zone (RT's form, §2.6)."""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%dT%H:%M:%S")


def receipt(
    facts: Mapping[str, Any], connection: Mapping[str, Any], *, reversal: bool
) -> dict[str, Any]:
    """One ``PaymentDetailsByPropertyID`` record, in RT's element order (§2.6)."""
    name_id = str(facts.get("resident_external_id") or "").strip()
    if not name_id:
        raise Unbuildable(
            "the lease has no MRI ResidentNameID (its lease ID): MRI cannot place the payment; "
            "import the lease with Sync Now, or set the lease ID"
        )
    property_id = str(facts.get("property_external_id") or "").strip()
    if not property_id:
        raise Unbuildable("the property has no MRI PropertyID (its external ID)")
    bank = facts["method"] != "card"
    own = str(facts["reversal_transaction_id"] if reversal else facts["transaction_id"])
    batch = str(facts["journal"])
    record: dict[str, Any] = {
        "SiteID": str(connection.get("site_id") or "") or None,
        "PaymentType": "C" if bank else "K",
        "PaymentAmount": format_cents(int(facts["signed_amount_cents"])),
        "CheckNumber": own if bank else None,
        "ExternalTransactionNumber": transaction_number(own, reversal=reversal),
        "PaymentInitiationDatetime": _local(str(facts["made_at"])),
        "ResidentNameID": name_id,
        "PropertyID": property_id,
        "PartnerName": PARTNER_NAME,
        "ExternalBatchID": batch,
    }
    if connection.get("send_description", True):
        record["Description"] = description(own, batch)
    if facts.get("payment_type") == "security_deposit":
        record["CashType"] = str(connection.get("security_deposit_cash_type") or "SD")
    return record


def close_batch(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "PropertyID": str(facts["property_external_id"]),
        "ExternalBatchID": str(facts["journal"]),
        "ControlTotal": format_cents(int(facts["amount_cents"])),
        "ReceiptCount": str(int(facts["receipt_count"])),
        "CloseDatetime": _local(str(facts["close_at"])),
    }


def build(topic: Topic, facts: Mapping[str, Any], connection: Mapping[str, Any]) -> dict[str, Any]:
    if topic is Topic.JOURNAL_CLOSE:
        return close_batch(facts)
    return receipt(facts, connection, reversal=topic is Topic.REVERSAL)


def _ids(record: Mapping[str, Any]) -> dict[str, str]:
    return {
        name: str(record[name])
        for name in ("TransactionID", "BatchId", "ExternalBatchID", "ExternalTransactionNumber")
        if record.get(name)
    }


def send(
    topic: Topic,
    facts: Mapping[str, Any],
    connection: Mapping[str, Any],
    password: str | None,
    *,
    retry: bool = False,
) -> Outcome:
    """One attempt: build, call, read the verdict (the module docstring)."""
    operation = OPERATIONS[topic]
    try:
        record = build(topic, facts, connection)
    except (Unbuildable, KeyError, ValueError) as exc:
        return Outcome("unbuildable", operation, description=str(exc))
    login = client.Login.of(connection, password)
    request = client.render(operation, [record], login.format)
    try:
        exchange = client.post(login, operation, [record])
    except client.TransportError as exc:
        return Outcome("transport", operation, request=request, description=str(exc))
    if not exchange.records:
        return Outcome(
            "transport",
            operation,
            request=request,
            description="the answer holds no record",
            result=exchange.response,
        )
    answer = exchange.records[0]
    error = answer.get("Error")
    if error is None:
        notes = ["the batch was closed already"] if answer.get("AlreadyClosed") == "Y" else []
        return Outcome(
            "sent",
            operation,
            request=request,
            result=exchange.response,
            notes=notes,
            vendor_ids=_ids(answer),
        )
    message = str(error)
    if topic is not Topic.JOURNAL_CLOSE and message.lower().startswith(DUPLICATE):
        return Outcome(
            "sent",
            operation,
            request=request,
            description=message,
            result=exchange.response,
            notes=[
                "already posted: an earlier attempt reached MRI (duplicate "
                f"ExternalTransactionNumber{', on a retry' if retry else ''})"
            ],
            vendor_ids=_ids(answer),
        )
    return Outcome(
        "rejected", operation, request=request, description=message, result=exchange.response
    )
