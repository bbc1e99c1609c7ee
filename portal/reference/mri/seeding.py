"""A whole MRI world from one seed document: what a tester starts the reference server with
(``portal reference mri --seed FILE``) or posts to ``POST /_ref/seed``, so a scenario's MRI
side is one file.

```json
{"credentials": [{"client_id": "C000001", "database": "RTDB", "user": "RTAPI",
                  "partner_key": "…", "password": "…"}],
 "properties": [{"property_id": "500",
                 "residents_xml": "MRI-ResidentLeaseDetails-500.xml",
                 "residents": {"value": [{…one lease-details entry…}]},
                 "charges": [{"BuildingID": "01", "UnitID": "101", "LeaseID": "2", …}]}],
 "settings": {"end_of_day": "17:00", "time_zone": "America/Chicago"}}
```

``residents_xml`` names MRI's own document, relative to the seed file (file seeds only);
``residents`` is its JSON form; ``charges`` takes ``PUT …/charges``'s shape. Everything is
checked before anything is applied: a bad seed changes nothing.

Also the one home of what the admin API and the seed share: counts, replacing charges, a
pending move-in.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from portal.reference.mri import documents
from portal.reference.mri.state import (
    Charge,
    Credential,
    Lease,
    LedgerEntry,
    Property,
    Resident,
    Switches,
    World,
)
from portal.reference.safexml import XmlError, parse


class SeedError(ValueError):
    """The seed is not usable; ``str(exc)`` names where."""


class CredentialCreate(BaseModel):
    """A login: the four parts of the Basic user name (§2.2) and the password."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(min_length=1, max_length=100, pattern=r"^[^/:]+$")
    database: str = Field(min_length=1, max_length=100, pattern=r"^[^/:]+$")
    user: str = Field(min_length=1, max_length=100, pattern=r"^[^/:]+$")
    partner_key: str = Field(min_length=1, max_length=200, pattern=r"^[^/:]+$")
    password: str = Field(min_length=1, max_length=200)


def counts(prop: Property, *, entries: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"property_id": prop.property_id}
    if entries is not None:
        out["entries"] = entries
    out.update(
        buildings=len(prop.buildings),
        units=len(prop.units),
        leases=len(prop.leases),
        residents=len(prop.residents),
        charges=sum(len(lease.charges) for lease in prop.leases.values()),
    )
    return out


def replace_charges(prop: Property, charges: list[Charge]) -> None:
    for lease in prop.leases.values():
        lease.charges = [c for c in charges if c.lease_key == lease.key]


def add_pending_move_in(
    world: World,
    prop: Property,
    data: dict[str, Any],
    rent: int | None,
    balance: int,
    now: datetime,
) -> Lease:
    """A future resident (``New``, §2.7) on a lease: the one named, else a new one in the unit
    (``LeaseID`` the unit's next number)."""
    building_id, unit_id = data["building_id"], data["unit_id"]
    lease_id = data["lease_id"] or _next_lease_id(prop, building_id, unit_id)
    move_in = datetime.combine(data["scheduled_move_in"], datetime.min.time())
    lease = prop.leases.get((building_id, unit_id, lease_id))
    if lease is None:
        end = data["lease_end"]
        lease = Lease(
            property_key=prop.key,
            building_id=building_id,
            unit_id=unit_id,
            lease_id=lease_id,
            start=move_in,
            end=None if end is None else datetime.combine(end, datetime.min.time()),
            occupy=move_in,
            move_out=None,
            rent_cents=rent,
            month_to_month="N",
            block_epayments="N",
            ledger=[LedgerEntry(now, "opening", balance)],
        )
        if rent:
            lease.charges.append(
                Charge(world.next_charge_id(), lease.key, "RNT", "Rent", rent, "M", move_in, None)
            )
        prop.leases[lease.key] = lease
    building = prop.buildings.setdefault(building_id, {})
    unit = prop.units.setdefault((building_id, unit_id), {})
    fields: dict[str, str | datetime | None] = {
        "ResidentNameID": data["resident_name_id"],
        "PropertyID": prop.property_id,
        "BuildingID": building_id,
        "UnitID": unit_id,
        "LeaseID": lease_id,
        "Address": unit.get("Address"),
        **{n: building.get(n) for n in ("BuildingAddress", "City", "State", "Zipcode")},
        "FirstName": data["first_name"],
        "LastName": data["last_name"],
        "LeaseStart": lease.start,
        "OccupyDate": lease.occupy,
        "LeaseEnd": lease.end,
    }
    prop.residents[data["resident_name_id"]] = Resident(
        name_id=data["resident_name_id"],
        lease=lease,
        status="New",
        is_current="Y",
        email=data["email"],
        fields=fields,
        last_update=world.local(now),
    )
    return lease


