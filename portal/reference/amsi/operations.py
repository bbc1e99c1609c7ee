"""The five operations RT used (connectors.md §1.3-§1.7): an XMLData document in, a result
document out, each error in the operation's own shape (§3.2):

- Leasing: ``<InternetTrafficResponse><Error><ErrorCode>…`` (§1.4);
- AddPayment: the request's ``<Payment>`` attributes echoed, status as child elements (§1.5);
- ReturnPayment: ``<Payments><Payment>`` with child elements (§1.6);
- UpdateSettlementData: ``<Batches><EDEX>`` (§1.7).

Checks run in the order of the §3.2 table: login (1), ``preliminary`` (2), XMLData (3), then
the operation's own. ``preliminary=1`` validates and answers without committing (INFERENCE,
§4.2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from portal.reference.amsi import documents
from portal.reference.amsi.soap import SoapRequest, result_text
from portal.reference.amsi.state import (
    INVALID_PRELIMINARY,
    INVALID_XMLDATA,
    LEASE_STATUSES,
    NO_DATA,
    AmsiError,
    Portfolio,
    World,
)
from portal.reference.safexml import XmlError, parse

ROOTS = {
    "AddPayment": "Payments",
    "ReturnPayment": "Payments",
    "UpdateSettlementData": "EDEX",
    "GetPropertyUnits": "EDEX",
    "GetPropertyResidents": "EDEX",
}
LEASING = ("GetPropertyUnits", "GetPropertyResidents")
#: The bank book every payment lands in (``AdditionalData/eSiteBankBookID``, §1.5; its meaning
#: is INFERENCE, RT ignored it).
BANK_BOOK_ID = "1"


@dataclass
class Outcome:
    result: str
    verdict: str
    error_codes: list[int]
    payload: dict[str, Any]
    committed: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass
class _Document:
    root: Element | None
    problem: str | None
    records: list[dict[str, str]]


def _document(request: SoapRequest) -> _Document:
    raw = request.fields.get("XMLData")
    if raw is None or not raw.strip():
        return _Document(None, "XMLData is missing", [])
    try:
        # CDATA or escaped text, with whitespace around the payload (§1.2).
        root = parse(raw.strip())
    except XmlError as exc:
        return _Document(None, f"XMLData: {exc}", [])
    if root.tag == "EDEX":
        records = [{c.tag: (c.text or "").strip() for c in root}]
    else:
        records = [
            {**child.attrib, **{c.tag: (c.text or "").strip() for c in child}}
            for child in root
            if child.tag == "Payment"
        ]
    return _Document(root, None, records)


def _payload(request: SoapRequest, document: _Document) -> dict[str, Any]:
    payload: dict[str, Any] = {
        name: request.fields.get(name) for name in ("UserID", "PortfolioName")
    }
    payload["Password"] = "***" if request.fields.get("Password") else None
    if "preliminary" in request.present:
        payload["preliminary"] = request.fields.get("preliminary")
    payload["XMLData"] = (
        {"root": document.root.tag, "records": document.records}
        if document.root is not None
        else {"error": document.problem, "raw": (request.fields.get("XMLData") or "")[:2000]}
    )
    return payload


def run(
    world: World,
    request: SoapRequest,
    now: datetime,
    *,
    commit: bool,
    forced: AmsiError | None = None,
) -> Outcome:
    """Serve one call. ``commit=False`` answers without changing anything; ``forced`` answers
    that error in the operation's shape without running it (the ``reject`` fault switch)."""
    document = _document(request)
    payload = _payload(request, document)
    error = forced
    portfolio: Portfolio | None = None
    if error is None:
        try:
            portfolio = world.login(
                request.fields.get("UserID"),
                request.fields.get("Password"),
                request.fields.get("PortfolioName"),
            )
        except AmsiError as exc:
            error = exc
    dry = False
    if error is None and request.operation not in LEASING:
        preliminary = (request.fields.get("preliminary") or "").strip()
        if preliminary not in ("0", "1"):
            error = AmsiError(INVALID_PRELIMINARY, f"preliminary {preliminary!r} is not 0 or 1")
        dry = preliminary == "1"
    expected = ROOTS[request.operation]
    if error is None and document.root is None:
        error = AmsiError(INVALID_XMLDATA, document.problem or "")
    elif error is None and document.root is not None and document.root.tag != expected:
        error = AmsiError(
            INVALID_XMLDATA, f"the root element is <{document.root.tag}>, expected <{expected}>"
        )
    if request.operation in LEASING:
        return _leasing(world, request.operation, portfolio, document, payload, error)
    return _ledger(
        world,
        request.operation,
        portfolio,
        document,
        payload,
        error,
        now,
        commit=commit and not dry,
    )


