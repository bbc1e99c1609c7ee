"""Import runs: one row per Sync Now or scheduled sync (issue 16, seed 001 "RentTrack can do
the initial import"), the import review a landlord reads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index
from sqlmodel import Field, SQLModel

from portal.core.db import StrEnumType, UTCDateTime


class ImportStatus(StrEnum):
    COMPLETED = "completed"
    """Every property was read and applied (some rows may have erred: see ``errors``)."""
    FAILED = "failed"
    """The accounting system could not be read (transport error, login refused); nothing was
    applied."""


class ImportRun(SQLModel, table=True):
    __tablename__ = "import_run"
    __table_args__ = (Index("ix_import_run_integration", "workspace_id", "integration_id", "seq"),)

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    seq: int = Field(sa_type=BigInteger)
    integration_id: str = Field(max_length=40)
    #: ``sync_now`` (landlord or operator) or ``schedule`` (the daily sync).
    trigger: str = Field(max_length=16)
    status: ImportStatus = Field(sa_type=StrEnumType(ImportStatus))
    #: ``{"new", "updated", "unchanged", "erred"}``: leases.
    counts: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: One entry per erred row or failed call: where and why.
    errors: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    #: Per property: units and leases read.
    properties: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    started_at: datetime = Field(sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