def _next_lease_id(prop: Property, building_id: str, unit_id: str) -> str:
    numbers = [
        int(lease.lease_id)
        for lease in prop.leases.values()
        if (lease.building_id, lease.unit_id) == (building_id, unit_id) and lease.lease_id.isdigit()
    ]
    return str(max(numbers, default=0) + 1)


def _xml(base: Path | None, name: Any, where: str) -> Any:
    if base is None:
        raise SeedError(f"{where}: XML files can only be named in a seed file")
    if not isinstance(name, str):
        raise SeedError(f"{where} must be a file name")
    path = (base / name).resolve()
    try:
        return parse(path.read_bytes())
    except OSError as exc:
        raise SeedError(f"{where}: cannot read {path}: {exc.strerror}") from None
    except XmlError as exc:
        raise SeedError(f"{where}: {path.name}: {exc}") from None


def _property(
    world: World, item: Any, where: str, base: Path | None, now: datetime
) -> tuple[Property, int]:
    if not isinstance(item, dict):
        raise SeedError(f"{where} must be an object")
    property_id = item.get("property_id")
    if not isinstance(property_id, str) or not property_id.strip():
        raise SeedError(f"{where}.property_id must be a non-empty string")
    try:
        if "residents_xml" in item:
            root = _xml(base, item["residents_xml"], f"{where}.residents_xml")
            records = documents.xml_records(root, documents.LEASE_DETAILS)
            as_json = False
        else:
            records = documents.json_records(item.get("residents", {"value": []}))
            as_json = True
        prop = documents.load_lease_details(
            records, property_id, as_json=as_json, now=now, next_charge_id=world.next_charge_id
        )
        if "charges" in item:
            charges = documents.load_charges(
                {"charges": item["charges"]}, prop, world.next_charge_id
            )
            replace_charges(prop, charges)
    except documents.DocumentError as exc:
        raise SeedError(f"{where}: {exc}") from None
    return prop, len(records)


def apply(world: World, data: Any, *, now: datetime, base: Path | None = None) -> dict[str, Any]:
    """Check the whole seed, then load it: credentials added (an existing one must have the
    same password), each named property replaced, the switches changed. Returns counts."""
    if not isinstance(data, dict):
        raise SeedError("the seed is a JSON object with 'credentials' and 'properties' lists")
    saved = world.counters()
    try:
        credentials = _credentials(world, data.get("credentials", []))
        items = data.get("properties", [])
        if not isinstance(items, list):
            raise SeedError("properties must be a list")
        props = [
            _property(world, item, f"properties[{n}]", base, now) for n, item in enumerate(items)
        ]
        settings = data.get("settings", {})
        if not isinstance(settings, dict):
            raise SeedError("settings must be an object")
        switches = Switches.model_validate({**world.switches.model_dump(), **settings})
    except ValidationError as exc:
        world.restore_counters(saved)
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise SeedError(f"settings.{where}: {first['msg']}") from None
    except SeedError:
        world.restore_counters(saved)
        raise
    for credential in credentials:
        world.credentials[credential.username] = credential
    for prop, _ in props:
        world.properties[prop.key] = prop
    world.switches = switches
    return {
        "credentials": len(credentials),
        "properties": [counts(prop, entries=entries) for prop, entries in props],
    }


def _credentials(world: World, items: Any) -> list[Credential]:
    if not isinstance(items, list):
        raise SeedError("credentials must be a list")
    found: list[Credential] = []
    for n, item in enumerate(items):
        try:
            credential = Credential(**CredentialCreate.model_validate(item).model_dump())
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise SeedError(f"credentials[{n}].{where}: {first['msg']}") from None
        existing = world.credentials.get(credential.username)
        if existing is not None and existing.password != credential.password:
            raise SeedError(f"credentials[{n}]: {credential.username} exists with another password")
        found.append(credential)
    return found
