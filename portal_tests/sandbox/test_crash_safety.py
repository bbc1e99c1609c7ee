"""Crash safety (issue 14, scope 7; architecture.md §4): a server killed with SIGKILL in the
middle of a month's clock advance, inside a job as well as between jobs, then restarted and asked
for the same advance again, ends with the world an uninterrupted advance gives: the same
payments, batches, reversals, balances, e-mails, events and ID counters, and ``portal check``
clean.

One world is built in three workspaces with the same seed, so their IDs match: a reference,
advanced a month in one go, and two victims, whose advances are killed and resumed. The world is
a scenario (autopay on two days of the month, a PINless debit card, magic ACH returns before and
after the deposit, a chargeback card, a scheduled payment, a refund and a return stored as
events for mid-month, a pending resident, a late payer, a lockbox client) plus a portfolio of
autopay leases written with Core inserts, as ``bench/payments_month.py`` does. The victims are
compared with the reference row by row, every workspace-owned table, in the database.

Two ways to kill, one per victim:

- the fault hook (``portal/core/faults.py``): the server, started with ``PORTAL_FAULT_KILL_AT``,
  kills itself inside the autopay job once the day's payments are inserted, at the end of a
  settlement before its commit, and at the end of a stored event before its commit;
- from outside: the test watches the committed clock from its own connection and SIGKILLs the
  server's process group as soon as the advance has committed past an instant, wherever it is.

Every server start costs a second or two (imports, migrations check), so one test does both.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel, col
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.core import faults
from portal.core.db import bulk_insert, session_scope
from portal.core.ids import IdCounter, reserve
from portal.core.jobs import ScheduledEvent
from portal.journal.models import SEQ_KIND as JOURNAL_SEQ
from portal.notifications.models import Email
from portal.payments import check
from portal.payments.models import (
    DepositBatch,
    Payment,
    PaymentSource,
    PaymentStatus,
    PaymentType,
    RecurringPayment,
    RecurringStatus,
    SourceStatus,
    SourceType,
)
from portal.payments.sources import bank_magic
from portal.properties import accounts as accounts_service
from portal.properties import service as properties
from portal.properties.models import DepositAccountType
from portal.residents.models import (
    Lease,
    LeaseEvent,
    LeaseResident,
    LeaseStatus,
    PaymentsSetting,
    Resident,
    ResidentStatus,
)
from portal.workspaces.models import Workspace
from portal.workspaces.service import minter
from portal_tests.factories import OPERATOR
from portal_tests.live import LiveServer

SEED = 14_007
START = "2026-06-12T14:00:00Z"  # Friday, 10:00 New York
LOADED = "2026-06-15T14:00:00Z"  # the scenario's payments are made by Monday 10:00
TARGET = datetime(2026, 7, 16, 14, 0, tzinfo=UTC)  # autopay on July 1 and 15, settlements, ...
AUTOPAY_DAY = datetime(2026, 7, 1, 4, 0, tzinfo=UTC)  # 00:00 New York
REFUND_AT = "2026-07-08T15:00:00Z"
AUTOPAY_LEASES = 150
ROUTING = "110000000"
PASSWORD = "s3cret-pass"

#: Columns random by design (salted hashes, secret digests), not an advance's work; every other
#: column of every workspace-owned table must match.
RANDOM_COLUMNS = {
    ("resident", "password_hash"),
    ("resident", "invite_code"),
    ("landlord_user", "password_hash"),
}
#: The workspace row's own identity; its clock, job cursor, seed and settings are compared.
WORKSPACE_IDENTITY = {"id", "name", "created_at"}
#: Invite codes are random secrets: the invitation e-mails of two worlds differ there.
INVITE_CODE = re.compile(r'(invite code is |"invite_code": ")[A-Za-z0-9_-]+')


# --- the world --------------------------------------------------------------------------------


def _resident(key: str, unit: str, rent: str, **lease: Any) -> dict[str, Any]:
    return {
        "key": key,
        "name": f"{key.title()} Tenant",
        "email": f"{key}@example.com",
        "unit": unit,
        "state": "approved",
        "password": PASSWORD,
        "lease": {"rent": rent, "start_date": "2025-01-01", **lease},
    }


def _bank(key: str, resident: str, account: str) -> dict[str, Any]:
    return {
        "key": key,
        "resident": resident,
        "type": "bank_account",
        "routing_number": ROUTING,
        "account_number": account,
    }


def _card(key: str, resident: str, number: str, **extra: Any) -> dict[str, Any]:
    card = {"type": "card", "number": number, "exp_month": 12, "exp_year": 2030, **extra}
    return {"key": key, "resident": resident, **card}


def scenario() -> dict[str, Any]:
    """Every kind of work a month's advance does, a few residents each."""
    units = [{"key": f"elm-{n}", "name": f"Unit {n}", "external_id": f"E-{n}"} for n in range(9)]
    return {
        "scenario": "crash-safety",
        "integrations": [
            {"key": "promas", "name": "Promas", "kind": "landlord12", "lockbox_format": "promas"}
        ],
        "properties": [
            {
                "key": "elm",
                "name": "Elm Court",
                "external_id": "ELM",
                "address": {"street": "12 Elm Court", "city": "Santa Fe", "state": "NM"},
                "units": units,
            }
        ],
        "deposit_accounts": [
            {
                "key": "elm-rent",
                "type": "rent",
                "account_number": "0020021234",
                "routing_number": ROUTING,
                "properties": ["elm"],
            },
            {
                "key": "elm-deposits",
                "type": "security_deposit",
                "account_number": "0020025678",
                "routing_number": ROUTING,
                "properties": ["elm"],
            },
        ],
        "residents": [
            _resident("ann", "elm-0", "900.00", external_resident_id="t-ann", balance="900.00"),
            _resident("bob", "elm-1", "800.00", due_day=15),
            _resident("cara", "elm-2", "1000.00", external_resident_id="t-cara", balance="1000.00"),
            _resident("dan", "elm-3", "950.00"),
            _resident("eve", "elm-4", "700.00"),
            _resident("fay", "elm-5", "1200.00", external_resident_id="t-fay", balance="1200.00"),
            _resident("gus", "elm-6", "850.00", external_resident_id="t-gus", balance="850.00"),
            _resident("hal", "elm-7", "640.00"),
            _resident("ivy", "elm-8", "990.00", due_day=15),
        ],
        "pending_residents": [
            {
                "key": "pam",
                "name": "Pam Pending",
                "email": "pam@example.com",
                "password": PASSWORD,
                "property": "elm",
            }
        ],
        "payment_sources": [
            _bank("ann-bank", "ann", "000123456789"),
            _card("bob-card", "bob", "4242424242424242"),
            _bank("cara-bank", "cara", "1000000001"),  # returned R01 after the deposit
            _bank("dan-bank", "dan", "2000000003"),  # returned R03 before the deposit
            _card("eve-card", "eve", "4000000000000259"),  # charged back
            _card("fay-debit", "fay", "4000056655665556", funding="debit"),  # PINless, 15:45
            _bank("gus-bank", "gus", "000555666777"),
            _bank("ivy-bank", "ivy", "000888999000"),
        ],
        "recurring_payments": [
            {"resident": "ann", "source": "ann-bank", "amount": "900.00", "day_of_month": 1},
            {"resident": "bob", "source": "bob-card", "amount": "800.00", "day_of_month": 15},
            {"resident": "cara", "source": "cara-bank", "amount": "1000.00", "day_of_month": 1},
            {"resident": "dan", "source": "dan-bank", "amount": "950.00", "day_of_month": 1},
            # Short: an insufficient-payment alert.
            {"resident": "fay", "source": "fay-debit", "amount": "1100.00", "day_of_month": 1},
            # Charges on July 15 for the last time, then ends.
            {
                "resident": "ivy",
                "source": "ivy-bank",
                "amount": "990.00",
                "day_of_month": 15,
                "end_month": "2026-07",
            },
        ],
        "payments": [
            {
                "key": "ann-deposit",
                "resident": "ann",
                "source": "ann-bank",
                "amount": "500.00",
                "type": "security_deposit",
                "at": "2026-06-12T15:00:00Z",
            },
            {
                "key": "eve-june",
                "resident": "eve",
                "source": "eve-card",
                "amount": "700.00",
                "at": "2026-06-12T15:30:00Z",
            },
            {
                "key": "gus-scheduled",
                "resident": "gus",
                "source": "gus-bank",
                "amount": "850.00",
                "at": "2026-06-12T16:00:00Z",
                "date": "2026-06-20",  # a Saturday: business date Monday 6/22
            },
        ],
        # After the load's last instant: stored as events that the month's advance runs.
        "reversals": [
            {
                "payment": "ann-deposit",
                "action": "refund",
                "at": REFUND_AT,
            },
            {
                "payment": "gus-scheduled",
                "action": "return",
                "code": "R10",
                "at": "2026-07-09T16:00:00Z",
            },
        ],
        "advance_to": LOADED,
    }


