"""The MRI import, the rows: what the entries of ``ResidentLeaseDetailsByPropertyID`` become in
the portal (the vendor-neutral ``imports.rows.Wanted``), or why a lease cannot be imported
(connectors.md §2.4, §2.9; seed 002 "Future Residents", "Blocking Online Payments"). Pure
functions of the records and the workspace's date.

**Who is imported.** Seed 002: "RentTrack will sync with all current residents and future
residents who have signed leases where the resident has not moved in yet. RentTrack does not
include prospects or applicants."

- An entry with ``IsCurrent`` = ``Y`` in any case, as RT's import took them (§2.9, VERIFIED
  ``StorageMRI``): current residents, co-residents and other residents, each a resident of the
  lease; and future residents, ``ResidentStatus`` ``New`` — a signed lease, not moved in
  (the reference MRI lists them with ``IsCurrent`` Y and a start that may be after today; one
  that says ``N`` is taken too, since seed 002 asks for them).
- Never an ``Old`` entry (``IsCurrent`` N: a past resident, §2.4), whatever its lease.
- Prospects and applicants never appear in this API: its entries are residents of leases
  (``ResidentStatus`` Current, Co-Resident, Other Resident, Old, §2.4, and New); prospects and
  applicants live in ``MRI_S-PMRM_Residents`` (``ProspectApplicantResident`` P/A, §2.7), which
  the import never calls. An entry with any other status is left out all the same.
- A lease whose ``LeaseMoveOut`` has passed is not imported: that row errs ("moved out"), as an
  AMSI lease with a past ``ActualMoveOutDate`` does (§1.9).

**Leases.** Entries sharing (PropertyID, BuildingID, UnitID, LeaseID) are one lease:
co-residents share ``LeaseID`` and ``LeaseBalance`` (§2.4; ``LeaseID`` is a per-unit sequence,
§0.6). Its primary is the entry whose ``ResidentNameID`` is the ``Namegroup`` (JSON only), else
the ``ResidentStatus`` ``Current`` one, else the first (§2.9, INFERENCE, §4.11).

- The unit's key ``PropertyID|BuildingID|UnitID`` is the portal unit's ``external_id`` and the
  lease's ``external_scope``; the lease's ``external_resident_id`` is the primary's
  ``ResidentNameID`` (the payment POST names the resident by it, §2.6). An existing lease is
  found by the unit and any ``ResidentNameID`` of the lease (seed 002 "match by ResidentNameID +
  unit"), so a co-resident become primary keeps the lease.
- balance = ``LeaseBalance``; rent = ``LeaseMonthlyRentAmount``; start = ``LeaseStart``, else
  ``OccupyDate`` (§2.9); move-in = ``OccupyDate``; end = ``LeaseEnd``, none (month-to-month)
  when ``LeaseMonthToMonth`` is Y or ``LeaseEnd`` has passed (§2.9: RT forced month-to-month
  then); blocked when any entry of the lease says ``BlockEPayments`` y/Y (a lease field, §0.2;
  seed 002 "Blocking Online Payments"), else allowed.
- People: ``FirstName LastName``, ``Email`` (one the portal does not take errs the lease),
  ``PhoneNumber`` when MRI's JSON carries it (§2.4 MH extras).
- Dates are ``YYYY-MM-DDTHH:MM:SS.0000000`` in XML and without the fraction in JSON (§2.4);
  amounts have two decimals, possibly negative. A value that does not read errs its lease.
- A new property gets the street its buildings share (``BuildingAddress``, else ``Address``),
  ``City``, ``State``, ``Zipcode``; a new unit is named with its ``UnitID``, with the building
  (``01-101``) when two buildings of the property share that unit ID.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from portal.connectors.imports.rows import (
    ID_MAX,
    NAME_MAX,
    PHONE_MAX,
    Address,
    Person,
    Plan,
    Wanted,
    error_entry,
    is_email,
    shared_address,
)
from portal.core.money import MoneyError, parse_cents
from portal.residents.models import PaymentsSetting
from portal.residents.service import normalize_email

#: ``ResidentStatus`` values of the people of a lease (§2.4, and New: §2.7, the reference MRI).
#: Empty: RT never read the element (§2.4), so ``IsCurrent`` decides alone.
_RESIDENT_STATUSES = frozenset({"", "current", "co-resident", "other resident", "new"})
_NEW = "new"
_CURRENT = "current"
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)?$")


@dataclass(frozen=True)
class Entry:
    """One entry (§2.4) as plain values. ``problem`` says why it does not read, or is None."""

    resident_name_id: str
    property_id: str
    building_id: str
    unit_id: str
    lease_id: str
    status: str
    is_current: bool
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    namegroup: str
    #: ``BuildingAddress``, else ``Address``.
    street: str
    city: str
    state: str
    zipcode: str
    lease_start: date | None
    occupy_date: date | None
    lease_end: date | None
    move_out: date | None
    rent_cents: int
    balance_cents: int
    month_to_month: bool
    blocked: bool
    problem: str | None = None

    @property
    def name(self) -> str:
        return " ".join(f"{self.first_name} {self.last_name}".split())

    @property
    def imported(self) -> bool:
        """A current or future resident (the module docstring)."""
        status = self.status.casefold()
        if status not in _RESIDENT_STATUSES:
            return False
        return self.is_current or status == _NEW


class _Reader:
    """Reads one record's fields, collecting the problems met."""

    def __init__(self, record: dict[str, Any], where: str) -> None:
        self.record = record
        self.where = where
        self.problems: list[str] = []

    def text(self, name: str) -> str:
        value = self.record.get(name)
        if isinstance(value, str):
            return value.strip()
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return ""

    def cents(self, name: str, *, required: bool = False) -> int:
        value = self.record.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.problems.append(f"{self.where}: {name} is missing")
            return 0
        try:
            return parse_cents(value.strip() if isinstance(value, str) else value)
        except MoneyError:
            self.problems.append(f"{self.where}: {name} {value!r} is not an amount")
            return 0

    def day(self, name: str) -> date | None:
        raw = self.text(name)
        if not raw:
            return None
        match = _DATE.match(raw)
        try:
            if match is None:
                raise ValueError(raw)
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            self.problems.append(f"{self.where}: {name} {raw!r} is not a date")
            return None

    def flag(self, name: str) -> bool:
        return self.text(name).upper() == "Y"


