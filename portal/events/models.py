"""Events: what happened in a workspace, in the order it happened (issue 20). Append-only.

An event is written in the transaction of the change it describes (``portal.events.service``),
so a rolled-back request leaves none and a committed change always has its event. ``seq``
orders every event of a workspace: the counter that numbers them is locked from the moment a
transaction writes its events until it commits, so events become visible in ``seq`` order and
a poller reading ``since`` its last ``seq`` never misses one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_workspace_seq", "workspace_id", "seq"),
        Index("ix_event_workspace_kind_seq", "workspace_id", "kind", "seq"),
    )

    workspace_id: str = Field(foreign_key="workspace.id", primary_key=True, max_length=64)
    id: str = Field(primary_key=True, max_length=40)
    seq: int
    #: The event's type (``payment.completed``); the API calls it ``type``.
    kind: str = Field(max_length=64)
    #: What changed and how, at the instant of the change (a return's code, a status reached).
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = Field(sa_type=UTCDateTime)
    #: The object the event is about (``payment``, ``pay_...``); rendered as the API returns it.
    subject_type: str | None = Field(default=None, max_length=32)
    subject_id: str | None = Field(default=None, max_length=40)
    #: An event of one integration's own business (its Send Balances, its connector's
    #: deliveries): only that integration, the landlord and the operator see it.
    integration_id: str | None = Field(default=None, max_length=40)
