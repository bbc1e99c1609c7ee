"""Which receipt batches each integration has marked processed (domain.md §8.1: the dialog's
Unprocessed Batches and History tabs). The flag belongs to the integration, not the batch: two
client databases can each process the same batch."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime


class ProcessedBatch(SQLModel, table=True):
    __tablename__ = "processed_batch"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    integration_id: str = Field(primary_key=True, max_length=40)
    batch_id: str = Field(primary_key=True, max_length=16)
    processed_at: datetime = Field(sa_type=UTCDateTime)
