"""A whole eSite world from one seed document (issue 16 "Scenario"): what a tester starts the
reference server with (``portal reference amsi --seed FILE``) or posts to ``POST /_ref/seed``,
so a scenario's eSite side is one file, as WireMock's mappings directory is.

```json
{"portfolios": [{"name": "Newport", "user_id": "rt", "password": "pw",
   "properties": [{"property_id": "001",
                   "units": [{"BldgId": "01", "UnitId": "101", ...}],
                   "leases": [{"BldgID": "01", "UnitID": "101", "ResiID": "21", ...}],
                   "units_xml": "AMSI-GetPropertyUnits.xml",
                   "residents_xml": "AMSI-GetPropertyResidents.xml"}]}]}
```

``units``/``leases`` are the admin API's JSON shapes; ``units_xml``/``residents_xml`` name the
vendor's own documents, relative to the seed file (file seeds only). Everything is checked
before anything is applied: a bad seed changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portal.reference.amsi import documents
from portal.reference.amsi.state import Lease, Portfolio, Property, Unit, World
from portal.reference.safexml import XmlError, parse


class SeedError(ValueError):
    """The seed is not usable; ``str(exc)`` names where."""


@dataclass
class _PropertySeed:
    property_id: str
    units: dict[tuple[str, str], Unit] | None = None
    leases: dict[tuple[str, str, str], Lease] | None = None


@dataclass
class _PortfolioSeed:
    name: str
    user_id: str
    password: str
    properties: list[_PropertySeed] = field(default_factory=list)


def _text(item: dict[str, Any], key: str, where: str) -> str:
    value = item.get(key)
    if not isinstance(value, str) or not value.strip():
        raise SeedError(f"{where}.{key} must be a non-empty string")
    return value


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


def _property(world: World, item: Any, where: str, base: Path | None) -> _PropertySeed:
    if not isinstance(item, dict):
        raise SeedError(f"{where} must be an object")
    property_id = _text(item, "property_id", where)
    seed = _PropertySeed(property_id)
    try:
        if "units_xml" in item:
            seed.units = documents.load_units(
                _xml(base, item["units_xml"], f"{where}.units_xml"), property_id
            )
        elif "units" in item:
            seed.units = documents.load_units(
                documents.units_from_json({"units": item["units"]}), property_id, json=True
            )
        if "residents_xml" in item:
            root = _xml(base, item["residents_xml"], f"{where}.residents_xml")
            seed.leases = documents.load_residents(
                root, property_id, lambda: world.next_number("open_item", 1)
            )
        elif "leases" in item:
            seed.leases = documents.load_residents(
                documents.residents_from_json({"leases": item["leases"]}),
                property_id,
                lambda: world.next_number("open_item", 1),
                json=True,
            )
    except documents.DocumentError as exc:
        raise SeedError(f"{where}: {exc}") from None
    return seed


def apply(world: World, data: Any, *, base: Path | None = None) -> dict[str, int]:
    """Check the whole seed, then load it: portfolios created (or kept, with the same login),
    each named property's units and leases replaced. Returns counts."""
    if not isinstance(data, dict) or not isinstance(data.get("portfolios", []), list):
        raise SeedError("the seed is a JSON object with a 'portfolios' list")
    seeds: list[_PortfolioSeed] = []
    for n, item in enumerate(data.get("portfolios", [])):
        where = f"portfolios[{n}]"
        if not isinstance(item, dict):
            raise SeedError(f"{where} must be an object")
        seed = _PortfolioSeed(
            _text(item, "name", where),
            _text(item, "user_id", where),
            _text(item, "password", where),
        )
        existing = world.portfolios.get(seed.name)
        if existing is not None and (existing.user_id, existing.password) != (
            seed.user_id,
            seed.password,
        ):
            raise SeedError(f"{where}: portfolio {seed.name!r} exists with another login")
        for m, prop in enumerate(item.get("properties", [])):
            seed.properties.append(_property(world, prop, f"{where}.properties[{m}]", base))
        seeds.append(seed)
    counts = {"portfolios": 0, "properties": 0, "units": 0, "leases": 0}
    for seed in seeds:
        portfolio = world.portfolios.setdefault(
            seed.name, Portfolio(seed.name, seed.user_id, seed.password)
        )
        counts["portfolios"] += 1
        for prop in seed.properties:
            target = portfolio.properties.setdefault(prop.property_id, Property(prop.property_id))
            counts["properties"] += 1
            if prop.units is not None:
                target.units = prop.units
                counts["units"] += len(prop.units)
            if prop.leases is not None:
                target.leases = prop.leases
                counts["leases"] += len(prop.leases)
    return counts
