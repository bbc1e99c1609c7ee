"""The journal's tables: its entries, packed per write (``JournalBatch``), and the request and
response bodies they refer to, stored once per workspace however often they recur (the read
cache answers the same bytes again and again).

Append-only. Each entry has a ``seq`` from a per-workspace counter (``ids.reserve``): within a
workspace, the order in which entries reached the database. The workspace ``""`` is the
operator-wide journal of requests no workspace can be named for. Rows go with their workspace
(``wipe_workspace``); a reset keeps them (``KEPT_ON_RESET``), with the counter, so ``seq``
never repeats.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Text
from sqlmodel import Field, SQLModel

from portal.core.db import UTCDateTime
from portal.workspaces.service import KEPT_ON_RESET

#: The ``ids`` counter kind of the entries' ``seq`` (scope: the workspace).
SEQ_KIND = "journal_entry"
#: The workspace of the operator-wide journal.
UNATTRIBUTED = ""


class JournalBatch(SQLModel, table=True):
    """The entries one write added to one workspace's journal, ``first_seq`` to ``last_seq``,
    packed in one row (``portal.journal.packing``): a busy client sends the same request again
    and again, and a row per request cost more than the request itself (issue 20, measured in
    docs/decisions.md). No foreign key on ``workspace_id``: the operator-wide journal is ``""``."""

    __tablename__ = "journal_batch"
    __table_args__ = {"info": {KEPT_ON_RESET: SEQ_KIND}}

    workspace_id: str = Field(primary_key=True, max_length=64)
    first_seq: int = Field(primary_key=True, sa_type=BigInteger)
    last_seq: int = Field(sa_type=BigInteger)
    #: Real time (the server's clock) the first and the last request arrived.
    first_at: datetime = Field(sa_type=UTCDateTime)
    last_at: datetime = Field(sa_type=UTCDateTime)
    #: JSON: the distinct request shapes and, per entry, its time, latency and shape.
    entries: str = Field(sa_type=Text)


class JournalBody(SQLModel, table=True):
    """A body as stored: secrets redacted, truncated to the setting's size. ``last_seq`` is the
    newest entry that refers to it, so trimming entries below a ``seq`` trims bodies with it."""

    __tablename__ = "journal_body"
    __table_args__ = {"info": {KEPT_ON_RESET: True}}

    workspace_id: str = Field(primary_key=True, max_length=64)
    #: BLAKE2b (16 bytes, hex) of the stored text: never of the original, which held secrets.
    digest: str = Field(primary_key=True, max_length=32)
    content: str = Field(sa_type=Text)
    truncated: bool = False
    last_seq: int = Field(sa_type=BigInteger)