def add_autopay_portfolio(session: Session, workspace_id: str, n: int) -> None:
    """``n`` leases of one property, each with an approved resident, a bank account and autopay
    on the 1st, written with Core inserts (as the bench does: the service path would hash a
    password per resident). Every other lease is integrated, every tenth pays 100.00 short, and
    a few accounts are magic: returned after the deposit with R29 (unauthorized: the resident is
    flagged) or before it with R01."""
    ws = session.get(Workspace, workspace_id)
    assert ws is not None
    ids, now = minter(ws, session), ws.clock_now
    tower = properties.bulk_create_properties(
        session, ids, [("TOWER", "400 Cerrillos Rd")], now=now
    )
    units = properties.bulk_create_units(
        session, ids, [(f"T-{i:04d}", tower["TOWER"], f"#{i + 1}") for i in range(n)], now=now
    )
    accounts_service.create_deposit_account(
        session,
        ids,
        type=DepositAccountType.RENT,
        name="Tower operating",
        account_number="0030031234",
        routing_number=ROUTING,
        property_ids=[tower["TOWER"]],
        now=now,
    )
    residents, leases = ids.many("resident", n, "res"), ids.many("lease", n, "lease")
    lease_events = ids.many("lease_event", n, "lev")
    first_seq = reserve(session, workspace_id, "lease_event_seq", n)
    sources, schedules = (
        ids.many("payment_source", n, "src"),
        ids.many("recurring_payment", n, "rec"),
    )
    rents = [(600 + (i * 37) % 900) * 100 for i in range(n)]
    accounts = [
        {3: "1000000029", 13: "2000000001"}.get(i % 40, f"{7000000000 + i}") for i in range(n)
    ]
    ws_ = {"workspace_id": workspace_id}
    table_rows: list[tuple[type[SQLModel], list[dict[str, Any]]]] = [
        (
            Resident,
            [
                {
                    **ws_,
                    "id": residents[i],
                    "name": f"Tower Tenant {i}",
                    "email": f"tower{i}@example.com",
                    "phone": f"505-555-{i:04d}",
                    "status": ResidentStatus.APPROVED,
                    "status_changed_at": now,
                    "password_hash": None,
                    "invite_code": None,
                    "property_id": tower["TOWER"],
                    "unit_id": units[f"T-{i:04d}"],
                    "merged_into": None,
                    "has_paid": False,
                    "created_at": now,
                }
                for i in range(n)
            ],
        ),
        (
            Lease,
            [
                {
                    **ws_,
                    "id": leases[i],
                    "unit_id": units[f"T-{i:04d}"],
                    "status": LeaseStatus.ACTIVE,
                    "rent_cents": rents[i],
                    "due_day": 1,
                    "start_date": date(2026, 7, 1),
                    "end_date": None,
                    "external_resident_id": f"t{i:05d}" if i % 2 == 0 else None,
                    "payments": PaymentsSetting.ALLOWED,
                    "accounting_payments": None,
                    "pay_full_balance_only": False,
                    "balance_cents": rents[i],
                    "balance_basis_cents": rents[i],
                    "balance_basis_seq": 0,
                    "disputed_cents": 0,
                    "move_in": None,
                    "balance_at": now,
                    "uncollected_balance_cents": None,
                    "ended_at": None,
                    "created_at": now,
                }
                for i in range(n)
            ],
        ),
        (
            LeaseResident,
            [{**ws_, "lease_id": leases[i], "resident_id": residents[i]} for i in range(n)],
        ),
        (
            LeaseEvent,
            [
                {
                    **ws_,
                    "id": lease_events[i],
                    "lease_id": leases[i],
                    "seq": first_seq + i,
                    "kind": "created",
                    "data": {"origin": "invite", "resident_ids": [residents[i]]},
                    "at": now,
                }
                for i in range(n)
            ],
        ),
        (
            PaymentSource,
            [
                {
                    **ws_,
                    "id": sources[i],
                    "resident_id": residents[i],
                    "type": SourceType.BANK_ACCOUNT,
                    "last4": accounts[i][-4:],
                    "status": SourceStatus.ACTIVE,
                    "disabled_reason": None,
                    "routing_number": ROUTING,
                    "brand": None,
                    "funding": None,
                    "exp_month": None,
                    "exp_year": None,
                    "magic": bank_magic(accounts[i]),
                    "created_at": now,
                }
                for i in range(n)
            ],
        ),
        (
            RecurringPayment,
            [
                {
                    **ws_,
                    "id": schedules[i],
                    "lease_id": leases[i],
                    "resident_id": residents[i],
                    "source_id": sources[i],
                    "type": PaymentType.RENT,
                    "amount_cents": rents[i] - (10_000 if i % 10 == 0 else 0),
                    "day_of_month": 1,
                    "end_month": None,
                    "next_date": date(2026, 7, 1),
                    "status": RecurringStatus.ACTIVE,
                    "last_payment_id": None,
                    "created_at": now,
                    "ended_at": None,
                }
                for i in range(n)
            ],
        ),
    ]
    for model, rows in table_rows:
        bulk_insert(session, model, rows)


