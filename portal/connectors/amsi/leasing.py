"""Reading eSite's Leasing answers (connectors.md §1.3, §1.4): the ``GetPropertyUnits`` and
``GetPropertyResidents`` result documents as plain values, and the requests that ask for them.

Attribute names are read exactly as the vendor spells them: units carry ``PropertyId``,
``BldgId``, ``UnitId``; leases and their children ``PropertyId``, ``BldgID``, ``UnitID``,
``ResiID`` (§1.3 "Note the spelling"). Amounts are bare numbers, possibly negative or decimal
(``1605``, ``-1108``, ``1104.75``), read exactly into cents (``money.parse_cents``: more than two
places is refused, never rounded). Dates come in two forms by attribute (§1.4): ``m/d/Y`` for
``leasebegindate``, ``leaseenddate``, ``ItemDueDate``; ``Y-m-dTH:M:S`` for ``MoveInDate``,
``ActualMoveOutDate`` and the recurring charges' dates.

A value that does not read is not a failed call: the lease carries a ``problem`` (the import
errs that row and goes on, §1.4 "Join with units"). ``InternetTrafficResponse/Error`` is how
eSite answers "nothing here" (§1.4: RT reads it as an empty list); whether that error means
"no data" or a real refusal is ``no_data``'s call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from xml.etree.ElementTree import Element

from portal.core.money import MoneyError, parse_cents

UNITS_ROOT = "PropertyUnits"
RESIDENTS_ROOT = "PropertyResidents"
ERROR_ROOT = "InternetTrafficResponse"
#: The lease statuses RT pulled: current and notice (§1.4; future, applicant and past never).
LEASE_STATUSES = ("C", "N")
#: The reference eSite's "No data" code (docs/reference-amsi.md; AMSI's own codes are a GAP,
#: connectors.md §4.1), also recognised by its text.
NO_DATA_CODE = 40
#: A blank phone as eSite writes it (§1.4).
_BLANK_PHONE = re.compile(r"^[\s()\-]*$")
_MDY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}:\d{2}(?:\.\d+)?)?$")


def units_request(property_id: str) -> str:
    """§1.3: every unit, whatever its status (RT's ``includeallstatuses`` = 1)."""
    return (
        f"<EDEX><propertyid>{_text(property_id)}</propertyid>"
        "<includeallstatuses>1</includeallstatuses></EDEX>"
    )


def residents_request(property_id: str, status: str) -> str:
    """§1.4, with one change from RT's import: ``includerecurringcharges`` = 1. The rent is
    ``rentamount``, or when that is 0 (always, in the vendor's fixture) the first monthly
    ``RENT`` recurring charge (§1.9); RT's import asked for no charges and its rent fell back on
    charges only because its test double always served them. Asking for them costs a few
    elements per lease and gives the lease its real rent."""
    return (
        f"<EDEX><propertyid>{_text(property_id)}</propertyid><leasestatus>{status}</leasestatus>"
        "<includeprimaryaddress>1</includeprimaryaddress>"
        "<includecontactdetails>1</includecontactdetails>"
        "<includerecurringcharges>1</includerecurringcharges></EDEX>"
    )


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Unit:
    """One ``<Unit>`` (§1.3): RT read only the key and the address."""

    property_id: str
    bldg_id: str
    unit_id: str
    address1: str
    city: str
    state: str
    zip: str
    country: str

    @property
    def key(self) -> str:
        return unit_key(self.property_id, self.bldg_id, self.unit_id)


def unit_key(property_id: str, bldg_id: str, unit_id: str) -> str:
    """The unit's AMSI key ``PropertyId|BldgID|UnitID`` (§1.8, RT's unit mapping): the
    portal's ``Unit.external_id`` and the scope of an imported lease's ResiID (§0.6). The
    payment poster splits it on ``|``, so this format is a contract."""
    return f"{property_id}|{bldg_id}|{unit_id}"


@dataclass(frozen=True)
class Occupant:
    """One ``<Occupant>`` (§1.4, §1.9): each becomes a portal resident."""

    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    responsible_flag: str

    @property
    def name(self) -> str:
        """``OccuFirstName`` + ``OccuLastName`` (§1.9; the middle name is not used)."""
        return " ".join(f"{self.first_name} {self.last_name}".split())

    @property
    def responsible(self) -> bool:
        return self.responsible_flag.casefold() == "responsible"


@dataclass(frozen=True)
class RecurringCharge:
    """One ``<RecurringCharge>`` (§1.4): what RT modelled of it."""

    inc_code: str
    freq_code: str
    amount_cents: int


@dataclass(frozen=True)
class Lease:
    """One ``<Lease>`` (§1.4). ``problem`` says why the row cannot be imported (a value that
    does not read), or is None."""

    property_id: str
    bldg_id: str
    unit_id: str
    resi_id: str
    status: str
    end_balance_cents: int
    rent_amount_cents: int
    block_payment_access: bool
    lease_begin: date | None
    lease_end: date | None
    move_in: date | None
    actual_move_out: date | None
    occupants: tuple[Occupant, ...]
    recurring_charges: tuple[RecurringCharge, ...]
    problem: str | None = None

    @property
    def unit_key(self) -> str:
        return unit_key(self.property_id, self.bldg_id, self.unit_id)


@dataclass
class _Reader:
    """Reads one element's attributes, collecting the problems met."""

    element: Element
    where: str
    problems: list[str] = field(default_factory=list)

    def text(self, name: str) -> str:
        return (self.element.get(name) or "").strip()

    def cents(self, name: str, *, required: bool = False) -> int:
        raw = self.text(name)
        if not raw:
            if required:
                self.problems.append(f"{self.where}@{name} is missing")
            return 0
        try:
            return parse_cents(raw)
        except MoneyError:
            self.problems.append(f"{self.where}@{name} {raw!r} is not an amount")
            return 0

    def day(self, name: str, *, mdy: bool) -> date | None:
        raw = self.text(name)
        if not raw:
            return None
        parsed = _mdy(raw) if mdy else _iso(raw)
        if parsed is None:
            form = "m/d/Y" if mdy else "Y-m-dTH:M:S"
            self.problems.append(f"{self.where}@{name} {raw!r} is not a {form} date")
        return parsed


def _mdy(raw: str) -> date | None:
    match = _MDY.match(raw)
    return _date(match.group(3), match.group(1), match.group(2)) if match else None


def _iso(raw: str) -> date | None:
    match = _ISO.match(raw)
    return _date(match.group(1), match.group(2), match.group(3)) if match else None


def _date(year: str, month: str, day: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def local_name(tag: str) -> str:
    """A tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def _children(element: Element, tag: str) -> list[Element]:
    return [child for child in element if local_name(child.tag) == tag]


def is_error(root: Element) -> bool:
    """Whether the answer is eSite's ``InternetTrafficResponse`` (an error or "no data")."""
    return local_name(root.tag) == ERROR_ROOT


def no_data(code: int, description: str) -> bool:
    """Whether a Leasing error means "nothing here" (an empty list, §1.4) rather than a
    refusal: the reference eSite's code 40, or a description saying so."""
    return code == NO_DATA_CODE or description.casefold().startswith("no data")


def parse_units(root: Element) -> list[Unit]:
    """A ``<PropertyUnits>`` document; units without their key are left out (nothing can be
    joined to them). An ``InternetTrafficResponse`` is an empty list (the caller has already
    told "no data" from a refusal)."""
    if is_error(root):
        return []
    if local_name(root.tag) != UNITS_ROOT:
        raise ValueError(f"the answer is <{local_name(root.tag)}>, expected <{UNITS_ROOT}>")
    units = []
    for element in _children(root, "Unit"):
        get = _Reader(element, "Unit").text
        if not (get("PropertyId") and get("BldgId") and get("UnitId")):
            continue
        units.append(
            Unit(
                property_id=get("PropertyId"),
                bldg_id=get("BldgId"),
                unit_id=get("UnitId"),
                address1=get("address1"),
                city=get("city"),
                state=get("state"),
                zip=get("zip"),
                country=get("country"),
            )
        )
    return units


def parse_residents(root: Element) -> list[Lease]:
    """A ``<PropertyResidents>`` document, or an empty list for an ``InternetTrafficResponse``
    (§1.4)."""
    if is_error(root):
        return []
    if local_name(root.tag) != RESIDENTS_ROOT:
        raise ValueError(f"the answer is <{local_name(root.tag)}>, expected <{RESIDENTS_ROOT}>")
    return [_lease(element, n) for n, element in enumerate(_children(root, "Lease"), 1)]


def _lease(element: Element, n: int) -> Lease:
    read = _Reader(element, f"Lease[{n}]")
    occupants = tuple(_occupant(child, read.problems) for child in _children(element, "Occupant"))
    charges = []
    for m, child in enumerate(_children(element, "RecurringCharge"), 1):
        charge = _Reader(child, f"{read.where}/RecurringCharge[{m}]", read.problems)
        charges.append(
            RecurringCharge(
                inc_code=charge.text("IncCode").upper(),
                freq_code=charge.text("FreqCode").upper(),
                amount_cents=charge.cents("Amount"),
            )
        )
    lease = Lease(
        property_id=read.text("PropertyId"),
        bldg_id=read.text("BldgID"),
        unit_id=read.text("UnitID"),
        resi_id=read.text("ResiID"),
        status=read.text("occustatuscode").upper(),
        # The balance is EndBalance alone (§0.7): without it the row cannot say one.
        end_balance_cents=read.cents("EndBalance", required=True),
        rent_amount_cents=read.cents("rentamount"),
        # ``y``/``Y`` blocks online payment (§1.9: RT's ``paymentAccepted``; seed 001).
        block_payment_access=read.text("BlockPaymentAccess").upper() == "Y",
        lease_begin=read.day("leasebegindate", mdy=True),
        lease_end=read.day("leaseenddate", mdy=True),
        move_in=read.day("MoveInDate", mdy=False),
        actual_move_out=read.day("ActualMoveOutDate", mdy=False),
        occupants=occupants,
        recurring_charges=tuple(charges),
    )
    if read.problems:
        return replace(lease, problem="; ".join(read.problems))
    return lease


def _occupant(element: Element, problems: list[str]) -> Occupant:
    read = _Reader(element, "Occupant", problems)
    phone = read.text("Phone1No")
    return Occupant(
        first_name=read.text("OccuFirstName"),
        last_name=read.text("OccuLastName"),
        email=read.text("Email") or None,
        phone=None if _BLANK_PHONE.match(phone) else phone,
        responsible_flag=read.text("ResponsibleFlag"),
    )