# --- Leasing ---------------------------------------------------------------------------


def _traffic_error(exc: AmsiError) -> Element:
    root = Element("InternetTrafficResponse")
    error = SubElement(root, "Error")
    SubElement(error, "ErrorCode").text = str(exc.error.number)
    SubElement(error, "ErrorDescription").text = exc.description
    return root


def _leasing(
    world: World,
    operation: str,
    portfolio: Portfolio | None,
    document: _Document,
    payload: dict[str, Any],
    error: AmsiError | None,
) -> Outcome:
    try:
        if error is not None:
            raise error
        assert portfolio is not None
        assert document.root is not None
        fields = document.records[0]
        prop = portfolio.property(fields.get("propertyid", ""))
        if operation == "GetPropertyUnits":
            result = _units(prop.units.values(), fields)
        else:
            result = _residents(prop.leases.values(), fields)
    except AmsiError as exc:
        # "No data" is how eSite says "empty" (§1.4; RT reads it as an empty list).
        verdict = "accepted" if exc.error is NO_DATA else "rejected"
        return Outcome(result_text(_traffic_error(exc)), verdict, [exc.error.number], payload)
    return Outcome(result_text(result), "accepted", [], payload)


def _units(units: Any, fields: dict[str, str]) -> Element:
    include_all = fields.get("includeallstatuses", "1") != "0"
    chosen = [u for u in units if include_all or not u.inactive]
    if not chosen:
        raise AmsiError(NO_DATA, "the property has no units")
    root = Element(documents.UNITS_ROOT)
    root.extend(documents.unit_element(u) for u in chosen)
    return root


def _residents(leases: Any, fields: dict[str, str]) -> Element:
    status = fields.get("leasestatus", "")
    if status and status not in LEASE_STATUSES:
        raise AmsiError(INVALID_XMLDATA, f"leasestatus {status!r} is not one of C, N, F, P")
    chosen = [lease for lease in leases if not status or lease.status == status]
    if not chosen:
        raise AmsiError(NO_DATA, f"no leases with status {status or 'any'}")

    def flag(name: str) -> bool:
        # Absent means included: the fuller document (RT always sent every flag).
        return fields.get(name, "1") != "0"

    root = Element(documents.RESIDENTS_ROOT)
    root.extend(
        documents.lease_element(
            lease,
            address=flag("includeprimaryaddress"),
            contacts=flag("includecontactdetails"),
            recurring=flag("includerecurringcharges"),
        )
        for lease in chosen
    )
    return root


# --- Ledger ----------------------------------------------------------------------------


def _status(element: Element, code: int, description: str, reference: str = "") -> None:
    SubElement(element, "ErrorCode").text = str(code)
    SubElement(element, "ErrorDescription").text = description or None
    SubElement(element, "EvolutionReference").text = reference or None
    SubElement(element, "EvolutionReferenceDescription")


