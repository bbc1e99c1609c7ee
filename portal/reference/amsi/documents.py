"""The vendor's documents: GetPropertyUnits and GetPropertyResidents results (connectors.md §1.3,
§1.4), read to seed the server and written back by the Leasing calls.

Seeding takes the document **as the vendor sends it** (the ``<PropertyUnits>`` or
``<PropertyResidents>`` string of a result), or the same content as JSON; both go through one
loader, so a rule (required attributes, amounts, the ``EndBalance`` invariant) has one home.
Attributes are kept as they came, in their order and case (``BldgId`` on units, ``BldgID`` on
leases, §1.3), and written back the same way, with the balance fields (``EndBalance``,
``OpenItem@BalDue``) and the status and block flags taken from the live state.

A malformed document is refused whole with a ``DocumentError`` naming the element
(``Lease[3]@EndBalance``, or ``leases[2].EndBalance`` for JSON).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from xml.etree.ElementTree import Element, SubElement

from portal.reference.amsi.state import (
    LEASE_STATUSES,
    Lease,
    OpenItem,
    Unit,
    lease_status_text,
    parse_mdy,
    parse_vendor_amount,
    vendor_amount,
)

UNITS_ROOT = "PropertyUnits"
RESIDENTS_ROOT = "PropertyResidents"
#: Lease attributes that carry money (§1.4); each must parse when present.
LEASE_MONEY = ("EndBalance", "rentamount", "SecurityDepositOnHand", "QuotedRent")
#: JSON member -> child element of a lease.
LEASE_CHILDREN = {
    "occupants": "Occupant",
    "open_items": "OpenItem",
    "recurring_charges": "RecurringCharge",
}


class DocumentError(ValueError):
    """A seeding document the server cannot load; the message names the element."""


class _Names:
    """How an error names an element: ``Lease[3]`` in XML, ``leases[2]`` in JSON."""

    def __init__(self, json: bool) -> None:
        self.json = json

    def item(self, parent: str, tag: str, index: int) -> str:
        if not self.json:
            return f"{parent}/{tag}[{index + 1}]" if parent else f"{tag}[{index + 1}]"
        member = {"Unit": "units", "Lease": "leases", "Address": "address"}.get(tag)
        member = member or next(k for k, v in LEASE_CHILDREN.items() if v == tag)
        where = member if tag == "Address" else f"{member}[{index}]"
        return f"{parent}.{where}" if parent else where

    def attr(self, element: str, name: str) -> str:
        return f"{element}.{name}" if self.json else f"{element}@{name}"


def _required(attrs: Mapping[str, str], name: str, where: str, names: _Names) -> str:
    value = attrs.get(name, "").strip()
    if not value:
        raise DocumentError(f"{names.attr(where, name)} is missing")
    return value


def _amount(attrs: Mapping[str, str], name: str, where: str, names: _Names) -> int | None:
    if name not in attrs:
        return None
    try:
        return parse_vendor_amount(attrs[name])
    except ValueError:
        raise DocumentError(f"{names.attr(where, name)} {attrs[name]!r} is not an amount") from None


def _check_property(attrs: Mapping[str, str], where: str, property_id: str, names: _Names) -> None:
    given = attrs.get("PropertyId", property_id)
    if given != property_id:
        raise DocumentError(
            f"{names.attr(where, 'PropertyId')} is {given!r}, the path names property "
            f"{property_id!r}"
        )


def _root(root: Element, expected: str) -> None:
    if root.tag != expected:
        raise DocumentError(f"the root element is <{root.tag}>, expected <{expected}>")


def load_units(
    root: Element, property_id: str, *, json: bool = False
) -> dict[tuple[str, str], Unit]:
    """A ``<PropertyUnits>`` document -> the property's units, keyed by (BldgId, UnitId)."""
    names = _Names(json)
    _root(root, UNITS_ROOT)
    units: dict[tuple[str, str], Unit] = {}
    for index, element in enumerate(child for child in root if child.tag == "Unit"):
        where = names.item("", "Unit", index)
        attrs = dict(element.attrib)
        _check_property(attrs, where, property_id, names)
        attrs.setdefault("PropertyId", property_id)
        key = (_required(attrs, "BldgId", where, names), _required(attrs, "UnitId", where, names))
        if key in units:
            raise DocumentError(f"{where}: unit {key[0]}|{key[1]} appears twice")
        units[key] = Unit(property_id, key[0], key[1], attrs)
    return units


