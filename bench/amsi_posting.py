"""Benchmark: a month of autopay for 1,000 leases posted to the reference eSite (issue 16).

Usage (repository root, after the README install):

    .venv/bin/python bench/amsi_posting.py [--leases 1000] [--database-url URL]

It starts the reference eSite with its CLI (``portal reference amsi``, a real server on a free
port), builds the autopay portfolio of ``bench/payments_month.py`` (the same generator: one
approved resident per lease with a bank account and autopay on the 1st) and connects it to the
eSite: an AMSI integration with the eSite's URL and login, every unit mapped to an eSite unit
(``001|<building>|<unit>``), every lease to an eSite lease (its ResiID), and the eSite seeded
with those leases over its admin API. Then it advances the workspace clock one month in this
process, as ``portal clock advance --by P1M`` does: each job's payments are posted over HTTP
after the job, in order (AddPayment per payment, UpdateSettlementData per journal at 22:30).

It prints the month's wall time, the deliveries sent and their rate, the time the same month
takes without a connection (the posting's cost is the difference), and checks that every
delivery was accepted once: the eSite's journals hold exactly the portal's payments.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text, update
from sqlmodel import col

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import portal.models  # noqa: E402, F401
from portal.auth import service as auth_service  # noqa: E402
from portal.auth.models import IntegrationKind  # noqa: E402
from portal.auth.schemas import ConnectionIn  # noqa: E402
from portal.core.clock import FixedClock  # noqa: E402
from portal.core.db import make_engine, session_scope  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402
from portal.outbox.models import Delivery, DeliveryState  # noqa: E402
from portal.properties.models import Property, Unit  # noqa: E402
from portal.residents.models import Lease  # noqa: E402
from portal.sandbox import service as sandbox  # noqa: E402
from portal.workspaces import schemas as ws_schemas  # noqa: E402
from portal.workspaces.service import get_workspace, minter  # noqa: E402

_spec = importlib.util.spec_from_file_location("payments_month", ROOT / "bench/payments_month.py")
assert _spec
assert _spec.loader
payments_month = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(payments_month)

PORTFOLIO, USER, PASSWORD = "Bench Portfolio", "rt", "pw"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_esite(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/portal"), "reference", "amsi", "--port", str(port)],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/_ref/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"the reference eSite did not start; see {log}")


def connect(engine: Any, workspace_id: str, esite: str) -> list[dict[str, Any]]:
    """Map the portfolio onto eSite property 001 and connect an AMSI integration; returns the
    eSite leases to seed."""
    leases: list[dict[str, Any]] = []
    with session_scope(engine) as session:
        ws = get_workspace(session, workspace_id)
        integration = auth_service.create_integration(
            session,
            minter(ws, session),
            name="eSite",
            kind=IntegrationKind.AMSI,
            features=[],
            processing_options={},
            now=payments_month.START,
            connection=ConnectionIn(
                url=f"{esite}/amsiweb/edexweb/esite",
                portfolio=PORTFOLIO,
                user_id=USER,
                password=PASSWORD,
                merchant_id="24",
                property_ids=[],
            ),
        )
        session.execute(
            update(Property)
            .where(col(Property.workspace_id) == workspace_id)
            .values(integration_id=integration.id)
        )
        rows = session.execute(
            select(
                col(Lease.id), col(Lease.unit_id), col(Lease.balance_cents), col(Unit.property_id)
            )
            .join(
                Unit,
                (col(Unit.workspace_id) == col(Lease.workspace_id))
                & (col(Unit.id) == col(Lease.unit_id)),
            )
            .where(col(Lease.workspace_id) == workspace_id)
            .order_by(col(Unit.id))
        ).all()
        buildings = {p: f"{n + 1:02d}" for n, p in enumerate(sorted({r[3] for r in rows}))}
        for n, (lease_id, unit_id, balance, property_id) in enumerate(rows):
            bldg, unit_no, resi = buildings[property_id], f"{n + 1}", "1"
            session.execute(
                update(Unit)
                .where(col(Unit.workspace_id) == workspace_id, col(Unit.id) == unit_id)
                .values(external_id=f"001|{bldg}|{unit_no}")
            )
            session.execute(
                update(Lease)
                .where(col(Lease.workspace_id) == workspace_id, col(Lease.id) == lease_id)
                .values(external_resident_id=resi, external_scope=f"001|{bldg}|{unit_no}")
            )
            leases.append(
                {
                    "BldgID": bldg,
                    "UnitID": unit_no,
                    "ResiID": resi,
                    "EndBalance": f"{balance / 100:.2f}",
                    "occustatuscode": "C",
                    "occupants": [{"OccuFirstName": "Resident", "OccuLastName": str(n)}],
                }
            )
    return leases


def analyze(engine: Any) -> None:
    """What autovacuum does soon after a bulk load (bench/payments_month.py says why)."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))


def month(engine: Any, workspace_id: str) -> tuple[float, Any]:
    analyze(engine)
    with session_scope(engine) as session:
        started = time.perf_counter()
        result = sandbox.advance(
            session,
            workspace_id,
            ws_schemas.ClockAdvance(by="P1M"),
            system=FixedClock(payments_month.START),
            checkpoint=session.commit,
        )
        return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leases", type=int, default=1000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-amsi-"))
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    engine = make_engine(url)
    upgrade(engine)
    proc, esite = start_esite(tmp / "esite.log")
    try:
        # The same month without a connection: the baseline the posting adds to.
        with session_scope(engine) as session:
            payments_month.generate(session, "ws_plain", args.leases)
        plain, _ = month(engine, "ws_plain")
        with session_scope(engine) as session:
            payments_month.generate(session, "ws_amsi", args.leases)
        leases = connect(engine, "ws_amsi", esite)
        admin = httpx.Client(base_url=f"{esite}/_ref", timeout=60)
        admin.post("/portfolios", json={"name": PORTFOLIO, "user_id": USER, "password": PASSWORD})
        seeded = admin.put(
            f"/portfolios/{PORTFOLIO}/properties/001/residents", json={"leases": leases}
        )
        assert seeded.status_code == 200, seeded.text
        seconds, _result = month(engine, "ws_amsi")
        with session_scope(engine) as session:
            states = dict(
                session.execute(
                    select(col(Delivery.state), func.count())
                    .where(col(Delivery.workspace_id) == "ws_amsi")
                    .group_by(col(Delivery.state))
                ).all()
            )
        journals = admin.get(f"/portfolios/{PORTFOLIO}/journals").json()["data"]
        calls = admin.get("/calls", params={"operation": "AddPayment"}).json()["data"]
    finally:
        proc.terminate()
        proc.wait(10)
    sent = states.get(DeliveryState.SENT, 0)
    total = sum(states.values())
    posted = sum(len(j["payments"]) for j in journals)
    print(f"leases: {args.leases:,}  database: {engine.dialect.name}")
    print(f"month without a connection: {plain:.2f} s")
    print(f"month posting to the eSite: {seconds:.2f} s  (posting adds {seconds - plain:.2f} s)")
    print(
        f"deliveries: {total:,} ({sent:,} sent; {states})  "
        f"rate: {total / max(seconds - plain, 1e-9):,.0f} deliveries/s of posting time, "
        f"{total / seconds:,.0f}/s overall"
    )
    print(
        f"eSite: {len(calls):,} AddPayment calls, {posted:,} payments in {len(journals)} journals, "
        f"settled: {sum(1 for j in journals if j['state'] == 'settled')}"
    )
    ok = sent == total and posted == len(calls) == args.leases
    print("PASS" if ok else "FAIL: not every delivery was accepted exactly once")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
