"""The import's rows, whatever the vendor: what one lease of the accounting system should be in
the portal (``Wanted``), one property's answer sorted into wanted leases and erred rows
(``Plan``), and the small rules both vendors share (an e-mail the portal takes, how names are
compared, the address a new property gets). Pure values: AMSI's ``import_rows`` and MRI's
``import_rows`` produce them from their wire formats, ``writes`` applies them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import TypeAdapter, ValidationError

from portal.residents.models import PaymentsSetting
from portal.residents.schemas import Email

#: Column sizes an imported value must fit (``Lease.external_resident_id``,
#: ``Lease.external_scope``, ``Unit.external_id``; ``Resident.name``, ``phone``).
ID_MAX = 64
NAME_MAX = 200
PHONE_MAX = 40
#: The portal's e-mail rule (what the landlord's invite takes), the one home of it.
_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
_HOUSE_NUMBER = re.compile(r"^\s*\d[\w/-]*\s+")


@dataclass(frozen=True)
class Person:
    """A resident of an imported lease."""

    name: str
    email: str | None
    phone: str | None


@dataclass(frozen=True)
class Address:
    street: str
    city: str
    state: str
    postal_code: str


@dataclass(frozen=True)
class Wanted:
    """One lease of the accounting system as the portal should hold it."""

    #: The unit's key (``PropertyId|BldgID|UnitID``, ``PropertyID|BuildingID|UnitID``): the
    #: portal unit's ``external_id`` and the lease's ``external_scope``.
    key: str
    #: A unit created for this lease is named so.
    unit_name: str
    #: The lease's ``external_resident_id``: the ID the vendor's postings name the lease by.
    resident_id: str
    #: Where the row is, for an error entry of it (``error_entry``).
    property_id: str
    bldg_id: str
    unit_id: str
    balance_cents: int
    rent_cents: int
    #: None: no date given; a new lease starts today, an existing one keeps its start.
    start_date: date | None
    #: None: month-to-month.
    end_date: date | None
    #: None: none given; an existing lease keeps its own.
    move_in: date | None
    accounting_payments: PaymentsSetting
    #: The residents, the primary first.
    people: tuple[Person, ...]
    #: Other IDs an existing lease of this unit may be keyed by (MRI: every ResidentNameID of
    #: the lease, so a co-resident become primary finds the lease again).
    also_known_as: tuple[str, ...] = ()

    @property
    def match_ids(self) -> tuple[str, ...]:
        """The IDs an existing lease is found by, the lease's own first."""
        return (self.resident_id, *(i for i in self.also_known_as if i != self.resident_id))


@dataclass
class Plan:
    """One property's answer: the leases to apply and the erred rows."""

    property_id: str
    #: A property created for this one gets this address (empty parts: unknown) …
    address: Address
    #: … and, without a street, this name and street (``AMSI property 001``).
    label: str
    wanted: list[Wanted] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: What the property held, for the review: units and leases read.
    units_read: int = 0
    leases_read: int = 0


def error_entry(
    property_id: str | None,
    bldg_id: str | None,
    unit_id: str | None,
    resi_id: str | None,
    reason: str,
) -> dict[str, Any]:
    """One entry of a run's ``errors`` (the import review's "reason per erred row"):
    ``resi_id`` is AMSI's ResiID or MRI's ResidentNameID, all null but the property for a call
    that failed."""
    return {
        "property_id": property_id,
        "bldg_id": bldg_id,
        "unit_id": unit_id,
        "resi_id": resi_id,
        "reason": reason,
    }


def is_email(value: str) -> bool:
    try:
        _EMAIL.validate_python(value)
    except ValidationError:
        return False
    return True


def name_key(name: str) -> str:
    """How names are compared when people are matched to residents."""
    return " ".join(name.casefold().split())


def shared_address(addresses: Sequence[Address]) -> Address:
    """The address a new property gets from its units' or buildings' (neither vendor sends a
    property address): the street they share without house numbers, else the first street;
    the first one's city, state and zip."""
    located = [a for a in addresses if a.street]
    if not located:
        return Address("", "", "", "")
    first = located[0]
    streets = {_HOUSE_NUMBER.sub("", a.street).strip() for a in located}
    street = streets.pop() if len(streets) == 1 else ""
    return Address((street or first.street)[:200], first.city[:100], first.state, first.postal_code)