def landlord_email(workspace_id: str) -> str:
    # Landlord e-mails are unique across workspaces (docs/decisions.md, Auth): the one value
    # that differs between the worlds, mapped back before comparing.
    return f"pm+{workspace_id}@portal.test"


def build_world(server: LiveServer, engine: Engine, workspace_id: str) -> None:
    created = httpx.post(
        f"{server.base}/v1/sandbox/workspaces",
        json={
            "id": workspace_id,
            "name": "Crash safety",
            "seed": SEED,
            "clock": {"now": START},
            "landlord": {"email": landlord_email(workspace_id), "password": PASSWORD},
        },
        headers=server.operator,
        timeout=60,
    )
    assert created.status_code == 201, created.text
    loaded = httpx.post(
        f"{server.base}/v1/sandbox/workspaces/{workspace_id}/scenario",
        json=scenario(),
        headers=server.operator,
        timeout=60,
    )
    assert loaded.status_code == 200, loaded.text
    with session_scope(engine) as session:
        add_autopay_portfolio(session, workspace_id, AUTOPAY_LEASES)


# --- servers and advances -----------------------------------------------------------------------


class Servers:
    """``portal serve`` (one worker, the default) on the suite's database, one at a time, all
    logging to one file."""

    def __init__(self, database_url: str, log_path: Path) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.current: LiveServer | None = None

    def start(self, kill_at: str = "") -> LiveServer:
        assert self.current is None
        # Always set: a PORTAL_FAULT_KILL_AT in the caller's environment must not leak in.
        env = {faults.ENV: kill_at}
        self.current = LiveServer(self.database_url, self.log_path, env=env).start()
        return self.current

    def stop(self) -> None:
        if self.current is not None:
            self.current.stop()
            self.current = None

    def kill(self) -> None:
        if self.current is not None:
            self.current.kill()
            self.current = None

    def reap(self) -> int:
        """Wait for the server to die on its own; its exit status (-9: SIGKILL). Anything left
        in its process group (several workers) is killed too."""
        server, self.current = self.current, None
        assert server is not None
        assert server.proc is not None
        try:
            status = server.proc.wait(timeout=60)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(timeout=30)
            server.proc = None
        return status

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture
def servers(database_url: str, engine: Engine, tmp_path: Path) -> Iterator[Servers]:
    # ``engine``: the suite wipes the database after the test, the servers' writes included.
    started = Servers(database_url, tmp_path / "portal-serve.log")
    try:
        yield started
    finally:
        started.kill()


