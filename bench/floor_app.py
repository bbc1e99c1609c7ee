"""The floor for this stack (issue 7's benchmark, perf-baseline.md): a bare FastAPI app whose
endpoint reads one SQLite row by primary key, in an ``async def`` calling a SQLModel session
inline (no thread-pool hop), and returns it. Run by ``bench/receipts_http.py``:

    FLOOR_DB=/tmp/floor.db uvicorn bench.floor_app:app --port 8101
"""

from __future__ import annotations

import os

from fastapi import FastAPI
from sqlalchemy import event
from sqlmodel import Field, Session, SQLModel, create_engine


class Item(SQLModel, table=True):
    id: int = Field(primary_key=True)
    name: str
    amount_cents: int
    status: str


engine = create_engine(
    f"sqlite:///{os.environ.get('FLOOR_DB', '/tmp/portal-floor.db')}",
    connect_args={"check_same_thread": False},
)


@event.listens_for(engine, "connect")
def _wal(dbapi_connection, _record):  # type: ignore[no-untyped-def]
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


SQLModel.metadata.create_all(engine)
with Session(engine) as _session:
    if _session.get(Item, 1) is None:
        _session.add_all(
            Item(id=n, name=f"item {n}", amount_cents=n * 100, status="deposited")
            for n in range(1, 101)
        )
        _session.commit()

app = FastAPI()


@app.get("/items/{item_id}")
async def get_item(item_id: int) -> Item | None:
    with Session(engine) as session:
        return session.get(Item, item_id)
