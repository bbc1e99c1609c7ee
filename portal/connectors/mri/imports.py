"""The MRI import's wire side: what "Sync Now" and the daily sync read from MRI's ``api.asp``
(issue 17; seed 002 "Future Residents", "Blocking Online Payments"; connectors.md §0.1, §2.4,
§2.8, §2.9). The run itself — recording, applying, the review — is the vendor-neutral
``connectors.imports``, the same as AMSI's.

For each property the connection enables it reads ``MRI_S-PMRM_ResidentLeaseDetailsByPropertyID``
with ``RMPROPID``, every page (``client.get_all`` follows ``NextPageLink`` / ``nextLink``, as
RT's import wizard did, §0.1, §2.8). That one answer carries current, co-, other and future
(``New``) residents with their leases' balances and block flags (§2.4; the reference MRI lists
``New`` residents there as well as in ``PendingMoveIns``, docs/reference-mri.md), so the import
asks nothing else; ``import_rows`` says who of them is imported and how.

A property fails the run, named with the reason, when MRI cannot be reached or answers what is
not a document of the format asked for (``client.TransportError``: a refused connection, a
timeout, an HTTP status other than 200 — a wrong login is a 401 —, a broken body; the later
properties are then not asked), or when an ``Error`` record stands in the answer (MRI's refusal
inside a 200, §2.6: an unknown property, a fault).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from portal.auth.models import Integration
from portal.connectors.imports.rows import error_entry
from portal.connectors.imports.source import Read, Source, connection_of
from portal.connectors.mri import client, import_rows

#: ``Integration.last_error["code"]`` of a failed run.
FAILED_CODE = "mri_import_failed"
#: ``LeaseEvent.data["origin"]`` of the import's lease events.
ORIGIN = "mri_import"


def source(integration: Integration) -> Source:
    """The MRI side of a run of ``integration``: its login and enabled properties, or
    ``IntegrationNotConnected`` naming what is missing."""
    connection = connection_of(
        integration,
        server="MRI",
        fields="url, client_id, database, user, partner_key, password, property_ids",
    )
    login = client.Login.of(connection, integration.connection_password)
    property_ids = [str(p) for p in connection["property_ids"]]
    return Source(
        vendor="MRI",
        origin=ORIGIN,
        failed_code=FAILED_CODE,
        read=lambda today: read(login, property_ids, today),
    )


def read(login: client.Login, property_ids: Sequence[str], today: date) -> Read:
    """Every property's plan, and the failures (one per property that failed)."""
    out = Read()
    for property_id in property_ids:
        label = f"{client.LEASE_DETAILS} (RMPROPID {property_id})"
        try:
            records = client.get_all(login, client.LEASE_DETAILS, {"RMPROPID": property_id})
        except client.TransportError as exc:
            out.failures.append(error_entry(property_id, None, None, None, f"{label}: {exc}"))
            break  # no usable answer from MRI at all: the later properties are not asked
        refused = next((r for r in records if "Error" in r), None)
        if refused is not None:
            message = refused["Error"] or "(no message)"
            out.failures.append(
                error_entry(
                    property_id, None, None, None, f"{label}: MRI refused the call: {message}"
                )
            )
            continue
        out.plans.append(import_rows.plan(property_id, records, today))
    return out
