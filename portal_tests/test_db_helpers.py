"""``portal.core.db``'s bulk helpers (issue 19): ``bulk_insert``'s driver-ready path writes what
Core's ``executemany`` writes, and ``unindexed`` keeps SQLite on the primary key."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from portal.core.db import bulk_insert, bulk_insert_columns, unindexed
from portal.events.models import Event
from portal.properties.models import Property, Unit
from portal.residents.models import Lease, LeaseEvent, LeaseStatus, Resident
from portal.workspaces.models import Workspace

NOW = datetime(2026, 7, 6, 14, 0, 0, 123456, tzinfo=UTC)


def _workspace(session: Session, ws: str) -> None:
    session.add(
        Workspace(
            id=ws,
            name=ws,
            seed=1,
            settings={},
            clock_mode="simulated",
            start_mode="simulated",
            clock_now=NOW,
            start_at=NOW,
            jobs_cursor_at=NOW,
            created_at=NOW,
        )
    )
    session.flush()


def _places(session: Session, ws: str, n: int) -> None:
    bulk_insert(
        session,
        Property,
        [
            {
                "workspace_id": ws,
                "id": "prop_0",
                "name": "Oak",
                "external_id": "OAK",
                "street": "2118 Oak Street",
                "city": "",
                "state": "",
                "postal_code": "",
                "created_at": NOW,
            }
        ],
    )
    bulk_insert(
        session,
        Unit,
        [
            {
                "workspace_id": ws,
                "id": f"unit_{k:04d}",
                "property_id": "prop_0",
                "name": f"#{k}",
                "external_id": f"U{k}",
                "created_at": NOW,
            }
            for k in range(n)
        ],
    )


def _leases(ws: str, n: int) -> list[dict[str, Any]]:
    # No due_day, balance or scope: the columns' scalar defaults fill them, as Core would.
    return [
        {
            "workspace_id": ws,
            "id": f"lease_{k:04d}",
            "unit_id": f"unit_{k:04d}",
            "status": LeaseStatus.ACTIVE,
            "rent_cents": 98000 + k,
            "start_date": date(2026, 7, 1),
            "end_date": None if k % 2 else date(2027, 6, 30),
            "external_resident_id": f"t{k:04d}",
            "payments": "allowed",
            "accounting_payments": "allowed",
            "balance_at": NOW if k % 3 else None,
            "created_at": NOW,
        }
        for k in range(n)
    ]


def _read(session: Session, ws: str) -> list[tuple[Any, ...]]:
    leases = session.execute(
        select(Lease.__table__).where(col(Lease.workspace_id) == ws).order_by(col(Lease.id))  # type: ignore[attr-defined]
    ).all()
    return [tuple(row)[1:] for row in leases]  # all but the workspace


def test_the_driver_path_writes_what_core_writes(engine: Engine) -> None:
    with Session(engine) as session:
        for ws in ("ws_fast", "ws_core"):
            _workspace(session, ws)
            _places(session, ws, 7)
        bulk_insert(session, Lease, _leases("ws_fast", 7))
        # Core's own executemany, the path bulk_insert takes on PostgreSQL.
        session.connection().execute(Lease.__table__.insert(), _leases("ws_core", 7))  # type: ignore[attr-defined]
        events = [
            {
                "workspace_id": "ws_fast",
                "id": f"lev_{k}",
                "lease_id": "lease_0000",
                "seq": k,
                "kind": "created",
                "data": {"origin": "balances", "resident_ids": [f"res_{k}"]},
                "at": NOW,
            }
            for k in range(3)
        ]
        bulk_insert(session, LeaseEvent, events)

        fast, core = _read(session, "ws_fast"), _read(session, "ws_core")
        lease = session.get(Lease, ("ws_fast", "lease_0001"))
        assert lease is not None
        defaults = (lease.due_day, lease.balance_cents, lease.external_scope)
        balance_at, status = lease.balance_at, lease.status
        stored = [
            e.data
            for e in session.scalars(
                select(LeaseEvent)
                .where(col(LeaseEvent.workspace_id) == "ws_fast")
                .order_by(col(LeaseEvent.seq))
            )
        ]
        session.rollback()

    assert fast == core
    assert defaults == (1, 0, "")  # left out, filled with the columns' scalar defaults
    assert balance_at == NOW  # microseconds and UTC survive
    assert status is LeaseStatus.ACTIVE
    assert stored == [e["data"] for e in events]


def test_unindexed_is_a_plain_column_except_on_sqlite() -> None:
    query = select(col(Resident.id)).where(unindexed(col(Resident.status)).in_(["approved"]))

    assert "+resident.status IN" in str(query.compile(dialect=sqlite.dialect()))
    assert "WHERE resident.status IN" in str(query.compile(dialect=postgresql.dialect()))


def test_sqlite_keeps_the_primary_key_for_a_bulk_status_update(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL plans by statistics; the helper changes nothing there
    statement = (
        "UPDATE resident SET status = 'current' WHERE workspace_id = :ws "
        f"AND id IN ({', '.join(f':r{k}' for k in range(500))}) AND {{}} IN (:approved)"
    )
    # Bound, and a chunk of 500 IDs, as mark_paying sends them.
    params = {"ws": "w", "approved": "approved", **{f"r{k}": f"res_{k}" for k in range(500)}}
    with engine.connect() as connection:
        plain = connection.execute(text("EXPLAIN QUERY PLAN " + statement.format("status")), params)
        plus = connection.execute(text("EXPLAIN QUERY PLAN " + statement.format("+status")), params)
        plans = [" ".join(str(r[-1]) for r in plain), " ".join(str(r[-1]) for r in plus)]

    assert "ix_resident_workspace_status" in plans[0]  # the trap the helper avoids
    assert "ix_resident_workspace_status" not in plans[1]


def test_rows_given_column_by_column_are_the_rows_given_as_dicts(engine: Engine) -> None:
    """``bulk_insert_columns`` (lists, and 1-tuples for a value every row shares) writes what
    ``bulk_insert`` writes, on either database's path."""
    with Session(engine) as session:
        for ws in ("ws_rows", "ws_cols"):
            _workspace(session, ws)
            _places(session, ws, 5)
        rows = _leases("ws_rows", 5)
        bulk_insert(session, Lease, rows)
        names = list(rows[0])
        columns: dict[str, Any] = {name: [row[name] for row in rows] for name in names}
        columns["workspace_id"] = ("ws_cols",)
        columns["created_at"] = (NOW,)
        bulk_insert_columns(session, Lease, 5, columns)

        by_rows, by_columns = _read(session, "ws_rows"), _read(session, "ws_cols")
        session.rollback()

    assert by_columns == by_rows


