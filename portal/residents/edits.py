"""The landlord's corrections of a resident (domain.md §2.2, §2.3, seed S3): name, e-mail and
phone, and the address: "make sure the correct address and unit are specified" before
approving. ``set_place`` corrects a pending or waiting resident's property and unit, and
``check_place`` is what approval requires of them, its refusal naming the PATCH that fixes
it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlmodel import Session

from portal.core.ids import IdMinter
from portal.notifications import service as notifications
from portal.properties import service as properties_service
from portal.properties.models import Property, Unit
from portal.residents import leases as leases_service
from portal.residents.invitations import invite_email, new_invite_code
from portal.residents.models import LeaseStatus, Resident, ResidentStatus
from portal.residents.service import (
    AddressNotEditable,
    PropertyMissing,
    ResidentNotPending,
    UnitMissing,
    normalize_email,
    set_status,
)


def update_resident(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    *,
    changes: Mapping[str, Any],
    now: datetime,
) -> Resident:
    """Edit name, e-mail, phone, and a pending or waiting resident's property and unit. A
    waiting resident who gets an e-mail is invited (§2.2)."""
    if "property_id" in changes or "unit_id" in changes:
        set_place(
            session,
            ids,
            resident,
            property_id=changes.get("property_id"),
            unit_id=changes.get("unit_id"),
            unit_given="unit_id" in changes,
            now=now,
        )
    if changes.get("name"):
        resident.name = changes["name"]
    if "phone" in changes:
        resident.phone = changes["phone"]
    if "email" in changes:
        email = normalize_email(changes["email"])
        if email != resident.email:
            resident.email = email
            if email and resident.status is ResidentStatus.WAITING:
                set_status(resident, ResidentStatus.INVITE, now)
                code, resident.invite_code = new_invite_code()
                lease_ids = leases_service.lease_ids_of(session, ids.scope, [resident.id])
                first = lease_ids[resident.id][0] if lease_ids[resident.id] else None
                notifications.send(session, ids, invite_email(resident, first, code), now=now)
    session.add(resident)
    session.flush()
    return resident


#: Whose property and unit the landlord may correct: before approval, "make sure the correct
#: address and unit are specified" (seed S3, domain.md §2.3); a waiting resident (no e-mail, no
#: login, never paid) moves with the lease they alone hold.
PLACE_EDITABLE = (ResidentStatus.PENDING, ResidentStatus.WAITING)


def set_place(
    session: Session,
    ids: IdMinter,
    resident: Resident,
    *,
    property_id: str | None,
    unit_id: str | None,
    unit_given: bool,
    now: datetime,
) -> None:
    """Correct where the resident lives: the unit must be a unit of the property, both of
    this workspace. Only the property: the unit is kept if it is in that property, else it
    is cleared (pick one before approving). A pending resident may be left without a unit
    ("UNASSIGNED", domain.md §2.1); a waiting one holds a lease, which needs a unit."""
    if resident.status not in PLACE_EDITABLE:
        raise AddressNotEditable(
            f"Resident {resident.id} is {resident.status.value}; the property and unit can be "
            "corrected only before approval (pending) or while waiting. To move an approved "
            "resident, end their lease (POST /v1/leases/{id}/end) and invite them to the new "
            "unit."
        )
    unit = properties_service.get_unit(session, ids.scope, unit_id) if unit_id else None
    target = property_id or (unit.property_id if unit else resident.property_id)
    if target is None:
        raise PropertyMissing(f"Resident {resident.id} has no property yet; send property_id.")
    prop = properties_service.get_property(session, ids.scope, target)
    if unit is not None and unit.property_id != prop.id:
        raise properties_service.UnitNotFound(
            f"Unit {unit.id!r} is not in property {prop.id!r}; pick a unit of that property "
            f"(GET /v1/properties/{prop.id}/units)."
        )
    if not unit_given:
        kept = session.get(Unit, (ids.scope, resident.unit_id)) if resident.unit_id else None
        unit = kept if kept is not None and kept.property_id == prop.id else None
    if resident.status is ResidentStatus.WAITING:
        _move_leases(session, ids, resident, unit.id if unit else None, now)
    resident.property_id = prop.id
    resident.unit_id = unit.id if unit else None
    session.add(resident)


def _move_leases(
    session: Session, ids: IdMinter, resident: Resident, unit_id: str | None, now: datetime
) -> None:
    """A waiting resident's lease goes where they go: it is theirs alone (a shared lease stays
    where the others live) and nothing has been paid on it, since they cannot log in."""
    if unit_id is None:
        raise AddressNotEditable(
            f"Resident {resident.id} is waiting with a lease, and a lease needs a unit; send "
            "unit_id."
        )
    leases = [
        lease
        for lease in leases_service.leases_of(session, ids.scope, resident.id)
        if lease.status is LeaseStatus.ACTIVE and lease.unit_id != unit_id
    ]
    holders = leases_service.resident_ids_of(session, ids.scope, [lease.id for lease in leases])
    for found in leases:
        if holders[found.id] != [resident.id]:
            raise AddressNotEditable(
                f"Lease {found.id} is shared with other residents; it stays in its unit. "
                "End it and invite the resident to the new unit instead."
            )
        lease = leases_service.get_lease(session, ids.scope, found.id, for_update=True)
        leases_service.update_lease(session, ids, lease, {"unit_id": unit_id}, amsi=False, now=now)


def check_place(session: Session, resident: Resident) -> tuple[str, str]:
    """A pending resident's property and unit must exist to approve (seed S3: "if you are
    unable to approve a resident because a property or unit is missing"); the refusal names
    the PATCH that sets them (domain.md §2.3: the landlord checks the address and unit)."""
    if resident.status is not ResidentStatus.PENDING:
        raise ResidentNotPending(
            f"Resident {resident.id} is {resident.status.value}; "
            "only pending residents are approved."
        )
    fix_path = f"/v1/residents/{resident.id}"
    if (
        resident.property_id is None
        or session.get(Property, (resident.workspace_id, resident.property_id)) is None
    ):
        raise PropertyMissing(
            f"Resident {resident.id} has no property in the portal. Add the property if it is "
            f"missing (POST /v1/properties), set it and the unit with PATCH {fix_path} "
            '{"property_id": ..., "unit_id": ...}, then approve.',
            extra={
                "fix": {
                    "method": "PATCH",
                    "path": fix_path,
                    "body": {"property_id": "<property ID>", "unit_id": "<unit ID>"},
                }
            },
        )
    if (
        resident.unit_id is None
        or session.get(Unit, (resident.workspace_id, resident.unit_id)) is None
    ):
        units = f"/v1/properties/{resident.property_id}/units"
        raise UnitMissing(
            f"Resident {resident.id} chose no unit of property {resident.property_id}. Pick "
            f"one (GET {units} lists them; POST there adds a missing one), set it with PATCH "
            f'{fix_path} {{"unit_id": ...}}, then approve.',
            extra={
                "fix": {"method": "PATCH", "path": fix_path, "body": {"unit_id": "<unit ID>"}},
                "units": units,
            },
        )
    return resident.property_id, resident.unit_id
