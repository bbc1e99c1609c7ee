"""The AMSI Ledger calls that report payments (connectors.md §1.5-§1.7), built from a
delivery's facts (``portal.payments.postings``, ``portal.connectors.jobs``).

RT's obligations, with its gaps fixed (§3.2 "Connector obligations"): one ``Payment`` per
receipt; ``ClientJnlNo`` = the deposit batch's digits; ``ClientMerchantID`` = the connection's
merchant ID; ``m/d/Y`` dates in the portal's business time zone (§4.12); two-decimal amounts,
never fees; ``PaymentType`` ``P`` for a card, ``C`` for a bank account (§0.5). A payment without a
ResiID or without the unit triple is not sent at all: the delivery fails and says why (RT threw
before sending, §1.5).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import date
from typing import Any

from portal.connectors.outcome import Outcome, Unbuildable
from portal.outbox.models import Topic

from . import client

#: ``ErrorCode`` 0 is success (§1.5); 18 says the ``ClientTransactionID`` is already posted: a
#: retry of a call whose answer was lost (connectors.md §3.1 "commit, then hang") has arrived,
#: which is what the portal wanted.
OK = 0
DUPLICATE = 18
#: ReturnPayment's "already returned": on a retry, the lost answer's return arrived.
ALREADY_RETURNED = 22


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _mdy(iso: str) -> str:
    return date.fromisoformat(iso).strftime("%m/%d/%Y")


def _digits(value: str) -> str:
    """RT sent the batch ID with non-digits removed (§1.5 ``ClientJnlNo``)."""
    return "".join(ch for ch in value if ch.isdigit())


def _unit_triple(facts: Mapping[str, Any]) -> tuple[str, str, str]:
    parts = str(facts.get("unit_external_id") or "").split("|")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise Unbuildable(
            f"the unit's AMSI ID {facts.get('unit_external_id')!r} is not "
            "PropertyId|BldgId|UnitId; import the property with Sync Now, or set the unit's "
            "external ID so"
        )
    return parts[0], parts[1], parts[2]


def _xml(root: ET.Element) -> str:
    return ET.tostring(root, encoding="unicode")


def add_payment(facts: Mapping[str, Any], connection: Mapping[str, Any]) -> str:
    """``<Payments><Payment …attributes/></Payments>`` in RT's attribute order (§1.5)."""
    property_id, bldg_id, unit_id = _unit_triple(facts)
    resi_id = str(facts.get("resident_external_id") or "").strip()
    if not resi_id:
        raise Unbuildable(
            "the lease has no ResiID (its lease ID): AMSI cannot place the payment; set the "
            "lease ID, or import the lease with Sync Now"
        )
    merchant = str(connection.get("merchant_id") or "")
    jnl = _digits(str(facts["journal"]))
    payments = ET.Element("Payments")
    ET.SubElement(
        payments,
        "Payment",
        {
            "PropertyID": property_id,
            "BldgID": bldg_id,
            "UnitID": unit_id,
            "ResiID": resi_id,
            "ClientMerchantID": merchant,
            "ClientTransactionID": str(facts["transaction_id"]),
            "ClientTransactionDate": _mdy(facts["made_on"]),
            "Amount": _money(int(facts["amount_cents"])),
            "ClientJnlNo": jnl,
            "Description": "",
            "PaymentType": "P" if facts["method"] == "card" else "C",
            "CheckNo": "",
            "ChargeIncCode": "",
            "ChargeDateFrom": "",
            "ChargeDateThru": "",
        },
    )
    return _xml(payments)


def return_payment(facts: Mapping[str, Any]) -> str:
    """``<Payments><Payment>`` with child elements (§1.6): the original transaction and journal,
    the reason, the description cut to 30."""
    payments = ET.Element("Payments")
    payment = ET.SubElement(payments, "Payment")
    for name, value in (
        ("ClientTransactionID", str(facts["transaction_id"])),
        ("Reason", str(facts["reason"])),
        ("ClientJnlNo", _digits(str(facts["journal"]))),
        ("Description", str(facts.get("description") or "")[:30]),
    ):
        ET.SubElement(payment, name).text = value
    return _xml(payments)


def settlement(facts: Mapping[str, Any], connection: Mapping[str, Any]) -> str:
    """``<EDEX>`` with child elements (§1.7); ``ClientMerchantId`` spelt so here."""
    edex = ET.Element("EDEX")
    for name, value in (
        ("ExternalJnlNo", _digits(str(facts["journal"]))),
        ("ClientMerchantId", str(connection.get("merchant_id") or "")),
        ("SettlementAmount", _money(int(facts["amount_cents"]))),
        ("SettlementDate", _mdy(facts["settlement_date"])),
        ("ApprovalCode", "RentTrack"),
    ):
        ET.SubElement(edex, name).text = value
    return _xml(edex)


_OPERATIONS = {
    Topic.PAYMENT: "AddPayment",
    Topic.REVERSAL: "ReturnPayment",
    Topic.JOURNAL_CLOSE: "UpdateSettlementData",
}


def build(topic: Topic, facts: Mapping[str, Any], connection: Mapping[str, Any]) -> str:
    if topic is Topic.PAYMENT:
        return add_payment(facts, connection)
    if topic is Topic.REVERSAL:
        return return_payment(facts)
    return settlement(facts, connection)


def send(
    topic: Topic,
    facts: Mapping[str, Any],
    connection: Mapping[str, Any],
    password: str | None,
    *,
    retry: bool = False,
) -> Outcome:
    """One attempt: build, call, read the verdict. ``retry``: an earlier attempt got no
    answer, so "already returned" means it did arrive."""
    operation = _OPERATIONS[topic]
    try:
        xml_data = build(topic, facts, connection)
    except (Unbuildable, KeyError, ValueError) as exc:
        return Outcome("unbuildable", operation, description=str(exc))
    try:
        answer = client.call(
            client.Login.of(dict(connection), password), client.LEDGER, operation, xml_data
        )
    except client.TransportError as exc:
        return Outcome("transport", operation, request=xml_data, description=str(exc))
    error = client.error_of(answer.root)
    if error is None:
        return Outcome(
            "transport",
            operation,
            request=xml_data,
            description="the answer carries no ErrorCode",
            result=answer.text,
        )
    code, description = error
    if code == OK:
        return Outcome("sent", operation, request=xml_data, code=code, result=answer.text)
    if code == DUPLICATE and topic is Topic.PAYMENT:
        return Outcome(
            "sent",
            operation,
            request=xml_data,
            code=code,
            description=description,
            result=answer.text,
            notes=["already posted: an earlier attempt reached the eSite (duplicate, 18)"],
        )
    return Outcome(
        "rejected",
        operation,
        request=xml_data,
        code=code,
        description=description,
        result=answer.text,
    )