def _ledger(
    world: World,
    operation: str,
    portfolio: Portfolio | None,
    document: _Document,
    payload: dict[str, Any],
    error: AmsiError | None,
    now: datetime,
    *,
    commit: bool,
) -> Outcome:
    records = document.records
    if error is None and not records:
        error = AmsiError(INVALID_XMLDATA, "<Payments> holds no <Payment>")
    handler: Callable[..., tuple[Element, int, list[str], bool]] = {
        "AddPayment": _add_payment,
        "ReturnPayment": _return_payment,
        "UpdateSettlementData": _settlement,
    }[operation]
    root = Element("Batches" if operation == "UpdateSettlementData" else "Payments")
    codes: list[int] = []
    notes: list[str] = []
    committed = False
    for record in records or [{}]:
        element, code, record_notes, posted = handler(
            world, portfolio, record, now, commit=commit, error=error
        )
        root.append(element)
        codes.append(code)
        notes.extend(record_notes)
        committed = committed or posted
    failed = [c for c in codes if c]
    verdict = "rejected" if failed else ("accepted" if commit else "validated")
    return Outcome(result_text(root), verdict, failed, payload, committed, notes)


def _add_payment(
    world: World,
    portfolio: Portfolio | None,
    record: dict[str, str],
    now: datetime,
    *,
    commit: bool,
    error: AmsiError | None,
) -> tuple[Element, int, list[str], bool]:
    element = Element("Payment", record)
    try:
        if error is not None:
            raise error
        assert portfolio is not None
        done = world.add_payment(portfolio, record, now, commit=commit)
    except AmsiError as exc:
        original = exc.original
        _status(
            element,
            exc.error.number,
            exc.description,
            original.evolution_reference if original else "",
        )
        if original is not None:
            # A duplicate names what the first call posted, so a retrying client can record it.
            _additional(element, portfolio, original.journal_no)
        return element, exc.error.number, [], False
    _status(element, 0, "", done.evolution_reference)
    additional = SubElement(element, "AdditionalData")
    SubElement(additional, "eSiteBatchNo").text = done.esite_batch_no or None
    SubElement(additional, "eSiteBankBookID").text = BANK_BOOK_ID
    return element, 0, done.notes, done.payment is not None


def _additional(element: Element, portfolio: Portfolio | None, journal_no: str) -> None:
    journal = portfolio.journals.get(journal_no) if portfolio else None
    additional = SubElement(element, "AdditionalData")
    SubElement(additional, "eSiteBatchNo").text = journal.esite_batch_no if journal else None
    SubElement(additional, "eSiteBankBookID").text = BANK_BOOK_ID


def _return_payment(
    world: World,
    portfolio: Portfolio | None,
    record: dict[str, str],
    now: datetime,
    *,
    commit: bool,
    error: AmsiError | None,
) -> tuple[Element, int, list[str], bool]:
    element = Element("Payment")
    for name in ("ClientTransactionID", "Reason", "ClientJnlNo"):
        SubElement(element, name).text = record.get(name) or None
    evolution = SubElement(element, "EvolutionTransactionID")
    try:
        if error is not None:
            raise error
        assert portfolio is not None
        done = world.return_payment(portfolio, record, now, commit=commit)
    except AmsiError as exc:
        _status(element, exc.error.number, exc.description)
        SubElement(element, "xmlGL")
        return element, exc.error.number, [], False
    evolution.text = done.evolution_transaction_id or None
    _status(element, 0, "", done.evolution_transaction_id)
    SubElement(element, "xmlGL")
    notes = [f"return placed in journal {done.journal_no}"]
    return element, 0, notes, commit


def _settlement(
    world: World,
    portfolio: Portfolio | None,
    record: dict[str, str],
    now: datetime,
    *,
    commit: bool,
    error: AmsiError | None,
) -> tuple[Element, int, list[str], bool]:
    element = Element("EDEX")
    for name in (
        "ExternalJnlNo",
        "ClientMerchantId",
        "SettlementAmount",
        "SettlementDate",
        "ApprovalCode",
    ):
        SubElement(element, name).text = record.get(name) or None
    try:
        if error is not None:
            raise error
        assert portfolio is not None
        done = world.settle(portfolio, record, now, commit=commit)
    except AmsiError as exc:
        _status(element, exc.error.number, exc.description)
        return element, exc.error.number, [], False
    _status(element, 0, "", done.journal.esite_batch_no)
    return element, 0, [done.warning] if done.warning else [], commit
