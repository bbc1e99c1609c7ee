"""MRI's documents (connectors.md §2.1, §2.4-§2.7): read to seed the server and to take a
payment, written back by ``api.asp`` in both formats.

- **XML** (RT): the root is the lower-cased API name, records are ``<entry>`` elements, every
  field of a record is present in a fixed order with empty values as empty elements, dates
  are ``YYYY-MM-DDTHH:MM:SS.0000000`` (7 fractional digits: RT's parser needs them, §2.4), and
  the next page is the root attribute ``NextPageLink`` (§2.8).
- **JSON** (MH): ``{"odata.metadata": …, "nextLink": …?, "value": [...]}``, nulls for empty
  values, dates without a fraction.

Seeding takes a ``ResidentLeaseDetailsByPropertyID`` answer **as MRI sends it** (the XML
document, or the JSON one); both go through one loader, so a rule has one home. A malformed
document is refused whole with a ``DocumentError`` naming the element (``entry[3]/LeaseBalance``,
or ``value[2].LeaseBalance`` for JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from portal.core.money import format_cents
from portal.reference.mri.state import (
    RESIDENT_STATUSES,
    Charge,
    Lease,
    LedgerEntry,
    Property,
    Resident,
    parse_vendor_amount,
    parse_vendor_datetime,
    property_key,
)
from portal.reference.safexml import XmlError, local, parse

LEASE_DETAILS = "MRI_S-PMRM_ResidentLeaseDetailsByPropertyID"
RENT_ROLL = "MRI_S-PMRM_ResidentialRentRoll"
PAYMENT_DETAILS = "MRI_S-PMRM_PaymentDetailsByPropertyID"
PENDING_MOVE_INS = "MRI_S-PMRM_PendingMoveIns"
#: This simulator's own batch-close API: MRI's is unknown (connectors.md §4.6, GAP).
CLOSE_BATCH = "MRI_S-PMRM_CloseBatch"

#: The 27 elements of a lease-details entry, in the capture's order (§2.4).
ENTRY_FIELDS = (
    "ResidentNameID",
    "PropertyID",
    "BuildingID",
    "UnitID",
    "LeaseID",
    "Address",
    "BuildingAddress",
    "City",
    "State",
    "Zipcode",
    "FirstName",
    "LastName",
    "ResidentStatus",
    "Email",
    "Birthday",
    "LeaseStart",
    "OccupyDate",
    "LeaseEnd",
    "LeaseMonthlyRentAmount",
    "LeaseMoveOut",
    "LeaseMonthToMonth",
    "PayAllowed",
    "LastUpdateDate",
    "CurrCode",
    "LeaseBalance",
    "IsCurrent",
    "BlockEPayments",
)
#: Fields read as dates (the 27's, and MH's extra ones, §2.4).
DATE_FIELDS = frozenset(
    {
        "Birthday",
        "LeaseStart",
        "OccupyDate",
        "LeaseEnd",
        "LeaseMoveOut",
        "LastUpdateDate",
        "DateNotified",
        "ResidentVacateDate",
    }
)
MONEY_FIELDS = ("LeaseMonthlyRentAmount", "LeaseBalance")
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"


class DocumentError(ValueError):
    """A document the server cannot load; the message names the element."""


# --- the shapes written back -----------------------------------------------------------


@dataclass
class Nested:
    """A field holding fields: ``<Error><Message>…`` in XML, an object in JSON."""

    fields: Fields


@dataclass
class Entries:
    """A field holding records: ``<CurrentCharges><entry>…`` in XML, a list in JSON."""

    items: list[Fields]


Value = str | datetime | None | Nested | Entries
Fields = list[tuple[str, Value]]


def root_name(api: str) -> str:
    return api.lower()


def xml_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond:06d}0"


def json_datetime(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def _xml_fields(parent: Element, fields: Fields) -> None:
    for name, value in fields:
        child = SubElement(parent, name)
        if isinstance(value, Nested):
            _xml_fields(child, value.fields)
        elif isinstance(value, Entries):
            for item in value.items:
                _xml_fields(SubElement(child, "entry"), item)
        elif isinstance(value, datetime):
            child.text = xml_datetime(value)
        else:
            child.text = value or None


def _json_fields(fields: Fields) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in fields:
        if isinstance(value, Nested):
            out[name] = _json_fields(value.fields)
        elif isinstance(value, Entries):
            out[name] = [_json_fields(item) for item in value.items]
        elif isinstance(value, datetime):
            out[name] = json_datetime(value)
        else:
            out[name] = value if value else None
    return out


def metadata_url(base: str, api: str) -> str:
    name = root_name(api)
    return f"{base}?$api={api}&$metadata#MRI.{name}-container/{name}"


def render(
    api: str, fmt: str, records: Iterable[Fields], *, base: str, next_link: str | None = None
) -> bytes:
    """A whole answer of ``api`` in ``fmt`` (``xml`` or ``json``)."""
    if fmt == "json":
        document: dict[str, Any] = {"odata.metadata": metadata_url(base, api)}
        if next_link:
            document["nextLink"] = next_link
        document["value"] = [_json_fields(record) for record in records]
        return json.dumps(document, ensure_ascii=False).encode()
    root = Element(root_name(api))
    if next_link:
        root.set("NextPageLink", next_link)
    for record in records:
        _xml_fields(SubElement(root, "entry"), record)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="unicode").encode()


def error_record(message: str, extra: Fields | None = None) -> Fields:
    """``entry/Error/Message`` (XML), ``value[0].Error.Message`` (JSON) (§2.6)."""
    return [("Error", Nested([("Message", message)])), *(extra or [])]


def lease_detail_record(prop: Property, resident: Resident) -> Fields:
    """A ``ResidentLeaseDetailsByPropertyID`` entry: the 27 fields in order, then any extra
    ones the seed carried, with the live values laid over the seeded ones."""
    lease = resident.lease
    live: dict[str, Value] = {
        "PropertyID": prop.property_id,
        "ResidentStatus": resident.status,
        "Email": resident.email,
        "LeaseMoveOut": lease.move_out,
        "LastUpdateDate": resident.last_update,
        # The lease's rent (a pending move-in added by the admin API has no seeded one).
        "LeaseMonthlyRentAmount": (
            None if lease.rent_cents is None else format_cents(lease.rent_cents)
        ),
        "LeaseBalance": format_cents(lease.balance_cents),
        "IsCurrent": resident.is_current,
        "BlockEPayments": lease.block_epayments,
    }
    names = [*ENTRY_FIELDS, *(n for n in resident.fields if n not in ENTRY_FIELDS)]
    return [(n, live[n] if n in live else resident.fields.get(n)) for n in names]


def _lease_fields(prop: Property, lease: Lease, is_current: str) -> Fields:
    rent = None if lease.rent_cents is None else format_cents(lease.rent_cents)
    return [
        ("PropertyID", prop.property_id),
        ("BuildingID", lease.building_id),
        ("UnitID", lease.unit_id),
        ("LeaseID", lease.lease_id),
        ("LeaseStart", lease.start),
        ("OccupyDate", lease.occupy),
        ("LeaseEnd", lease.end),
        ("LeaseMonthlyRentAmount", rent),
        ("LeaseMoveOut", lease.move_out),
        ("LeaseMonthToMonth", lease.month_to_month),
        ("LeaseBalance", format_cents(lease.balance_cents)),
        ("IsCurrent", is_current),
        ("BlockEPayments", lease.block_epayments),
    ]


def charge_record(prop: Property, charge: Charge) -> Fields:
    building_id, unit_id, lease_id = charge.lease_key
    return [
        ("PropertyID", prop.property_id),
        ("BuildingID", building_id),
        ("UnitID", unit_id),
        ("LeaseID", lease_id),
        ("ChargeCode", charge.charge_code),
        ("Description", charge.description),
        ("Amount", format_cents(charge.amount_cents)),
        ("Frequency", charge.frequency),
        ("EffectiveDate", charge.effective),
        ("EndDate", charge.end),
        ("IsConcession", charge.is_concession),
    ]


def rent_roll_record(prop: Property, lease: Lease, residents: list[Resident]) -> Fields:
    """A ``ResidentialRentRoll`` entry: one per lease, its recurring charges and residents
    (§2.5; the element names are VERIFIED, the set of lease elements is INFERENCE)."""
    is_current = "Y" if any(r.is_current == "Y" for r in residents) else "N"
    recurring = [c for c in lease.charges if c.frequency]
    return [
        *_lease_fields(prop, lease, is_current),
        ("CurrentCharges", Entries([charge_record(prop, c) for c in recurring])),
        (
            "Residents",
            Entries([[("ResidentID", r.name_id), ("ResidentStatus", r.status)] for r in residents]),
        ),
    ]


def pending_move_in_record(prop: Property, resident: Resident) -> Fields:
    """A ``PendingMoveIns`` entry (§2.7): a resident with status ``New``."""
    lease = resident.lease
    return [
        ("ResidentID", resident.name_id),
        ("FirstName", _text(resident.fields.get("FirstName"))),
        ("LastName", _text(resident.fields.get("LastName"))),
        ("PropertyID", prop.property_id),
        ("BuildingID", lease.building_id),
        ("UnitID", lease.unit_id),
        ("LeaseID", lease.lease_id),
        ("ResidentStatus", resident.status),
        ("ScheduledMoveInDate", lease.occupy or lease.start),
        ("Email", resident.email),
        ("Phone", _text(resident.fields.get("PhoneNumber"))),
        ("PreviousAddress", Entries([])),
    ]


def answer_record(answer: Mapping[str, str | datetime | None]) -> Fields:
    """A POST's answer record (a payment's or a batch close's), in the answer's order."""
    return [(name, value) for name, value in answer.items()]


def _text(value: str | datetime | None) -> str | None:
    return xml_datetime(value) if isinstance(value, datetime) else value


# --- reading: POST bodies ----------------------------------------------------------------


def _element_values(entry: Element) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for child in entry:
        # xsi:nil="true" (JMS with SerializeNull, §2.6) and an empty element both mean null.
        nil = child.get(XSI_NIL, "").lower() == "true"
        text = (child.text or "").strip()
        values[local(child.tag)] = None if nil or not text else text
    return values


def _json_values(data: Any, where: str) -> dict[str, str | None]:
    if not isinstance(data, dict):
        raise DocumentError(f"{where} is not an object")
    values: dict[str, str | None] = {}
    for name, value in data.items():
        if value is None:
            values[name] = None
        elif isinstance(value, bool) or not isinstance(value, str | int | float):
            raise DocumentError(f"{where}.{name} is not a string, a number or null")
        else:
            values[name] = str(value).strip() or None
    return values


def xml_records(root: Element, api: str) -> list[tuple[str, dict[str, str | None]]]:
    expected = root_name(api)
    if local(root.tag) != expected:
        raise DocumentError(f"the root element is <{local(root.tag)}>, expected <{expected}>")
    entries = [child for child in root if local(child.tag) == "entry"]
    return [(f"entry[{n + 1}]", _element_values(entry)) for n, entry in enumerate(entries)]


def json_records(data: Any) -> list[tuple[str, dict[str, str | None]]]:
    if not isinstance(data, dict) or not isinstance(data.get("value"), list):
        raise DocumentError("the body is not a JSON object with a 'value' list")
    return [
        (f"value[{n}]", _json_values(item, f"value[{n}]")) for n, item in enumerate(data["value"])
    ]


def post_records(body: bytes, as_json: bool, api: str) -> list[dict[str, str | None]]:
    """The records of a POST to ``api`` (``PaymentDetailsByPropertyID``, ``CloseBatch``): the
    XML ``entry`` elements under the root ``api.lower()`` (RT) or the JSON ``value`` objects
    (MH; ``odata.metadata`` ignored). ``DocumentError`` is table row 3, "Invalid payload"."""
    if as_json:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise DocumentError("the body is not JSON") from None
        records = json_records(data)
    else:
        try:
            root = parse(body)
        except XmlError as exc:
            raise DocumentError(str(exc)) from None
        records = xml_records(root, api)
    if not records:
        raise DocumentError("no entry" if not as_json else "'value' is empty")
    return [values for _, values in records]


# --- reading: the seeding document ---------------------------------------------------------


class _Names:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def field(self, where: str, name: str) -> str:
        return f"{where}.{name}" if self.as_json else f"{where}/{name}"


def _required(values: Mapping[str, str | None], name: str, where: str, names: _Names) -> str:
    value = values.get(name)
    if not value:
        raise DocumentError(f"{names.field(where, name)} is missing")
    return value


def _yn(value: str | None, name: str, where: str, names: _Names) -> str:
    text = (value or "").upper()
    if text not in ("", "Y", "N"):
        raise DocumentError(f"{names.field(where, name)} {value!r} is not Y or N")
    return text


def _parsed(
    values: Mapping[str, str | None], where: str, names: _Names
) -> dict[str, str | datetime | None]:
    fields: dict[str, str | datetime | None] = {}
    for name, value in values.items():
        if value and name in DATE_FIELDS:
            try:
                fields[name] = parse_vendor_datetime(value)
            except ValueError:
                raise DocumentError(f"{names.field(where, name)} {value!r} is not a date") from None
        elif value and name in MONEY_FIELDS:
            try:
                fields[name] = format_cents(parse_vendor_amount(value))
            except ValueError:
                raise DocumentError(
                    f"{names.field(where, name)} {value!r} is not an amount"
                ) from None
        else:
            fields[name] = value
    return fields


def _date(fields: Mapping[str, str | datetime | None], name: str) -> datetime | None:
    value = fields.get(name)
    return value if isinstance(value, datetime) else None


def _cents(fields: Mapping[str, str | datetime | None], name: str) -> int | None:
    value = fields.get(name)
    return parse_vendor_amount(value) if isinstance(value, str) else None


def load_lease_details(
    records: list[tuple[str, dict[str, str | None]]],
    property_id: str,
    *,
    as_json: bool,
    now: datetime,
    next_charge_id: Callable[[], str],
) -> Property:
    """A ``ResidentLeaseDetailsByPropertyID`` answer -> the property: its buildings, units,
    leases (co-residents share one, and its balance) and residents. A lease with a rent gets
    a monthly ``RNT`` charge, so the rent roll has something to say (INFERENCE)."""
    names = _Names(as_json)
    prop = Property(property_id)
    for where, values in records:
        fields = _parsed(values, where, names)
        given = values.get("PropertyID") or property_id
        if property_key(given) != property_key(property_id):
            raise DocumentError(
                f"{names.field(where, 'PropertyID')} is {given!r}, the path names property "
                f"{property_id!r}"
            )
        prop.property_id = given
        name_id = _required(values, "ResidentNameID", where, names)
        key = tuple(_required(values, n, where, names) for n in ("BuildingID", "UnitID", "LeaseID"))
        status = values.get("ResidentStatus") or ""
        if status not in RESIDENT_STATUSES:
            raise DocumentError(
                f"{names.field(where, 'ResidentStatus')} {status!r} is not one of "
                f"{', '.join(RESIDENT_STATUSES)}"
            )
        is_current = _yn(values.get("IsCurrent"), "IsCurrent", where, names)
        block = _yn(values.get("BlockEPayments"), "BlockEPayments", where, names)
        balance = _cents(fields, "LeaseBalance") or 0
        lease = prop.leases.get((key[0], key[1], key[2]))
        if lease is None:
            lease = _lease(prop, key, fields, block, balance, now)
        elif balance != lease.balance_cents:
            raise DocumentError(
                f"{names.field(where, 'LeaseBalance')} {format_cents(balance)} differs from "
                f"{format_cents(lease.balance_cents)}, the balance of lease {lease.label} on an "
                "earlier entry (co-residents share their lease's balance, §2.4)"
            )
        elif block == "Y":
            lease.block_epayments = "Y"
        if name_id in prop.residents:
            raise DocumentError(f"{where}: ResidentNameID {name_id} appears twice")
        prop.residents[name_id] = Resident(
            name_id=name_id,
            lease=lease,
            status=status,
            is_current=is_current or ("N" if status == "Old" else "Y"),
            email=values.get("Email"),
            fields=fields,
            last_update=_date(fields, "LastUpdateDate"),
        )
        prop.buildings.setdefault(
            key[0], {n: values.get(n) for n in ("BuildingAddress", "City", "State", "Zipcode")}
        )
        prop.units.setdefault((key[0], key[1]), {"Address": values.get("Address")})
    for lease in prop.leases.values():
        if lease.rent_cents:
            lease.charges.append(
                Charge(
                    charge_id=next_charge_id(),
                    lease_key=lease.key,
                    charge_code="RNT",
                    description="Rent",
                    amount_cents=lease.rent_cents,
                    frequency="M",
                    effective=lease.start or lease.occupy,
                    end=None,
                )
            )
    return prop


def _lease(
    prop: Property,
    key: tuple[str, ...],
    fields: Mapping[str, str | datetime | None],
    block: str,
    balance: int,
    now: datetime,
) -> Lease:
    month_to_month = fields.get("LeaseMonthToMonth")
    lease = Lease(
        property_key=prop.key,
        building_id=key[0],
        unit_id=key[1],
        lease_id=key[2],
        start=_date(fields, "LeaseStart"),
        end=_date(fields, "LeaseEnd"),
        occupy=_date(fields, "OccupyDate"),
        move_out=_date(fields, "LeaseMoveOut"),
        rent_cents=_cents(fields, "LeaseMonthlyRentAmount"),
        month_to_month=month_to_month if isinstance(month_to_month, str) else None,
        block_epayments=block,
        ledger=[LedgerEntry(now, "opening", balance)],
    )
    prop.leases[lease.key] = lease
    return lease


def load_charges(data: Any, prop: Property, next_charge_id: Callable[[], str]) -> list[Charge]:
    """``{"charges": [{"BuildingID", "UnitID", "LeaseID", "ChargeCode", "Amount", …}]}``, in the
    rent roll's names (§2.5) plus ``ChargeID`` and ``UnpaidAmount`` (OpenCharges, §2.7)."""
    if not isinstance(data, dict) or not isinstance(data.get("charges"), list):
        raise DocumentError("the body is not a JSON object with a 'charges' list")
    names = _Names(True)
    charges: list[Charge] = []
    seen: set[str] = set()
    for n, item in enumerate(data["charges"]):
        where = f"charges[{n}]"
        values = _json_values(item, where)
        key = tuple(_required(values, k, where, names) for k in ("BuildingID", "UnitID", "LeaseID"))
        if (key[0], key[1], key[2]) not in prop.leases:
            raise DocumentError(f"{where}: no lease {'|'.join(key)} on property {prop.property_id}")
        amounts = {}
        for name in ("Amount", "UnpaidAmount"):
            try:
                amounts[name] = parse_vendor_amount(values.get(name) or "0")
            except ValueError:
                raise DocumentError(
                    f"{where}.{name} {values.get(name)!r} is not an amount"
                ) from None
        dates = {}
        for name in ("EffectiveDate", "EndDate"):
            raw = values.get(name)
            try:
                dates[name] = parse_vendor_datetime(raw) if raw else None
            except ValueError:
                raise DocumentError(f"{where}.{name} {raw!r} is not a date") from None
        charge_id = values.get("ChargeID") or next_charge_id()
        if charge_id in seen:
            raise DocumentError(f"{where}.ChargeID {charge_id} appears twice")
        seen.add(charge_id)
        charges.append(
            Charge(
                charge_id=charge_id,
                lease_key=(key[0], key[1], key[2]),
                charge_code=_required(values, "ChargeCode", where, names),
                description=values.get("Description") or "",
                amount_cents=amounts["Amount"],
                frequency=values.get("Frequency") or "",
                effective=dates["EffectiveDate"],
                end=dates["EndDate"],
                is_concession=_yn(values.get("IsConcession"), "IsConcession", where, names) or "N",
                unpaid_cents=amounts["UnpaidAmount"],
            )
        )
    return charges
