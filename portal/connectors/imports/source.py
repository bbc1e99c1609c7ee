"""How a vendor plugs into the import (issue 17 acceptance 4): a ``Source`` says what to call
the vendor and reads every enabled property into ``Plan``s; ``runs`` records the run and
``writes`` applies it, the same for AMSI and MRI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from portal.auth.models import Integration
from portal.connectors.errors import IntegrationNotConnected
from portal.connectors.imports.rows import Plan


@dataclass
class Read:
    """One run's reading: a plan per property read, and a failure per property that could not
    be read (any failure fails the run: nothing is applied)."""

    plans: list[Plan] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """One vendor's side of an import run."""

    #: ``AMSI``, ``MRI``: in the failed run's last error.
    vendor: str
    #: ``LeaseEvent.data["origin"]`` of the run's lease events (``amsi_import``, ``mri_import``).
    origin: str
    #: ``Integration.last_error["code"]`` of a failed run.
    failed_code: str
    #: Reads every enabled property, given the workspace's date.
    read: Callable[[date], Read]


def connection_of(integration: Integration, *, server: str, fields: str) -> dict[str, Any]:
    """The integration's connection, or ``IntegrationNotConnected`` naming what is missing: a
    connection, its password, the properties to import. ``server`` names what the portal
    calls (``its eSite``), ``fields`` the connection's fields."""
    connection = integration.connection or {}
    missing = [
        what
        for what, absent in (
            ("connection", not connection.get("url")),
            ("password", not integration.connection_password),
            ("property_ids", not connection.get("property_ids")),
        )
        if absent
    ]
    if missing:
        raise IntegrationNotConnected(
            f"Integration {integration.id!r} cannot reach {server}: no "
            f"{', no '.join(missing)}. Set its connection ({fields}) with "
            "PATCH /v1/integrations/{id}.",
            extra={"missing": missing},
        )
    return connection