def test_a_column_of_the_wrong_length_is_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="'rent_cents'"):
        bulk_insert_columns(session, Lease, 3, {"id": ["a", "b", "c"], "rent_cents": [1, 2]})


def test_json_values_shared_repeated_or_distinct_are_each_written_as_given(
    engine: Engine,
) -> None:
    """A JSON column's bind processing runs once per object (issue 20: a month's events repeat
    one ``data`` dict per emit): a 1-tuple, one dict repeated, equal dicts and different ones
    all read back as given."""
    shared = {"status": "completed"}
    repeated = {"status": "returned", "return_code": "R01"}
    given: list[dict[str, Any]] = [repeated, {"n": 1}, repeated, {"n": 1}, {"n": 2}, repeated]
    with Session(engine) as session:
        _workspace(session, "ws_json")
        for prefix, data in (("a", (shared,)), ("b", given)):
            bulk_insert_columns(
                session,
                Event,
                6,
                {
                    "workspace_id": ("ws_json",),
                    "id": [f"ev_{prefix}{n}" for n in range(6)],
                    "seq": [n + (0 if prefix == "a" else 6) for n in range(6)],
                    "kind": ("payment.completed",),
                    "data": data,
                    "at": (NOW,),
                    "subject_type": ("payment",),
                    "subject_id": [f"pay_{n}" for n in range(6)],
                    "integration_id": (None,),
                },
            )
        read = session.execute(
            select(col(Event.data)).where(col(Event.workspace_id) == "ws_json").order_by(Event.seq)
        ).scalars()
        stored = list(read)
        session.rollback()

    assert stored == [shared] * 6 + given
