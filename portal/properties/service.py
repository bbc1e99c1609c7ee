"""Properties and units (architecture.md §7).

The accounting system names properties and units by its own IDs (Landlord 12's property and
unit IDs, domain.md §2.4, §3): an ``external_id`` is unique per workspace, so a balance line or a
sign-up resolves to one place. A unit's name is unique within its property. Balance intake
creates them in bulk (the last section). The deposit accounts their payments go to are in
``accounts``, the bank-number rules in ``bank_numbers``, the place label in ``places``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session, col

from portal.core.db import bulk_insert
from portal.core.errors import Conflict, NotFound
from portal.core.ids import IdMinter
from portal.core.pagination import keyset
from portal.properties.models import Property, Unit


class PropertyNotFound(NotFound):
    code = "property_not_found"


class UnitNotFound(NotFound):
    code = "unit_not_found"


class PropertyExternalIdTaken(Conflict):
    code = "property_external_id_taken"


class UnitNameTaken(Conflict):
    code = "unit_name_taken"


class UnitExternalIdTaken(Conflict):
    code = "unit_external_id_taken"


# --- properties -------------------------------------------------------------------------------


def get_property(session: Session, workspace_id: str, property_id: str) -> Property:
    prop = session.get(Property, (workspace_id, property_id))
    if prop is None:
        raise PropertyNotFound(f"No property {property_id!r}.")
    return prop


def find_property_by_external_id(
    session: Session, workspace_id: str, external_id: str
) -> Property | None:
    return session.scalars(
        select(Property).where(
            col(Property.workspace_id) == workspace_id, col(Property.external_id) == external_id
        )
    ).first()


def create_property(
    session: Session,
    ids: IdMinter,
    *,
    name: str,
    external_id: str | None,
    street: str,
    city: str | None,
    state: str | None,
    postal_code: str | None,
    post_reversals: bool = True,
    now: datetime,
) -> Property:
    """A new property; a missing city, state or postal code is stored as empty."""
    if external_id is not None:
        other = find_property_by_external_id(session, ids.scope, external_id)
        if other is not None:
            raise PropertyExternalIdTaken(
                f"External ID {external_id!r} already belongs to property {other.id!r} "
                f"({other.name!r})."
            )
    prop = Property(
        workspace_id=ids.scope,
        id=ids.new("property", "prop"),
        name=name,
        external_id=external_id,
        street=street,
        city=city or "",
        state=state or "",
        postal_code=postal_code or "",
        post_reversals=post_reversals,
        created_at=now,
    )
    session.add(prop)
    session.flush()
    return prop


def update_property(
    session: Session,
    prop: Property,
    changes: dict[str, Any],
) -> Property:
    """The landlord's edits: the name, whether MRI gets reversals posted (seed 002), and the
    integration the property belongs to (``integration_id``, None: every integration's)."""
    for field in ("name", "post_reversals", "integration_id"):
        if field in changes:
            setattr(prop, field, changes[field])
    session.add(prop)
    session.flush()
    return prop


def claim_properties(
    session: Session, workspace_id: str, property_ids: Sequence[str], integration_id: str
) -> None:
    """Give the properties without an integration to this one (balance intake)."""
    if not property_ids:
        return
    session.execute(
        update(Property)
        .where(
            col(Property.workspace_id) == workspace_id,
            col(Property.id).in_(list(property_ids)),
            col(Property.integration_id).is_(None),
        )
        .values(integration_id=integration_id)
        .execution_options(synchronize_session=False)
    )


def list_properties(
    session: Session,
    workspace_id: str,
    *,
    external_id: str | None = None,
    after: str | None,
    limit: int,
) -> list[Property]:
    query = select(Property).where(col(Property.workspace_id) == workspace_id)
    if external_id is not None:
        query = query.where(col(Property.external_id) == external_id)
    query = keyset(query, col(Property.id), after=after, limit=limit)
    return list(session.scalars(query))


def units_by_property(
    session: Session, workspace_id: str, property_ids: Sequence[str]
) -> dict[str, list[Unit]]:
    """Every unit of these properties, each list ordered by unit ID (one query)."""
    out: dict[str, list[Unit]] = {pid: [] for pid in property_ids}
    rows = session.scalars(
        select(Unit)
        .where(col(Unit.workspace_id) == workspace_id, col(Unit.property_id).in_(property_ids))
        .order_by(col(Unit.id))
    )
    for unit in rows:
        out[unit.property_id].append(unit)
    return out


# --- units ------------------------------------------------------------------------------------


def get_unit(session: Session, workspace_id: str, unit_id: str) -> Unit:
    unit = session.get(Unit, (workspace_id, unit_id))
    if unit is None:
        raise UnitNotFound(f"No unit {unit_id!r}.")
    return unit


def find_unit_by_external_id(session: Session, workspace_id: str, external_id: str) -> Unit | None:
    return session.scalars(
        select(Unit).where(
            col(Unit.workspace_id) == workspace_id, col(Unit.external_id) == external_id
        )
    ).first()


def create_unit(
    session: Session,
    ids: IdMinter,
    property: Property,
    *,
    name: str,
    external_id: str | None,
    now: datetime,
) -> Unit:
    same_name = session.scalars(
        select(Unit).where(
            col(Unit.workspace_id) == property.workspace_id,
            col(Unit.property_id) == property.id,
            col(Unit.name) == name,
        )
    ).first()
    if same_name is not None:
        raise UnitNameTaken(
            f"Property {property.id!r} already has a unit named {name!r} ({same_name.id!r})."
        )
    if external_id is not None:
        other = find_unit_by_external_id(session, property.workspace_id, external_id)
        if other is not None:
            raise UnitExternalIdTaken(
                f"External ID {external_id!r} already belongs to unit {other.id!r} "
                f"({other.name!r} of property {other.property_id!r})."
            )
    unit = Unit(
        workspace_id=property.workspace_id,
        id=ids.new("unit", "unit"),
        property_id=property.id,
        name=name,
        external_id=external_id,
        created_at=now,
    )
    session.add(unit)
    session.flush()
    return unit


def create_units(
    session: Session,
    ids: IdMinter,
    property: Property,
    specs: Sequence[tuple[str, str | None]],
    *,
    now: datetime,
) -> list[str]:
    """``create_unit`` for many (name, external ID) pairs of one property, in order, in one
    statement (a scenario's units, issue 19): the same IDs, the same refusals for the first
    name or external ID already taken (in the property, in the workspace, or earlier in
    ``specs``). Returns the new IDs in order."""
    if not specs:
        return []
    names: dict[str, str] = dict(
        session.execute(
            select(col(Unit.name), col(Unit.id)).where(
                col(Unit.workspace_id) == property.workspace_id,
                col(Unit.property_id) == property.id,
            )
        ).all()
    )
    wanted = [ext for _name, ext in specs if ext is not None]
    externals: dict[str, tuple[str, str, str]] = {
        ext: (uid, name, pid)
        for ext, uid, name, pid in session.execute(
            select(col(Unit.external_id), col(Unit.id), col(Unit.name), col(Unit.property_id))
            .where(col(Unit.workspace_id) == property.workspace_id)
            .where(col(Unit.external_id).in_(wanted))
        )
        if ext is not None
    }
    new_ids = ids.many("unit", len(specs), "unit")
    rows: list[dict[str, Any]] = []
    for uid, (name, external_id) in zip(new_ids, specs, strict=True):
        if name in names:
            raise UnitNameTaken(
                f"Property {property.id!r} already has a unit named {name!r} ({names[name]!r})."
            )
        if external_id is not None and external_id in externals:
            other_id, other_name, other_property = externals[external_id]
            raise UnitExternalIdTaken(
                f"External ID {external_id!r} already belongs to unit {other_id!r} "
                f"({other_name!r} of property {other_property!r})."
            )
        names[name] = uid
        if external_id is not None:
            externals[external_id] = (uid, name, property.id)
        rows.append(
            {
                "workspace_id": property.workspace_id,
                "id": uid,
                "property_id": property.id,
                "name": name,
                "external_id": external_id,
                "created_at": now,
            }
        )
    session.flush()  # the property first: the units' foreign key names it
    bulk_insert(session, Unit, rows)
    return new_ids


def list_units(
    session: Session, workspace_id: str, property_id: str, *, after: str | None, limit: int
) -> list[Unit]:
    query = select(Unit).where(
        col(Unit.workspace_id) == workspace_id, col(Unit.property_id) == property_id
    )
    query = keyset(query, col(Unit.id), after=after, limit=limit)
    return list(session.scalars(query))


def properties_by_id(
    session: Session, workspace_id: str, property_ids: set[str]
) -> dict[str, Property]:
    """The properties of a page of items, in one query."""
    if not property_ids:
        return {}
    return {
        p.id: p
        for p in session.scalars(
            select(Property).where(
                col(Property.workspace_id) == workspace_id, col(Property.id).in_(property_ids)
            )
        )
    }


def units_by_id(session: Session, workspace_id: str, unit_ids: set[str]) -> dict[str, Unit]:
    """The units of a page of items, in one query."""
    if not unit_ids:
        return {}
    return {
        u.id: u
        for u in session.scalars(
            select(Unit).where(col(Unit.workspace_id) == workspace_id, col(Unit.id).in_(unit_ids))
        )
    }


# --- bulk paths (balance intake, domain.md §3) -------------------------------------------------


def properties_by_external_id(session: Session, workspace_id: str) -> dict[str, str]:
    """External ID -> property ID for the whole workspace, in one query."""
    rows = session.execute(
        select(col(Property.external_id), col(Property.id)).where(
            col(Property.workspace_id) == workspace_id, col(Property.external_id).is_not(None)
        )
    )
    return {ext: pid for ext, pid in rows if ext is not None}


def units_by_external_id(session: Session, workspace_id: str) -> dict[str, tuple[str, str]]:
    """External ID -> (unit ID, property ID) for the whole workspace, in one query."""
    rows = session.execute(
        select(col(Unit.external_id), col(Unit.id), col(Unit.property_id)).where(
            col(Unit.workspace_id) == workspace_id, col(Unit.external_id).is_not(None)
        )
    )
    return {ext: (uid, pid) for ext, uid, pid in rows if ext is not None}


def bulk_create_properties(
    session: Session, ids: IdMinter, specs: Sequence[tuple[str, str]], *, now: datetime
) -> dict[str, str]:
    """Create properties from (external ID, street address) pairs; returns external -> ID.
    One statement; the caller has checked the external IDs are new."""
    if not specs:
        return {}
    new_ids = ids.many("property", len(specs), "prop")
    rows = [
        {
            "workspace_id": ids.scope,
            "id": pid,
            "name": street or ext,
            "external_id": ext,
            "street": street or ext,
            "city": "",
            "state": "",
            "postal_code": "",
            "created_at": now,
        }
        for pid, (ext, street) in zip(new_ids, specs, strict=True)
    ]
    bulk_insert(session, Property, rows)
    return {ext: pid for pid, (ext, _street) in zip(new_ids, specs, strict=True)}


def bulk_create_units(
    session: Session, ids: IdMinter, specs: Sequence[tuple[str, str, str]], *, now: datetime
) -> dict[str, str]:
    """Create units from (external ID, property ID, name) triples; returns external -> ID.
    A name already used in the property gets the external ID appended, so names stay unique."""
    if not specs:
        return {}
    taken = {
        (pid, name)
        for pid, name in session.execute(
            select(col(Unit.property_id), col(Unit.name)).where(col(Unit.workspace_id) == ids.scope)
        )
    }
    new_ids = ids.many("unit", len(specs), "unit")
    rows = []
    for uid, (ext, pid, name) in zip(new_ids, specs, strict=True):
        name = name or ext
        if (pid, name) in taken:
            name = f"{name} ({ext})"
        taken.add((pid, name))
        rows.append(
            {
                "workspace_id": ids.scope,
                "id": uid,
                "property_id": pid,
                "name": name[:100],
                "external_id": ext,
                "created_at": now,
            }
        )
    bulk_insert(session, Unit, rows)
    return {ext: uid for uid, (ext, _pid, _name) in zip(new_ids, specs, strict=True)}
