"""The import, the places: the property and units a lease is in, found by their accounting IDs
or created (AMSI: connectors.md §1.3, §1.8; MRI: §2.9).

- A property is found by ``Property.external_id`` = the vendor's property ID, else created with
  the plan's address (the vendor's rows say where: ``rows.shared_address``), and claimed by the
  integration (``Property.integration_id``) when no other integration has it, as balance
  intake claims the properties it names.
- A unit is found by ``Unit.external_id`` = the unit's key (``PropertyId|BldgID|UnitID``, RT's
  unit mapping; the payment poster splits it on ``|``), else created with the name the row
  gives it. Only the units of imported leases are created.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from portal.auth.models import Integration
from portal.connectors.imports.rows import Plan
from portal.core.ids import IdMinter
from portal.properties import service as properties_service


def places(
    session: Session, ids: IdMinter, integration: Integration, plans: list[Plan], *, now: datetime
) -> dict[str, tuple[str, str]]:
    """Unit key -> (unit ID, property ID) for every unit a wanted lease is in."""
    ws = ids.scope
    props = properties_service.properties_by_external_id(session, ws)
    used = [p for p in plans if p.wanted]
    for p in used:
        if p.property_id not in props:
            address = p.address
            props[p.property_id] = properties_service.create_property(
                session,
                ids,
                name=address.street or p.label,
                external_id=p.property_id,
                street=address.street or p.label,
                city=address.city,
                state=address.state if len(address.state) == 2 else "",
                postal_code=address.postal_code[:10],
                now=now,
            ).id
    properties_service.claim_properties(
        session, ws, [props[p.property_id] for p in used], integration.id
    )
    units = properties_service.units_by_external_id(session, ws)
    missing: dict[str, tuple[str, str, str]] = {}
    for p in used:
        for w in p.wanted:
            if w.key not in units and w.key not in missing:
                missing[w.key] = (w.key, props[p.property_id], w.unit_name)
    created = properties_service.bulk_create_units(session, ids, list(missing.values()), now=now)
    places = {key: (uid, pid) for key, (uid, pid) in units.items()}
    places.update({key: (uid, missing[key][1]) for key, uid in created.items()})
    return places
