"""Benchmark: one "Send Balances" call with 50,000 residents, against a bare baseline.

Usage (repository root, after the README install):

    .venv/bin/python bench/balances.py [--rows 50000] [--database-url postgresql+psycopg://...]

It starts ``portal serve`` on a fresh database (a temporary SQLite file unless a URL is given;
the PostgreSQL database must be empty), creates a workspace, an integration and a token over
HTTP, and times:

0. the bare baseline (issue 19): N ten-column rows into each of four tables, Core
   ``executemany``, one transaction, on a fresh database;
1. the same-rows baseline (issue 4): the same numbers of rows the intake writes, inserted into
   each of those tables through SQLAlchemy Core ``executemany`` in one transaction, on a fresh
   database;
2. a first intake of N new residents (``POST /v1/integration/balances``);
3. a second identical call (a new Idempotency-Key, so it is processed again: nothing changes).

Targets: first intake <= 3x the bare baseline (issue 19) and <= 3x the same-rows one
(issue 4), second <= 0.5x the first (issue 19; issue 4 asked 1.5x), the server's peak memory
(VmHWM) < 500 MB. Prints the numbers, the ratios and PASS/FAIL; exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Boolean, Column, DateTime, Integer, MetaData, String, Table, insert
from sqlmodel import SQLModel

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import portal.models  # noqa: E402,F401
from portal.core.db import make_engine  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402

UNITS_PER_PROPERTY = 100


def body(n: int) -> dict[str, Any]:
    rows = []
    for i in range(n):
        prop = i // UNITS_PER_PROPERTY
        rows.append(
            {
                "resident_id": f"t{i:07d}",
                "property_id": f"P{prop:05d}",
                "property_address": f"{1000 + prop} Chapala St",
                "unit_id": f"U{i:07d}",
                "unit": f"#{i % UNITS_PER_PROPERTY + 1}",
                "name": f"Resident {i}",
                "email": f"resident{i}@example.com" if i % 5 else None,
                "phone": f"505-555-{i % 10000:04d}",
                "rent": f"{700 + i % 900}.00",
                "balance": f"{(i * 37) % 2000}.{i % 100:02d}",
                "disputed": "0.00",
                "pay_full_balance_only": i % 7 == 0,
                "payment_accepted": "allowed",
                "lease_start": "2025-09-01",
                "lease_end": None,
                "move_in": "2025-09-01",
            }
        )
    return {
        "bank_account": {"account_number": "00037029011", "routing_number": ""},
        "residents": rows,
    }


def baseline(url: str, n: int) -> float:
    """Core executemany of the rows the intake writes, per table, one transaction."""
    engine = make_engine(url)
    upgrade(engine)
    now = datetime(2026, 1, 5, 14, tzinfo=UTC)
    ws = "ws_baseline"
    tables = SQLModel.metadata.tables
    with engine.begin() as conn:
        conn.execute(
            insert(tables["workspace"]).values(
                id=ws,
                name="b",
                seed=1,
                settings={},
                clock_mode="simulated",
                clock_now=now,
                clock_offset_us=0,
                start_mode="simulated",
                start_at=now,
                jobs_cursor_at=now,
                jobs_cursor_rank=0,
                jobs_cursor_name="",
                created_at=now,
            )
        )
    props = (n + UNITS_PER_PROPERTY - 1) // UNITS_PER_PROPERTY
    rows: dict[str, list[dict[str, Any]]] = {
        "property": [
            {
                "workspace_id": ws,
                "id": f"prop{p}",
                "name": f"P{p}",
                "external_id": f"P{p}",
                "street": "s",
                "city": "",
                "state": "",
                "postal_code": "",
                "created_at": now,
            }
            for p in range(props)
        ],
        "unit": [
            {
                "workspace_id": ws,
                "id": f"unit{i}",
                "property_id": f"prop{i // UNITS_PER_PROPERTY}",
                "name": f"#{i}",
                "external_id": f"U{i}",
                "created_at": now,
            }
            for i in range(n)
        ],
        "resident": [
            {
                "workspace_id": ws,
                "id": f"res{i}",
                "name": f"R{i}",
                "email": f"r{i}@x.com",
                "phone": "1",
                "status": "invite",
                "status_changed_at": now,
                "password_hash": None,
                "invite_code": f"code{i}",
                "property_id": "prop0",
                "unit_id": f"unit{i}",
                "merged_into": None,
                "has_paid": False,
                "created_at": now,
            }
            for i in range(n)
        ],
        "lease": [
            {
                "workspace_id": ws,
                "id": f"lease{i}",
                "unit_id": f"unit{i}",
                "status": "active",
                "rent_cents": 100,
                "due_day": 1,
                "start_date": now.date(),
                "end_date": None,
                "external_resident_id": f"t{i}",
                "payments": "allowed",
                "accounting_payments": "allowed",
                "pay_full_balance_only": False,
                "balance_cents": 5,
                "disputed_cents": 0,
                "move_in": None,
                "balance_at": now,
                "uncollected_balance_cents": None,
                "ended_at": None,
                "created_at": now,
            }
            for i in range(n)
        ],
        "lease_resident": [
            {"workspace_id": ws, "lease_id": f"lease{i}", "resident_id": f"res{i}"}
            for i in range(n)
        ],
        "lease_event": [
            {
                "workspace_id": ws,
                "id": f"lev{i}",
                "lease_id": f"lease{i}",
                "seq": i,
                "kind": "created",
                "data": {"origin": "balances"},
                "at": now,
            }
            for i in range(n)
        ],
        "accounting_record": [
            {
                "workspace_id": ws,
                "id": f"acr{i}",
                "integration_id": "int",
                "external_resident_id": f"t{i}",
                "external_property_id": "P",
                "external_unit_id": f"U{i}",
                "name": "n",
                "email": None,
                "phone": None,
                "rent_cents": 1,
                "balance_cents": 1,
                "disputed_cents": 0,
                "property_address": "a",
                "unit_name": "u",
                "move_in": None,
                "lease_start": None,
                "lease_end": None,
                "payment_accepted": "allowed",
                "pay_full_balance_only": False,
                "received_at": now,
            }
            for i in range(n)
        ],
        "email": [
            {
                "workspace_id": ws,
                "id": f"msg{i}",
                "seq": i,
                "to": f"r{i}@x.com",
                "subject": "s",
                "kind": "invitation",
                "body": "b",
                "data": {"c": i},
                "sent_at": now,
            }
            for i in range(n * 4 // 5)
        ],
    }
    started = time.perf_counter()
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            conn.execute(insert(tables[name]), table_rows)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return elapsed


def bare_baseline(url: str, n: int) -> float:
    """Issue 19's baseline: one transaction inserting N ten-column rows into each of four
    tables with SQLAlchemy Core ``executemany``, on a fresh database."""
    engine = make_engine(url)
    meta = MetaData()
    tables = [
        Table(
            f"bare_{k}",
            meta,
            Column("id", String, primary_key=True),
            Column("workspace_id", String),
            Column("name", String),
            Column("email", String),
            Column("phone", String),
            Column("amount_cents", Integer),
            Column("seq", Integer),
            Column("status", String),
            Column("active", Boolean),
            Column("created_at", DateTime),
        )
        for k in range(4)
    ]
    meta.drop_all(engine)
    meta.create_all(engine)
    now = datetime(2026, 1, 5, 14, tzinfo=UTC).replace(tzinfo=None)  # a plain DATETIME
    rows = [
        {
            "id": f"row{i:07d}",
            "workspace_id": "ws_bare",
            "name": f"Resident {i}",
            "email": f"resident{i}@example.com",
            "phone": f"505-555-{i % 10000:04d}",
            "amount_cents": 70000 + i,
            "seq": i,
            "status": "invite",
            "active": True,
            "created_at": now,
        }
        for i in range(n)
    ]
    started = time.perf_counter()
    with engine.begin() as conn:
        for table in tables:
            conn.execute(insert(table), rows)
    elapsed = time.perf_counter() - started
    meta.drop_all(engine)
    engine.dispose()
    return elapsed


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--port", type=int, default=8097)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    serve_url = args.database_url or f"sqlite:///{tmp / 'intake.db'}"
    base_url = args.database_url or f"sqlite:///{tmp / 'baseline.db'}"
    if args.database_url:
        print("note: with one PostgreSQL URL the baseline runs first, in workspace ws_baseline")

    payload = json.dumps(body(args.rows)).encode()
    print(
        f"rows: {args.rows:,}   body: {len(payload) / 1e6:.1f} MB   database: "
        f"{'PostgreSQL' if args.database_url else 'SQLite'}"
    )
    t_base = baseline(base_url, args.rows)
    print(f"baseline (Core executemany, same rows per table): {t_base:.2f} s")
    bare_url = args.database_url or f"sqlite:///{tmp / 'bare.db'}"
    t_bare = bare_baseline(bare_url, args.rows)
    print(f"bare baseline (Core executemany, 4 tables x N ten-column rows): {t_bare:.2f} s")

    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": serve_url,
        "PORTAL_OPERATOR_KEY": "bench",
        "PORTAL_SECRET_KEY": "bench-secret",
    }
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/portal"), "serve", "--port", str(args.port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=600)
        for _ in range(100):
            try:
                if http.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        op = {"Authorization": "Bearer bench"}
        http.post(
            "/v1/sandbox/workspaces",
            headers=op,
            json={"landlord": {"email": "bench@x.test", "password": "benchbench"}},
        )
        ll = {
            "Authorization": "Bearer "
            + http.post(
                "/v1/auth/login", json={"email": "bench@x.test", "password": "benchbench"}
            ).json()["access_token"]
        }
        integration = http.post(
            "/v1/integrations", headers=ll, json={"name": "bench", "kind": "landlord12"}
        ).json()
        token = http.post(f"/v1/integrations/{integration['id']}/tokens", headers=ll).json()
        auth = {"Authorization": f"Bearer {token['token']}", "Content-Type": "application/json"}
        times = []
        for key in ("first", "second"):
            started = time.perf_counter()
            response = http.post(
                "/v1/integration/balances",
                content=payload,
                headers={**auth, "Idempotency-Key": key},
            )
            times.append(time.perf_counter() - started)
            if response.status_code != 200:
                print(f"{key} call failed: {response.status_code} {response.text[:500]}")
                return 1
            summary = {k: v for k, v in response.json().items() if k != "residents"}
            print(
                f"{key} intake: {times[-1]:.2f} s   {args.rows / times[-1]:,.0f} rows/s   "
                f"peak so far {peak_rss_mb(server.pid):.0f} MB   {summary}"
            )
        peak = peak_rss_mb(server.pid)
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)

    r1, r2 = times[0] / t_base, times[1] / times[0]
    r0 = times[0] / t_bare
    checks = [
        (f"first intake / bare baseline = {r0:.2f}x (issue 19 target <= 3x)", r0 <= 3),
        (f"first intake / same-rows baseline = {r1:.2f}x (issue 4 target <= 3x)", r1 <= 3),
        (f"second / first = {r2:.2f}x (issue 19: keep <= 0.5x; issue 4: <= 1.5x)", r2 <= 0.5),
        (f"server peak memory = {peak:.0f} MB (target < 500 MB)", peak < 500),
    ]
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