def advance(server: LiveServer, workspace_id: str) -> httpx.Response:
    return httpx.post(
        f"{server.base}/v1/sandbox/workspaces/{workspace_id}/clock/advance",
        json={"to": TARGET.isoformat()},
        headers=server.operator,
        timeout=120,
    )


def advanced_jobs(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["now"]) == TARGET
    jobs: list[dict[str, Any]] = body["jobs"]
    return jobs


def crash_by_hook(servers: Servers, engine: Engine, victim: str, point: str) -> Workspace:
    """Start the server with ``PORTAL_FAULT_KILL_AT=point`` and advance the victim: the server
    kills itself there. Returns the workspace row as committed."""
    server = servers.start(kill_at=point)
    try:
        response = advance(server, victim)
    except httpx.TransportError:
        pass
    else:
        pytest.fail(f"the advance answered {response.status_code} instead of dying at {point}")
    assert servers.reap() == -signal.SIGKILL
    assert f"SIGKILL at {point}" in servers.log()
    assert_consistent(engine, victim)
    return committed(engine, victim)


def crash_from_outside(
    servers: Servers, engine: Engine, database_url: str, victim: str, past: datetime
) -> Workspace:
    """Advance the victim and SIGKILL the server's process group as soon as the advance has
    committed its clock past ``past``, wherever it is then (most likely inside the next job;
    the test reads the committed clock from its own connection every millisecond). Returns the
    workspace row as committed."""
    server = servers.current or servers.start()
    watcher = create_engine(database_url, poolclass=NullPool)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool, watcher.connect() as conn:
            request = pool.submit(advance, server, victim)
            while True:
                now = conn.execute(
                    select(col(Workspace.clock_now)).where(col(Workspace.id) == victim)
                ).scalar_one()
                conn.rollback()  # the next read sees the next commit
                if now >= past:
                    break
                assert not request.done(), f"the advance ended first: {request.result()}"
                time.sleep(0.001)
            servers.kill()
            with pytest.raises(httpx.TransportError):
                request.result(timeout=60)
    finally:
        watcher.dispose()
    assert_consistent(engine, victim)
    ws = committed(engine, victim)
    assert ws.clock_now < TARGET, "the kill came after the advance ended"
    return ws


