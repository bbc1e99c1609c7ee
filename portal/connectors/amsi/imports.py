"""The AMSI import's wire side: what "Sync Now" and the daily sync read from eSite (issue 16;
seed 001 "RentTrack can do the initial import"; connectors.md §0.1, §1.3, §1.4, §1.9). The run
itself — recording, applying, the review — is the vendor-neutral ``connectors.imports``.

For each property the connection enables it calls Leasing ``GetPropertyUnits`` and
``GetPropertyResidents`` for lease statuses ``C`` and ``N``, as RT's 04:15 sync and import
wizard did (§0.1). A call fails when the eSite cannot be reached or answers what is not a
Leasing document (``client.TransportError``), or refuses it with an error other than "no data";
the property is then a failure of the run, named with the reason. Otherwise its leases become a
plan (``import_rows``: what a lease becomes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from xml.etree.ElementTree import Element

from portal.auth.models import Integration
from portal.connectors.amsi import client, import_rows, leasing
from portal.connectors.imports.rows import error_entry
from portal.connectors.imports.source import Read, Source, connection_of

#: ``Integration.last_error["code"]`` of a failed run.
FAILED_CODE = "amsi_import_failed"
#: ``LeaseEvent.data["origin"]`` of the import's lease events.
ORIGIN = "amsi_import"


@dataclass(frozen=True)
class PropertyRead:
    """What eSite answered for one property."""

    property_id: str
    units: list[leasing.Unit]
    leases: list[leasing.Lease]


class _CallFailed(Exception):
    def __init__(self, reason: str, *, reachable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        #: False: no usable answer from eSite at all (``client.TransportError``); the
        #: properties after this one are not asked.
        self.reachable = reachable


def source(integration: Integration) -> Source:
    """The AMSI side of a run of ``integration``: its eSite login and enabled properties, or
    ``IntegrationNotConnected`` naming what is missing."""
    connection = connection_of(
        integration,
        server="its eSite",
        fields="url, portfolio, user_id, password, property_ids",
    )
    login = client.Login.of(connection, integration.connection_password)
    property_ids = [str(p) for p in connection["property_ids"]]
    return Source(
        vendor="AMSI",
        origin=ORIGIN,
        failed_code=FAILED_CODE,
        read=lambda today: read(login, property_ids, today),
    )


def read(login: client.Login, property_ids: Sequence[str], today: date) -> Read:
    """Every property's plan, or the failures."""
    reads, failures = fetch(login, property_ids)
    plans = [import_rows.plan(r.property_id, r.units, r.leases, today) for r in reads]
    return Read(plans=plans, failures=failures)


# --- reading eSite ------------------------------------------------------------------------------


def fetch(
    login: client.Login, property_ids: Sequence[str]
) -> tuple[list[PropertyRead], list[dict[str, Any]]]:
    """Every property's units and current and notice leases, and the failures (one per
    property that failed). After a failure to reach eSite the later properties are not asked."""
    reads: list[PropertyRead] = []
    failures: list[dict[str, Any]] = []
    for property_id in property_ids:
        try:
            reads.append(_read_property(login, property_id))
        except _CallFailed as exc:
            failures.append(error_entry(property_id, None, None, None, exc.reason))
            if not exc.reachable:
                break
    return reads, failures


def _read_property(login: client.Login, property_id: str) -> PropertyRead:
    units = leasing.parse_units(
        _leasing_call(login, "GetPropertyUnits", leasing.units_request(property_id))
    )
    leases: list[leasing.Lease] = []
    for status in leasing.LEASE_STATUSES:
        root = _leasing_call(
            login,
            "GetPropertyResidents",
            leasing.residents_request(property_id, status),
            label=f"GetPropertyResidents (leasestatus {status})",
        )
        leases.extend(leasing.parse_residents(root))
    return PropertyRead(property_id=property_id, units=units, leases=leases)


def _leasing_call(
    login: client.Login, operation: str, xml_data: str, *, label: str | None = None
) -> Element:
    """One Leasing call's result document; an ``InternetTrafficResponse`` saying "no data" is
    returned (the parsers read it as an empty list, §1.4), any other error raises."""
    label = label or operation
    try:
        answer = client.call(login, client.LEASING, operation, xml_data)
    except client.TransportError as exc:
        raise _CallFailed(f"{label}: {exc}", reachable=False) from None
    root = answer.root
    if leasing.is_error(root):
        code, description = client.error_of(root) or (-1, "")
        if not leasing.no_data(code, description):
            raise _CallFailed(
                f"{label}: eSite refused the call: {code} {description}".rstrip(), reachable=True
            )
        return root
    expected = leasing.UNITS_ROOT if operation == "GetPropertyUnits" else leasing.RESIDENTS_ROOT
    if leasing.local_name(root.tag) != expected:
        # RT: "Unknown AMSI response" (§1.4).
        raise _CallFailed(
            f"{label}: unknown answer <{root.tag}>, expected <{expected}>", reachable=True
        )
    return root
