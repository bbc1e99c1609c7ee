"""The AMSI import, the places: the property and units a lease is in, found by their AMSI
IDs or created (connectors.md §1.3, §1.8).

- A property is found by ``Property.external_id`` = PropertyId, else created with the address
  its units share (GetPropertyUnits carries no property address), and claimed by the
  integration (``Property.integration_id``) when no other integration has it, as balance
  intake claims the properties it names.
- A unit is found by ``Unit.external_id`` = ``PropertyId|BldgID|UnitID`` (§1.8, RT's unit
  mapping; the payment poster splits it on ``|``), else created, named with its ``address1``
  (the address RT took from GetPropertyUnits). Only the units of imported leases are created.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from sqlmodel import Session

from portal.auth.models import Integration
from portal.connectors.amsi import leasing
from portal.connectors.amsi.import_rows import Plan
from portal.core.ids import IdMinter
from portal.properties import service as properties_service

_HOUSE_NUMBER = re.compile(r"^\s*\d[\w/-]*\s+")


# --- places -----------------------------------------------------------------------------------


def places(
    session: Session, ids: IdMinter, integration: Integration, plans: list[Plan], *, now: datetime
) -> dict[str, tuple[str, str]]:
    """Unit key -> (unit ID, property ID) for every unit a wanted lease is in."""
    ws = ids.scope
    props = properties_service.properties_by_external_id(session, ws)
    used = [p for p in plans if p.wanted]
    for p in used:
        if p.property_id not in props:
            street, city, state, postal_code = _property_address(p.units)
            props[p.property_id] = properties_service.create_property(
                session,
                ids,
                name=street or f"AMSI property {p.property_id}",
                external_id=p.property_id,
                street=street or f"AMSI property {p.property_id}",
                city=city,
                state=state if len(state) == 2 else "",
                postal_code=postal_code[:10],
                now=now,
            ).id
    properties_service.claim_properties(
        session, ws, [props[p.property_id] for p in used], integration.id
    )
    units = properties_service.units_by_external_id(session, ws)
    missing: dict[str, tuple[str, str, str]] = {}
    for p in used:
        names = _unit_names(p.units)
        for w in p.wanted:
            if w.key not in units and w.key not in missing:
                missing[w.key] = (w.key, props[p.property_id], names[w.key])
    created = properties_service.bulk_create_units(session, ids, list(missing.values()), now=now)
    places = {key: (uid, pid) for key, (uid, pid) in units.items()}
    places.update({key: (uid, missing[key][1]) for key, uid in created.items()})
    return places


def _property_address(units: list[leasing.Unit]) -> tuple[str, str, str, str]:
    """The address a new property gets from its units (GetPropertyUnits has no property
    address): the street they share without house numbers, else the first unit's address1;
    the first unit's city, state and zip."""
    located = [u for u in units if u.address1]
    if not located:
        return "", "", "", ""
    first = located[0]
    streets = {_HOUSE_NUMBER.sub("", u.address1).strip() for u in located}
    street = streets.pop() if len(streets) == 1 else ""
    return (street or first.address1)[:200], first.city[:100], first.state, first.zip


def _unit_names(units: list[leasing.Unit]) -> dict[str, str]:
    """A unit is named with its ``address1`` (the unit's own address, so the place label shows
    it whole: ``places.place_label``), with ``#UnitId`` when several units share that address,
    or its UnitId when it has none."""
    shared = Counter(u.address1 for u in units if u.address1)
    return {
        u.key: u.unit_id
        if not u.address1
        else (f"{u.address1} #{u.unit_id}" if shared[u.address1] > 1 else u.address1)
        for u in units
    }