# --- reading the database -----------------------------------------------------------------------


def committed(engine: Engine, workspace_id: str) -> Workspace:
    with Session(engine, expire_on_commit=False) as session:
        ws = session.get(Workspace, workspace_id)
        assert ws is not None
        return ws


def assert_consistent(engine: Engine, workspace_id: str) -> None:
    """The ledger invariants hold in the world a crash left (architecture.md §4)."""
    with Session(engine) as session:
        report = check.run(session, workspace_id)
    assert report.ok, [f"{v.rule}: {v.subject}: {v.detail}" for v in report.violations[:20]]


def _cell(value: Any, landlord: tuple[str, str]) -> Any:
    if isinstance(value, dict | list):
        value = json.dumps(value, sort_keys=True, default=str)
    if isinstance(value, str):
        return INVITE_CODE.sub(r"\1<random>", value.replace(*landlord))
    return value


def snapshot(engine: Engine, workspace_id: str, *, as_of: str) -> dict[str, Any]:
    """Table name -> (column names, sorted rows) of everything the workspace owns, without the
    workspace ID and the random values; the landlord's e-mail is written as ``as_of``'s."""
    landlord = (landlord_email(workspace_id), landlord_email(as_of))
    out: dict[str, Any] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name == Workspace.__tablename__:
                columns = [c for c in table.c if c.name not in WORKSPACE_IDENTITY]
                where = table.c.id == workspace_id
            elif table.name == IdCounter.__tablename__:
                columns = [table.c.kind, table.c.next_value]
                # The journal's counter numbers requests made, not the world's rows.
                where = (table.c.scope == workspace_id) & (table.c.kind != JOURNAL_SEQ)
            elif table.name.startswith("journal_"):
                continue  # the request journal: the requests made (with their times), not the world
            elif "workspace_id" in table.c:
                columns = [
                    c
                    for c in table.c
                    if c.name != "workspace_id" and (table.name, c.name) not in RANDOM_COLUMNS
                ]
                where = table.c.workspace_id == workspace_id
            else:
                continue  # global (server secrets)
            rows = [
                tuple(_cell(v, landlord) for v in row)
                for row in conn.execute(select(*columns).where(where))
            ]
            out[table.name] = ([c.name for c in columns], sorted(rows, key=repr))
    return out


def assert_same_world(engine: Engine, reference: str, victim: str) -> None:
    expected = snapshot(engine, reference, as_of=reference)
    got = snapshot(engine, victim, as_of=reference)
    problems = []
    for name, (columns, rows) in expected.items():
        other = got[name][1]
        if rows == other:
            continue
        problems.append(
            f"{name} ({len(rows)} rows in the reference, {len(other)} in {victim}; {columns}):\n"
            + "".join(
                f"  only in the reference: {r}\n" for r in [r for r in rows if r not in other][:5]
            )
            + "".join(f"  only in {victim}: {r}\n" for r in [r for r in other if r not in rows][:5])
        )
    assert not problems, f"{victim} diverged from the reference:\n" + "\n".join(problems)