def parse(record: dict[str, Any]) -> Entry:
    """One record of ``client.get_all`` (MRI's field names to text, or JSON values)."""
    resident_name_id = _Reader(record, "").text("ResidentNameID")
    read = _Reader(record, f"ResidentNameID {resident_name_id or '(empty)'}")
    phone = read.text("PhoneNumber") or read.text("CellPhoneNumber")
    entry = Entry(
        resident_name_id=resident_name_id,
        property_id=read.text("PropertyID"),
        building_id=read.text("BuildingID"),
        unit_id=read.text("UnitID"),
        lease_id=read.text("LeaseID"),
        status=read.text("ResidentStatus"),
        is_current=read.flag("IsCurrent"),
        first_name=read.text("FirstName"),
        last_name=read.text("LastName"),
        email=read.text("Email") or None,
        phone=phone[:PHONE_MAX] or None,
        namegroup=read.text("Namegroup"),
        street=read.text("BuildingAddress") or read.text("Address"),
        city=read.text("City"),
        state=read.text("State"),
        zipcode=read.text("Zipcode"),
        lease_start=read.day("LeaseStart"),
        occupy_date=read.day("OccupyDate"),
        lease_end=read.day("LeaseEnd"),
        move_out=read.day("LeaseMoveOut"),
        rent_cents=read.cents("LeaseMonthlyRentAmount"),
        # The balance is the lease's whole point here (seed 002): without it the row says none.
        balance_cents=read.cents("LeaseBalance", required=True),
        month_to_month=read.flag("LeaseMonthToMonth"),
        # ``y``/``Y`` blocks online payment (§0.2: RT bound BlockEPayments, not PayAllowed).
        blocked=read.flag("BlockEPayments"),
    )
    if read.problems:
        return replace(entry, problem="; ".join(read.problems))
    return entry


