"""The workspace row: identity, ID seed, settings, and the clock that lives in the database.

The clock never moves backwards. ``jobs_cursor_*`` remember the last calendar job run, so an
advance that stopped part-way (crash, restart) continues exactly where it left off.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Text
from sqlmodel import Field, SQLModel

from portal.core.clock import ClockMode
from portal.core.db import StrEnumType, UTCDateTime


class Workspace(SQLModel, table=True):
    __tablename__ = "workspace"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    seed: int = Field(sa_type=BigInteger)
    settings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    clock_mode: ClockMode = Field(sa_type=StrEnumType(ClockMode))
    #: Simulated: the instant. Real: a floor the clock never reads below.
    clock_now: datetime = Field(sa_type=UTCDateTime)
    #: Real mode only: how far the operator has moved the clock past the system time.
    clock_offset_us: int = Field(default=0, sa_type=BigInteger)
    #: Where ``reset`` puts the clock back.
    start_mode: ClockMode = Field(sa_type=StrEnumType(ClockMode))
    start_at: datetime = Field(sa_type=UTCDateTime)
    jobs_cursor_at: datetime = Field(sa_type=UTCDateTime)
    jobs_cursor_rank: int = Field(default=0)
    jobs_cursor_name: str = Field(default="", max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)


class WorkspaceScenario(SQLModel, table=True):
    """A scenario loaded into a workspace, kept so ``reset`` can load it again
    (docs/scenarios-over-http.md). ``seq`` orders a workspace's loads; a reset replays them all.

    ``tokens`` keeps, per integration key, the SHA-256 digest (and last four characters) of the
    token the load minted, never the token: a reset puts the digest back on the replayed
    integration's token row, so the token the load answered keeps working.
    """

    __tablename__ = "workspace_scenario"

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    seq: int = Field(primary_key=True)
    scenario: str = Field(max_length=100)
    #: The validated document, as JSON (only the members the file gave).
    document: str = Field(sa_type=Text)
    tokens: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    #: The workspace settings before this load, for a reset to start from.
    settings_before: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    #: This load created the workspace (``POST /v1/sandbox/scenarios``, ``portal seed``).
    created: bool = False
    #: The workspace instant the load began (workspace time keeps a replayed world identical).
    loaded_at: datetime = Field(sa_type=UTCDateTime)