def assert_rich_month(engine: Engine, workspace_id: str) -> None:
    """The reference month did the work a crash could spoil (else the test would prove little)."""
    after = datetime.fromisoformat(LOADED)
    with Session(engine) as session:
        july = session.scalars(
            select(col(Payment.status)).where(
                col(Payment.workspace_id) == workspace_id,
                col(Payment.business_date) >= date(2026, 7, 1),
            )
        ).all()
        kinds = session.scalars(
            select(col(Email.kind)).where(
                col(Email.workspace_id) == workspace_id, col(Email.sent_at) > after
            )
        ).all()
        events = session.scalars(
            select(col(ScheduledEvent.status)).where(
                col(ScheduledEvent.workspace_id) == workspace_id,
                col(ScheduledEvent.kind) == "reversals.scheduled",
            )
        ).all()
        batch_kinds = session.scalars(
            select(col(DepositBatch.kind)).where(col(DepositBatch.workspace_id) == workspace_id)
        ).all()
    assert len(july) >= AUTOPAY_LEASES + 5
    assert {PaymentStatus.COMPLETED, PaymentStatus.RETURNED} <= set(july)
    assert {
        "payment_receipt",
        "insufficient_payment",
        "late_payment",
        "pending_reminder",
        "batch_deposit_report",
        "payment_returned",
        "chargeback_received",
        "refund_processing",
    } <= {str(k) for k in kinds}
    assert events == ["done", "done"]  # the refund and the return, stored by the scenario
    assert {str(k) for k in batch_kinds} == {"deposit", "reversal"}


# --- the tests ----------------------------------------------------------------------------------


def test_a_fault_point_names_a_job_and_a_point() -> None:
    assert faults.parse("payments.run_due") == "payments.run_due:start"
    assert faults.parse(" payments.run_due:charged ") == "payments.run_due:charged"
    assert faults.parse("") is None
    assert faults.parse(None) is None
    # Unset in the suite's own process: every point is a no-op.
    assert faults.KILL_AT is None
    faults.reached("payments.run_due", "charged")


def test_autopay_receipts_go_out_in_payment_id_order_whatever_the_plan(
    client: TestClient, engine: Engine
) -> None:
    """Found by the crash test on PostgreSQL: the day's autopay receipts were e-mailed in the
    order the database returned the new payments (no ORDER BY), so their e-mail IDs depended on
    the plan, which a resumed advance (a bigger table, dead rows) could change. Here every
    PostgreSQL transaction is made to scan tables in storage order, where the payments lie in
    schedule order; the receipts must still follow the payment IDs. (SQLite reads them through
    the primary key, in ID order, either way.)"""
    doc = scenario()
    payers = ("ann", "dan", "eve", "gus", "hal")
    doc["residents"] = [r for r in doc["residents"] if r["key"] in payers]
    doc["payment_sources"] = [
        _bank(f"{key}-bank", key, f"00012345{n:04d}") for n, key in enumerate(payers)
    ]
    doc["recurring_payments"] = [
        {"resident": key, "source": f"{key}-bank", "amount": "100.00", "day_of_month": 1}
        for key in payers
    ]
    for section in ("pending_residents", "payments", "reversals", "integrations"):
        doc.pop(section)
    created = client.post(
        "/v1/sandbox/workspaces",
        json={"name": "Receipt order", "seed": SEED, "clock": {"now": START}},
        headers=OPERATOR,
    )
    assert created.status_code == 201, created.text
    ws = created.json()["id"]
    loaded = client.post(f"/v1/sandbox/workspaces/{ws}/scenario", json=doc, headers=OPERATOR)
    assert loaded.status_code == 200, loaded.text

    def storage_order(conn: Any) -> None:
        for scan in ("indexscan", "indexonlyscan", "bitmapscan"):
            conn.exec_driver_sql(f"SET LOCAL enable_{scan} = off")

    postgres = engine.dialect.name == "postgresql"
    if postgres:
        event.listen(engine, "begin", storage_order)
    try:
        advanced = client.post(
            f"/v1/sandbox/workspaces/{ws}/clock/advance",
            json={"to": "2026-07-01T12:00:00Z"},
            headers=OPERATOR,
        )
    finally:
        if postgres:
            event.remove(engine, "begin", storage_order)
    assert advanced.status_code == 200, advanced.text
    mails = client.get(
        f"/v1/sandbox/workspaces/{ws}/mailbox",
        params={"kind": "payment_receipt", "limit": 500},
        headers=OPERATOR,
    ).json()["data"]
    receipts = [m["data"]["payment_id"] for m in mails if m["sent_at"].startswith("2026-07-01")]
    assert len(receipts) == len(payers)
    assert receipts == sorted(receipts)
    # The test has teeth: the schedules charge in schedule-ID order, which is not ID order.
    with Session(engine) as session:
        by_schedule = session.execute(
            select(col(Payment.id))
            .where(col(Payment.workspace_id) == ws, col(Payment.recurring_id).is_not(None))
            .order_by(col(Payment.recurring_id))
        ).scalars()
        assert list(by_schedule) != sorted(receipts)


