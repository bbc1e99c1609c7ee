"""Wire models of the import review (issue 16: "an import review records each run: new,
updated, unchanged, erred, with a reason per erred row, readable over the API"; issue 17: "the
same import review as AMSI" for MRI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from portal.connectors.models import ImportRun, ImportStatus
from portal.core.pagination import Page


class ImportCounts(BaseModel):
    """Leases read from the accounting system, by what the run did with them."""

    new: int = Field(description="Leases created (with their residents)")
    updated: int = Field(
        description="Leases changed: a lease field, the block flag, the balance, a resident "
        "added or changed"
    )
    unchanged: int = Field(description="Leases already as the accounting system has them")
    erred: int = Field(description="Leases not imported; `errors` says why")


class ImportRowError(BaseModel):
    """Where and why: an erred lease, or (``resi_id`` null) a call that failed."""

    property_id: str | None = Field(description="AMSI PropertyId; MRI PropertyID")
    bldg_id: str | None = Field(description="AMSI BldgID; MRI BuildingID")
    unit_id: str | None = Field(description="AMSI UnitID; MRI UnitID")
    resi_id: str | None = Field(
        description="AMSI ResiID; MRI ResidentNameID (the lease's primary resident)"
    )
    reason: str


class ImportProperty(BaseModel):
    property_id: str = Field(description="AMSI PropertyId; MRI PropertyID")
    units: int = Field(
        description="Units read (AMSI: GetPropertyUnits; MRI: the units of every entry of "
        "ResidentLeaseDetailsByPropertyID)"
    )
    leases: int = Field(
        description="Leases read for import (AMSI: current and notice leases, "
        "GetPropertyResidents; MRI: leases with a current or future resident)"
    )


class ImportRunRead(BaseModel):
    id: str
    integration_id: str
    status: ImportStatus = Field(
        description="completed: read and applied (rows may have erred); failed: the accounting "
        "system could not be read and nothing was applied"
    )
    trigger: str = Field(description="sync_now (landlord or operator) or schedule")
    counts: ImportCounts
    errors: list[ImportRowError]
    properties: list[ImportProperty]
    started_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, run: ImportRun) -> ImportRunRead:
        counts: dict[str, Any] = dict.fromkeys(("new", "updated", "unchanged", "erred"), 0)
        counts.update(run.counts)
        return cls(
            id=run.id,
            integration_id=run.integration_id,
            status=run.status,
            trigger=run.trigger,
            counts=ImportCounts(**counts),
            errors=[ImportRowError(**e) for e in run.errors],
            properties=[ImportProperty(**p) for p in run.properties],
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


ImportRunPage = Page[ImportRunRead]