def load_residents(
    root: Element, property_id: str, next_item_id: Callable[[], int], *, json: bool = False
) -> dict[tuple[str, str, str], Lease]:
    """A ``<PropertyResidents>`` document -> the property's leases, keyed by (BldgID, UnitID,
    ResiID): ``ResiID`` is unique only within a unit (§0.6)."""
    names = _Names(json)
    _root(root, RESIDENTS_ROOT)
    leases: dict[tuple[str, str, str], Lease] = {}
    for index, element in enumerate(child for child in root if child.tag == "Lease"):
        where = names.item("", "Lease", index)
        lease = _lease(element, where, property_id, next_item_id, names)
        if lease.key in leases:
            raise DocumentError(f"{where}: lease {'|'.join(lease.key)} appears twice")
        leases[lease.key] = lease
    return leases


def _lease(
    element: Element, where: str, property_id: str, next_item_id: Callable[[], int], names: _Names
) -> Lease:
    attrs = dict(element.attrib)
    _check_property(attrs, where, property_id, names)
    attrs.setdefault("PropertyId", property_id)
    bldg_id = _required(attrs, "BldgID", where, names)
    unit_id = _required(attrs, "UnitID", where, names)
    resi_id = _required(attrs, "ResiID", where, names)
    money = {name: _amount(attrs, name, where, names) for name in LEASE_MONEY}
    status = attrs.get("occustatuscode", "C")
    if status not in LEASE_STATUSES:
        raise DocumentError(
            f"{names.attr(where, 'occustatuscode')} {status!r} is not one of "
            f"{', '.join(LEASE_STATUSES)}"
        )
    flags = {}
    for flag in ("BlockPaymentAccess", "BlockAllAccess"):
        value = attrs.get(flag, "N")
        if value.upper() not in ("Y", "N"):
            raise DocumentError(f"{names.attr(where, flag)} {value!r} is not Y or N")
        flags[flag] = value.upper() == "Y"
    occupants: list[dict[str, str]] = []
    items: list[OpenItem] = []
    charges: list[dict[str, str]] = []
    address: tuple[dict[str, str], list[dict[str, str]]] | None = None
    counts = {"Occupant": 0, "OpenItem": 0, "RecurringCharge": 0}
    for child in element:
        if child.tag not in counts and child.tag != "Address":
            continue
        index = counts.get(child.tag, 0)
        counts[child.tag] = index + 1
        child_where = names.item(where, child.tag, index)
        child_attrs = dict(child.attrib)
        if child.tag == "Occupant":
            occupants.append(child_attrs)
        elif child.tag == "OpenItem":
            items.append(_open_item(child_attrs, child_where, next_item_id, names))
        elif child.tag == "RecurringCharge":
            _amount(child_attrs, "Amount", child_where, names)
            charges.append(child_attrs)
        else:
            address = (child_attrs, [dict(c.attrib) for c in child if c.tag == "Contact"])
    end_balance = money["EndBalance"]
    if end_balance is None:
        end_balance = sum(item.bal_due_cents for item in items)
    if items and sum(item.bal_due_cents for item in items) != end_balance:
        # The invariant every lease of the fixture keeps (§0.7): refuse a document that breaks it.
        raise DocumentError(
            f"{names.attr(where, 'EndBalance')} {vendor_amount(end_balance)} is not the sum of "
            f"its open items' BalDue ({vendor_amount(sum(i.bal_due_cents for i in items))})"
        )
    if not items and end_balance:
        # A balance given without items (handy in JSON): one item carries it, so the invariant
        # holds from the start.
        items.append(
            OpenItem(
                item_id=next_item_id(),
                attrs={
                    "PropertyId": property_id,
                    "BldgID": bldg_id,
                    "UnitID": unit_id,
                    "ResiID": resi_id,
                    "IncCode": "BALFWD",
                    "OriginalAmt": vendor_amount(end_balance),
                    "BalDue": vendor_amount(end_balance),
                    "IncCodeDesc": "Balance forward",
                },
                bal_due_cents=end_balance,
                due=None,
            )
        )
    return Lease(
        property_id=property_id,
        bldg_id=bldg_id,
        unit_id=unit_id,
        resi_id=resi_id,
        attrs=attrs,
        status=status,
        block_payment_access=flags["BlockPaymentAccess"],
        block_all_access=flags["BlockAllAccess"],
        occupants=occupants,
        open_items=items,
        address=address,
        recurring_charges=charges,
    )


