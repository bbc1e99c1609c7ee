"""The GET APIs (connectors.md §2.4, §2.5, §2.7) and their paging (§2.8, §4.7).

- ``ResidentLeaseDetailsByPropertyID``: ``RMPROPID``, and/or ``LastUpdateDate=yyyy-mm-dd``
  (entries updated on or after that day), and/or ``StartDate``+``EndDate`` (updated within
  those days); one entry per resident, in the seeded order.
- ``ResidentialRentRoll``: ``PROPERTYID`` [``BUILDINGID``] [``UNITID``]; one entry per lease.
- ``PendingMoveIns``: ``PropertyID``; the residents with status ``New``.

Parameter names are matched case-insensitively (INFERENCE); an unknown property is an
``Error`` inside a 200, like a POST's; a missing or malformed parameter is a 400.

**Paging.** ``$top`` rows a page (default ``page_size``, 300), from ``$skip``. The next page's
link echoes ``%24api``, the filters and ``%24format``, then ``%24top=<top>&%24skip=<the next
page's first row, 1-based>``: ``%24top=300&%24skip=301`` after the first page, as MRI's links
read (§2.8). With the ``skip`` switch at ``start_row`` (default) ``$skip=k`` starts at row k, so
following the links loses nothing; at ``literal`` it skips k rows, so every link followed loses
one row (the pessimistic reading of §4.7). ``top``/``skip`` without ``$`` are taken too (MH).
There is no link after the last page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

from starlette.datastructures import QueryParams

from portal.reference.mri import documents
from portal.reference.mri.documents import Fields
from portal.reference.mri.state import PROPERTY_NOT_FOUND, MriError, Property, Resident, World

_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
#: Aliases MH sends without the ``$`` (its pagination spec, §2.4).
_ALIASES = {"top": "$top", "skip": "$skip"}


class QueryError(ValueError):
    """The request cannot be served: a 400 (table row 2)."""


class Params:
    """The query, by case-insensitive name (first value wins), in the order received."""

    def __init__(self, query: QueryParams) -> None:
        self._values: dict[str, tuple[str, str]] = {}
        for name, value in query.multi_items():
            key = _ALIASES.get(name.lower(), name.lower())
            self._values.setdefault(key, (name, value))

    def get(self, name: str) -> str | None:
        found = self._values.get(name.lower())
        return found[1].strip() if found is not None else None

    def filters(self) -> list[tuple[str, str]]:
        """The API's own parameters (not ``$…``), as the client named them."""
        return [(n, v) for key, (n, v) in self._values.items() if not key.startswith("$")]

    def as_dict(self) -> dict[str, str]:
        return dict(self._values.values())


@dataclass
class Page:
    records: list[Fields]
    number: int
    """1-based, for the ``slow_page`` fault switch."""
    next_link: str | None
    rows: int


def _day(params: Params, name: str) -> date | None:
    value = params.get(name)
    if not value:
        return None
    try:
        if not _DAY.match(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{name} {value!r} is not a yyyy-mm-dd date") from None


def _property(world: World, params: Params, name: str, *, required: bool) -> Property | None:
    value = params.get(name)
    if not value:
        if required:
            raise QueryError(f"{name} is required")
        return None
    prop = world.property(value)
    if prop is None:
        raise MriError(PROPERTY_NOT_FOUND, f"no property {value!r}")
    return prop


def lease_details(world: World, params: Params) -> list[Fields]:
    last, start, end = (_day(params, n) for n in ("LastUpdateDate", "StartDate", "EndDate"))
    if (start is None) != (end is None):
        raise QueryError("StartDate and EndDate go together")
    prop = _property(world, params, "RMPROPID", required=last is None and start is None)
    chosen = [prop] if prop is not None else list(world.properties.values())

    def wanted(resident: Resident) -> bool:
        updated = resident.last_update.date() if resident.last_update else None
        if last is not None and (updated is None or updated < last):
            return False
        return start is None or end is None or (updated is not None and start <= updated <= end)

    return [
        documents.lease_detail_record(p, r)
        for p in chosen
        for r in p.residents.values()
        if wanted(r)
    ]


def rent_roll(world: World, params: Params) -> list[Fields]:
    prop = _property(world, params, "PROPERTYID", required=True)
    assert prop is not None
    building_id, unit_id = params.get("BUILDINGID"), params.get("UNITID")
    records = []
    for lease in prop.leases.values():
        if building_id and lease.building_id != building_id:
            continue
        if unit_id and lease.unit_id != unit_id:
            continue
        residents = [r for r in prop.residents.values() if r.lease is lease]
        records.append(documents.rent_roll_record(prop, lease, residents))
    return records


def pending_move_ins(world: World, params: Params) -> list[Fields]:
    prop = _property(world, params, "PropertyID", required=True)
    assert prop is not None
    return [
        documents.pending_move_in_record(prop, r)
        for r in prop.residents.values()
        if r.status == "New"
    ]


READS = {
    documents.LEASE_DETAILS: lease_details,
    documents.RENT_ROLL: rent_roll,
    documents.PENDING_MOVE_INS: pending_move_ins,
}


def _count(params: Params, name: str, minimum: int) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or int(value) < minimum:
        raise QueryError(f"{name} {value!r} is not an integer ≥ {minimum}")
    return int(value)


def page_size(world: World, params: Params) -> tuple[int, int]:
    """(``$top``, the 0-based first row) of the request; a bad one is a ``QueryError``."""
    top = _count(params, "$top", 1) or world.switches.page_size
    skip = _count(params, "$skip", 0) or 0
    start = max(skip - 1, 0) if world.switches.skip == "start_row" else skip
    return top, start


def paginate(
    rows: list[Fields],
    params: Params,
    *,
    top: int,
    start: int,
    api: str,
    fmt: str,
    base: str,
) -> Page:
    chunk = rows[start : start + top]
    link = None
    if start + top < len(rows):
        link = next_link(base, api, params.filters(), fmt=fmt, top=top, skip=start + top + 1)
    return Page(chunk, start // top + 1, link, len(rows))


def next_link(
    base: str, api: str, filters: list[tuple[str, str]], *, fmt: str, top: int, skip: int
) -> str:
    """MRI's link form (§2.8): ``$`` written as ``%24``, the filters echoed in between."""
    echoed = [(quote(name, safe=""), value) for name, value in filters]
    parts = [("%24api", api), *echoed, ("%24format", fmt), ("%24top", str(top))]
    parts.append(("%24skip", str(skip)))
    return base + "?" + "&".join(f"{name}={quote(value, safe='')}" for name, value in parts)


def select(world: World, api: str, params: Params) -> list[Fields]:
    return READS[api](world, params)