def test_a_month_killed_and_resumed_is_the_uninterrupted_month(
    servers: Servers, engine: Engine, database_url: str
) -> None:
    """``hooked`` is killed by the fault hook at the end of a settlement, inside autopay and at
    the end of a stored refund event; ``sigkilled`` from outside, once the autopay day has
    begun. After the restarts both finish the advance and equal the reference, row for row;
    ``portal check`` passes."""
    reference, hooked, sigkilled = "ws_crash_reference", "ws_crash_hooked", "ws_crash_sigkilled"
    server = servers.start()
    for workspace_id in (reference, hooked, sigkilled):
        build_world(server, engine, workspace_id)
    reference_jobs = advanced_jobs(advance(server, reference))
    assert_rich_month(engine, reference)

    # From outside, as soon as the autopay day has begun (its midnight purge committed).
    crash_from_outside(servers, engine, database_url, sigkilled, AUTOPAY_DAY)

    # At the end of the first settlement (June 16, 06:00 New York), before its commit: the
    # batches of June 15 (the day-15 autopay) stay closed.
    ws = crash_by_hook(servers, engine, hooked, "payments.settlement:end")
    assert ws.jobs_cursor_at < datetime(2026, 6, 16, 10, 0, tzinfo=UTC)
    with Session(engine) as session:
        statuses = session.scalars(
            select(col(DepositBatch.status)).where(
                col(DepositBatch.workspace_id) == hooked,
                col(DepositBatch.business_date) == date(2026, 6, 15),
            )
        ).all()
    assert statuses
    assert {str(s) for s in statuses} == {"closed"}

    # Inside autopay on July 1: the payments inserted, the schedules not moved on. All of it is
    # rolled back: the last commit is the midnight purge before it.
    ws = crash_by_hook(servers, engine, hooked, "payments.run_due:charged")
    assert (ws.jobs_cursor_at, ws.jobs_cursor_name) == (AUTOPAY_DAY, "idempotency_keys.purge")
    with Session(engine) as session:
        july = session.scalars(
            select(col(Payment.id)).where(
                col(Payment.workspace_id) == hooked, col(Payment.business_date) >= date(2026, 7, 1)
            )
        ).all()
    assert july == []

    # At the end of the stored refund event (July 8), before its commit: it stays pending.
    ws = crash_by_hook(servers, engine, hooked, "reversals.scheduled:end")
    assert ws.clock_now < datetime.fromisoformat(REFUND_AT)
    with Session(engine) as session:
        events = session.scalars(
            select(col(ScheduledEvent.status)).where(
                col(ScheduledEvent.workspace_id) == hooked,
                col(ScheduledEvent.kind) == "reversals.scheduled",
            )
        ).all()
    assert events == ["pending", "pending"]

    server = servers.start()
    for victim in (hooked, sigkilled):
        jobs = advanced_jobs(advance(server, victim))
        # The resumed advance runs the tail of the reference's jobs: nothing twice, none skipped.
        assert jobs, f"{victim}: the advance had ended before the last crash"
        assert jobs == reference_jobs[len(reference_jobs) - len(jobs) :], victim
    servers.stop()
    for victim in (hooked, sigkilled):
        assert_same_world(engine, reference, victim)
    result = CliRunner().invoke(cli, ["check", "--database-url", database_url])
    assert result.exit_code == 0, result.output