def plan(property_id: str, records: list[dict[str, Any]], today: date) -> Plan:
    """Sort a property's entries into the leases to apply and the erred ones."""
    entries: list[Entry] = []
    seen: set[str] = set()
    for record in records:
        entry = parse(record)
        # An entry read twice (on two pages) is taken once, the first time.
        if entry.resident_name_id and entry.resident_name_id in seen:
            continue
        seen.add(entry.resident_name_id)
        entries.append(entry)
    units = sorted({(e.building_id, e.unit_id) for e in entries if e.building_id and e.unit_id})
    out = Plan(
        property_id=property_id,
        address=shared_address([Address(e.street, e.city, e.state, e.zipcode) for e in entries]),
        label=f"MRI property {property_id}",
        units_read=len(units),
    )
    names = _unit_names(units)
    leases: dict[tuple[str, str, str, str], list[Entry]] = {}
    for e in entries:
        owner = (e.property_id or property_id).casefold()
        leases.setdefault((owner, e.building_id, e.unit_id, e.lease_id), []).append(e)
    for group in leases.values():
        people = [e for e in group if e.imported]
        if not people:
            continue  # an Old lease: never imported, not a row of the review
        out.leases_read += 1
        primary = primary_of(people)
        first = group[0]
        reason = refusal(property_id, group, people, primary, today)
        if reason is not None:
            out.errors.append(
                error_entry(
                    primary.property_id or property_id,
                    first.building_id or None,
                    first.unit_id or None,
                    primary.resident_name_id or None,
                    reason,
                )
            )
            continue
        ordered = [primary, *(e for e in people if e is not primary)]
        out.wanted.append(
            Wanted(
                key=unit_key(property_id, first.building_id, first.unit_id),
                unit_name=names[(first.building_id, first.unit_id)],
                resident_id=primary.resident_name_id,
                property_id=primary.property_id or property_id,
                bldg_id=first.building_id,
                unit_id=first.unit_id,
                balance_cents=primary.balance_cents,
                rent_cents=primary.rent_cents,
                start_date=primary.lease_start or primary.occupy_date,
                end_date=end_date(primary, today),
                move_in=primary.occupy_date,
                accounting_payments=(
                    PaymentsSetting.BLOCKED
                    if any(e.blocked for e in group)
                    else PaymentsSetting.ALLOWED
                ),
                people=tuple(_person(e) for e in ordered),
                also_known_as=tuple(e.resident_name_id for e in group if e.resident_name_id),
            )
        )
    return out


def unit_key(property_id: str, building_id: str, unit_id: str) -> str:
    """The unit's MRI key ``PropertyID|BuildingID|UnitID`` (§2.9, RT's ``unit_id``): the portal
    unit's ``external_id``, split on ``|`` by the payment poster."""
    return f"{property_id}|{building_id}|{unit_id}"


def primary_of(people: list[Entry]) -> Entry:
    """The entry whose ResidentNameID is its ``Namegroup`` (JSON), else the ``Current`` one,
    else the first (§2.9)."""
    for e in people:
        if e.namegroup and e.namegroup == e.resident_name_id:
            return e
    return next((e for e in people if e.status.casefold() == _CURRENT), people[0])


def refusal(
    property_id: str, group: list[Entry], people: list[Entry], primary: Entry, today: date
) -> str | None:
    """Why this lease cannot be imported, or None."""
    first = group[0]
    where = (
        f"PropertyID {primary.property_id or property_id}, BuildingID "
        f"{first.building_id or '(empty)'}, UnitID {first.unit_id or '(empty)'}, LeaseID "
        f"{first.lease_id or '(empty)'}"
    )
    for e in people:
        if e.problem is not None:
            return f"{where}: {e.problem}"
    if primary.property_id and primary.property_id.casefold() != property_id.casefold():
        # Property IDs are case-insensitive on MRI (§4.9).
        return f"{where}: the entry names another property than the {property_id} asked for"
    if not (first.building_id and first.unit_id and first.lease_id):
        return (
            f"{where}: the entry has no BuildingID, UnitID or LeaseID (the portal keys MRI "
            "leases by them, §2.9)"
        )
    if any(not e.resident_name_id for e in people):
        return f"{where}: an entry has no ResidentNameID (the payment POST names it, §2.6)"
    key = unit_key(property_id, first.building_id, first.unit_id)
    if len(key) > ID_MAX or any(len(e.resident_name_id) > ID_MAX for e in people):
        return f"{where}: the IDs are longer than the portal keeps ({ID_MAX} characters)"
    for e in people:
        who = f"ResidentNameID {e.resident_name_id}"
        if not e.name:
            return f"{where}: {who} has neither FirstName nor LastName"
        if len(e.name) > NAME_MAX:
            return f"{where}: {who}'s name is over {NAME_MAX} characters"
        if e.email and not is_email(e.email):
            return f"{where}: {who}'s Email {e.email!r} is not an e-mail address"
    if primary.move_out is not None and primary.move_out < today:
        return f"{where}: moved out on {primary.move_out.isoformat()} (LeaseMoveOut)"
    return None


def end_date(entry: Entry, today: date) -> date | None:
    """§2.9: month-to-month (the portal's end date None) when ``LeaseMonthToMonth`` is Y or
    ``LeaseEnd`` has passed; else ``LeaseEnd``."""
    if entry.month_to_month or (entry.lease_end is not None and entry.lease_end < today):
        return None
    return entry.lease_end


def _person(entry: Entry) -> Person:
    return Person(name=entry.name, email=normalize_email(entry.email), phone=entry.phone)


def _unit_names(units: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    shared = Counter(unit_id for _building, unit_id in units)
    return {
        (building, unit_id): unit_id if shared[unit_id] == 1 else f"{building}-{unit_id}"
        for building, unit_id in units
    }