def _open_item(
    attrs: dict[str, str], where: str, next_item_id: Callable[[], int], names: _Names
) -> OpenItem:
    if "BalDue" not in attrs:
        raise DocumentError(f"{names.attr(where, 'BalDue')} is missing")
    bal_due = _amount(attrs, "BalDue", where, names)
    _amount(attrs, "OriginalAmt", where, names)
    due = None
    if attrs.get("ItemDueDate"):
        try:
            due = parse_mdy(attrs["ItemDueDate"])
        except ValueError:
            raise DocumentError(
                f"{names.attr(where, 'ItemDueDate')} {attrs['ItemDueDate']!r} is not m/d/Y"
            ) from None
    return OpenItem(item_id=next_item_id(), attrs=attrs, bal_due_cents=bal_due or 0, due=due)


# --- JSON, turned into the same elements --------------------------------------------------


def _scalar_attrs(data: Any, where: str, skip: set[str]) -> dict[str, str]:
    if not isinstance(data, dict):
        raise DocumentError(f"{where} is not an object")
    attrs: dict[str, str] = {}
    for name, value in data.items():
        if name in skip:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise DocumentError(f"{where}.{name} is not a string or a number")
        attrs[name] = str(value)
    return attrs


def _list(data: Mapping[str, Any], member: str, where: str) -> list[Any]:
    value = data.get(member, [])
    if not isinstance(value, list):
        raise DocumentError(f"{where}{member} is not a list")
    return value


def units_from_json(data: Any) -> Element:
    """``{"units": [{"BldgId": "01", "UnitId": "101", …}]}`` -> ``<PropertyUnits>``."""
    if not isinstance(data, dict):
        raise DocumentError("the body is not a JSON object with a 'units' list")
    root = Element(UNITS_ROOT)
    for index, unit in enumerate(_list(data, "units", "")):
        root.append(Element("Unit", _scalar_attrs(unit, f"units[{index}]", set())))
    return root


def residents_from_json(data: Any) -> Element:
    """``{"leases": [{"BldgID": …, "occupants": […], "open_items": […], "address": {…,
    "contacts": […]}, "recurring_charges": […]}]}`` -> ``<PropertyResidents>``."""
    if not isinstance(data, dict):
        raise DocumentError("the body is not a JSON object with a 'leases' list")
    root = Element(RESIDENTS_ROOT)
    skip = {*LEASE_CHILDREN, "address"}
    for index, lease in enumerate(_list(data, "leases", "")):
        where = f"leases[{index}]"
        element = SubElement(root, "Lease", _scalar_attrs(lease, where, skip))
        for member, tag in LEASE_CHILDREN.items():
            for n, child in enumerate(_list(lease, member, f"{where}.")):
                element.append(Element(tag, _scalar_attrs(child, f"{where}.{member}[{n}]", set())))
        if lease.get("address") is not None:
            address = lease["address"]
            attrs = _scalar_attrs(address, f"{where}.address", {"contacts"})
            address_element = SubElement(element, "Address", attrs)
            for n, contact in enumerate(_list(address, "contacts", f"{where}.address.")):
                address_element.append(
                    Element(
                        "Contact", _scalar_attrs(contact, f"{where}.address.contacts[{n}]", set())
                    )
                )
    return root


# --- written back by the Leasing calls -----------------------------------------------------


def unit_element(unit: Unit) -> Element:
    return Element("Unit", dict(unit.attrs))


def lease_element(lease: Lease, *, address: bool, contacts: bool, recurring: bool) -> Element:
    """The lease as GetPropertyResidents returns it: children in the fixture's order
    (Occupant, OpenItem, Address, RecurringCharge; §1.4), balances from the live state."""
    attrs = dict(lease.attrs)
    attrs["EndBalance"] = vendor_amount(lease.end_balance_cents)
    attrs["occustatuscode"] = lease.status
    attrs["occustatuscodedescription"] = lease_status_text(lease.status)
    attrs["BlockPaymentAccess"] = "Y" if lease.block_payment_access else "N"
    attrs["BlockAllAccess"] = "Y" if lease.block_all_access else "N"
    element = Element("Lease", attrs)
    for occupant in lease.occupants:
        SubElement(element, "Occupant", dict(occupant))
    for item in lease.open_items:
        SubElement(element, "OpenItem", {**item.attrs, "BalDue": vendor_amount(item.bal_due_cents)})
    if address and lease.address is not None:
        address_attrs, contact_list = lease.address
        address_element = SubElement(element, "Address", dict(address_attrs))
        if contacts:
            for contact in contact_list:
                SubElement(address_element, "Contact", dict(contact))
    if recurring:
        for charge in lease.recurring_charges:
            SubElement(element, "RecurringCharge", dict(charge))
    return element
