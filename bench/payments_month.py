"""Benchmark: a month of autopay (issue 5), at 1,000 and 5,000 leases.

Usage (repository root, after the README install):

    .venv/bin/python bench/payments_month.py [--leases 1000 5000] [--repeat 3]
        [--database-url URL] [--no-analyze] [--profile DIR] [--keep]

For each size, in a fresh process (so peak memory is that size's own) and on a fresh database (a
temporary SQLite file unless a URL is given; on PostgreSQL each size gets its own workspace,
``ws_bench_month_<N>``, replaced if it exists), it:

1. generates a portfolio: one workspace; properties of 250 units, each with a rent deposit
   account; per unit an active lease starting on the 1st of next month with one approved
   resident (invited, invitation accepted), a bank account payment source and a recurring rent
   payment on day 1 (every tenth one pays 100.00 short of the rent: an insufficient-payment
   alert; every other lease is integrated, so settlement lowers its balance). The workspace,
   properties, units and deposit accounts go through the services; residents, leases, sources
   and schedules are Core ``executemany`` inserts of the rows the services write, IDs minted by
   ``portal.core.ids`` (the services' per-row ORM path and password hashing would take minutes at
   5,000 and are not what is measured). Not timed as part of the month. On PostgreSQL the
   database is then ANALYZEd, as autovacuum would soon after a bulk load (``--no-analyze``
   skips it: with no statistics the planner takes the freshly filled tables for near-empty and
   some daily queries nest-loop over every lease, minutes per month instead of seconds);
2. advances the workspace clock one month (``portal clock advance --by P1M`` does the same),
   from Monday 2026-06-15 10:00 New York through the autopay day (Wednesday 2026-07-01), its
   cut-off and the next morning's settlement, to 2026-07-15, every calendar job included;
3. runs ``portal check``'s invariant service on the workspace.

It prints, per size: payments created, seconds for the advance, payments per second through
creation + batching + settlement, ms per payment, peak memory during the advance (the process's
VmHWM, reset just before it), and the check's result; then the 5,000/1,000 time ratio and
PASS/FAIL against the targets (5,000-lease month < 15 s and <= 3 ms per payment on SQLite; the
5,000 run <= 5.5x the 1,000 run; the check passes). Exits 1 on a FAIL. The machine is shared and
noisy: ``--repeat R`` runs each size R times, interleaved, and reports the fastest advance; CPU
time is printed next to wall time. ``--profile DIR`` writes a cProfile of each advance
(``DIR/month-<N>.prof``) and prints its top functions (the profiler slows the run: don't quote
those times).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session, col

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import portal.models  # noqa: E402
from portal.auth.service import hash_password  # noqa: E402
from portal.core.clock import FixedClock  # noqa: E402
from portal.core.db import bulk_insert, make_engine, session_scope  # noqa: E402
from portal.core.ids import new_secrets, reserve  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402
from portal.main import gc_thresholds  # noqa: E402
from portal.notifications.models import Email  # noqa: E402
from portal.payments import check  # noqa: E402
from portal.payments.models import (  # noqa: E402
    DepositBatch,
    Payment,
    PaymentSource,
    PaymentType,
    RecurringPayment,
    RecurringStatus,
    SourceStatus,
    SourceType,
)
from portal.payments.recurring import next_occurrence  # noqa: E402
from portal.properties import accounts  # noqa: E402
from portal.properties import service as properties  # noqa: E402
from portal.properties.models import DepositAccountType  # noqa: E402
from portal.residents.models import (  # noqa: E402
    Lease,
    LeaseEvent,
    LeaseResident,
    LeaseStatus,
    PaymentsSetting,
    Resident,
    ResidentStatus,
)
from portal.sandbox import service as sandbox  # noqa: E402
from portal.workspaces import schemas as ws_schemas  # noqa: E402
from portal.workspaces.service import minter  # noqa: E402

UNITS_PER_PROPERTY = 250
START = datetime(2026, 6, 15, 14, 0, tzinfo=UTC)  # Monday, 10:00 New York
LEASE_START = date(2026, 7, 1)
ROUTING = "110000000"
TARGET_SECONDS = 15.0
TARGET_MS_PER_PAYMENT = 3.0
TARGET_RATIO = 5.5


def generate(session: Session, workspace_id: str, n: int) -> None:
    """The portfolio of ``n`` leases with monthly autopay (see the module docstring)."""
    created = sandbox.create_workspace(
        session,
        ws_schemas.WorkspaceCreate(
            id=workspace_id,
            name=f"Autopay month, {n:,} leases",
            seed=n,
            clock=ws_schemas.ClockIn(now=START),
            landlord=ws_schemas.LandlordIn(email=f"pm@{workspace_id}.test"),
        ),
        system_now=START,
    )
    ws, ids, now = created.workspace, minter(created.workspace, session), START
    props = properties.bulk_create_properties(
        session,
        ids,
        [
            (f"P{p:04d}", f"{1000 + p} Chapala St")
            for p in range((n + UNITS_PER_PROPERTY - 1) // UNITS_PER_PROPERTY)
        ],
        now=now,
    )
    property_of = [props[f"P{i // UNITS_PER_PROPERTY:04d}"] for i in range(n)]
    units = properties.bulk_create_units(
        session,
        ids,
        [
            (
                f"U{i:06d}",
                props[f"P{i // UNITS_PER_PROPERTY:04d}"],
                f"#{i % UNITS_PER_PROPERTY + 1}",
            )
            for i in range(n)
        ],
        now=now,
    )
    for p, property_id in enumerate(props.values()):
        accounts.create_deposit_account(
            session,
            ids,
            type=DepositAccountType.RENT,
            name=f"Operating {p}",
            account_number=f"{9876500000 + p}",
            routing_number=ROUTING,
            property_ids=[property_id],
            now=now,
        )
    password_hash = hash_password("s3cret-pass")  # one scrypt: every resident shares it
    resident_ids = ids.many("resident", n, "res")
    lease_ids = ids.many("lease", n, "lease")
    event_ids = ids.many("lease_event", n, "lev")
    first_seq = reserve(session, ws.id, "lease_event_seq", n)
    source_ids = ids.many("payment_source", n, "src")
    schedule_ids = ids.many("recurring_payment", n, "rec")
    codes = new_secrets(n)
    unit_ids = [units[f"U{i:06d}"] for i in range(n)]
    rents = [(700 + i % 900) * 100 for i in range(n)]
    first_charge = next_occurrence(1, START.date())
    bulk_insert(
        session,
        Resident,
        [
            {
                "workspace_id": ws.id,
                "id": resident_ids[i],
                "name": f"Resident {i}",
                "email": f"resident{i}@example.com",
                "phone": f"505-555-{i % 10000:04d}",
                "status": ResidentStatus.APPROVED,
                "status_changed_at": now,
                "password_hash": password_hash,
                "invite_code": codes[i],
                "property_id": property_of[i],
                "unit_id": unit_ids[i],
                "merged_into": None,
                "has_paid": False,
                "created_at": now,
            }
            for i in range(n)
        ],
    )
    bulk_insert(
        session,
        Lease,
        [
            {
                "workspace_id": ws.id,
                "id": lease_ids[i],
                "unit_id": unit_ids[i],
                "status": LeaseStatus.ACTIVE,
                "rent_cents": rents[i],
                "due_day": 1,
                "start_date": LEASE_START,
                "end_date": None,
                "external_resident_id": f"t{i:07d}" if i % 2 == 0 else None,
                "payments": PaymentsSetting.ALLOWED,
                "accounting_payments": None,
                "pay_full_balance_only": False,
                "balance_cents": rents[i],
                # The balance as the accounting system sent it: the ledger check's basis.
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
    )
    bulk_insert(
        session,
        LeaseResident,
        [
            {"workspace_id": ws.id, "lease_id": lease_ids[i], "resident_id": resident_ids[i]}
            for i in range(n)
        ],
    )
    bulk_insert(
        session,
        LeaseEvent,
        [
            {
                "workspace_id": ws.id,
                "id": event_ids[i],
                "lease_id": lease_ids[i],
                "seq": first_seq + i,
                "kind": "created",
                "data": {"origin": "invite", "resident_ids": [resident_ids[i]]},
                "at": now,
            }
            for i in range(n)
        ],
    )
    bulk_insert(
        session,
        PaymentSource,
        [
            {
                "workspace_id": ws.id,
                "id": source_ids[i],
                "resident_id": resident_ids[i],
                "type": SourceType.BANK_ACCOUNT,
                "last4": f"{i % 10000:04d}",
                "status": SourceStatus.ACTIVE,
                "disabled_reason": None,
                "routing_number": ROUTING,
                "brand": None,
                "funding": None,
                "exp_month": None,
                "exp_year": None,
                "magic": None,
                "created_at": now,
            }
            for i in range(n)
        ],
    )
    bulk_insert(
        session,
        RecurringPayment,
        [
            {
                "workspace_id": ws.id,
                "id": schedule_ids[i],
                "lease_id": lease_ids[i],
                "resident_id": resident_ids[i],
                "source_id": source_ids[i],
                "type": PaymentType.RENT,
                "amount_cents": rents[i] - (10_000 if i % 10 == 0 else 0),
                "day_of_month": 1,
                "end_month": None,
                "next_date": first_charge,
                "status": RecurringStatus.ACTIVE,
                "last_payment_id": None,
                "created_at": now,
                "ended_at": None,
            }
            for i in range(n)
        ],
    )


def vm_mb(field: str = "VmHWM") -> float:
    """The process's peak (``VmHWM``) or current (``VmRSS``) resident memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> bool:
    """Reset the process's peak RSS (Linux: ``echo 5 > /proc/self/clear_refs``)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def count_by(session: Session, column: Any, workspace_id: str) -> dict[str, int]:
    table = column.class_
    rows = session.execute(
        select(column, func.count()).where(table.workspace_id == workspace_id).group_by(column)
    ).all()
    return {str(k): int(v) for k, v in rows}


def child(n: int, url: str, profile: Path | None, *, analyze: bool) -> dict[str, Any]:
    """One size, in this process; returns the measurements."""
    # The collector as ``portal serve`` sets it (``portal.main``): the advance runs there.
    gc.set_threshold(*gc_thresholds)
    engine = make_engine(url)
    upgrade(engine)
    workspace_id = f"ws_bench_month_{n}"
    with session_scope(engine) as session:
        if session.get(portal.models.Workspace, workspace_id) is not None:
            sandbox.delete_workspace(session, workspace_id)
    started = time.perf_counter()
    with session_scope(engine) as session:
        generate(session, workspace_id, n)
    generated = time.perf_counter() - started
    if analyze and engine.dialect.name == "postgresql":
        # What autovacuum does within a minute or so of a bulk load: without statistics the
        # planner takes the new tables for empty (see the module docstring).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE"))

    rss_before = vm_mb("VmRSS")
    peak_reset = reset_peak()
    profiler = cProfile.Profile() if profile else None
    with session_scope(engine) as session:
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        result = sandbox.advance(
            session,
            workspace_id,
            ws_schemas.ClockAdvance(by="P1M"),
            system=FixedClock(START),
            checkpoint=session.commit,
        )
        if profiler:
            profiler.disable()
        advanced, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = vm_mb()
    if profiler and profile:
        profile.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile / f"month-{n}.prof")
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)

    with session_scope(engine) as session:
        payments = count_by(session, col(Payment.status), workspace_id)
        batches = count_by(session, col(DepositBatch.status), workspace_id)
        emails = count_by(session, col(Email.kind), workspace_id)
        started = time.perf_counter()
        report = check.run(session, workspace_id)
        checked = time.perf_counter() - started
    engine.dispose()
    jobs: dict[str, int] = {}
    for run in result.jobs:
        jobs[run.name] = jobs.get(run.name, 0) + 1
    return {
        "leases": n,
        "generate_s": generated,
        "advance_s": advanced,
        "advance_cpu_s": cpu,
        "payments": sum(payments.values()),
        "payment_statuses": payments,
        "batch_statuses": batches,
        "emails": emails,
        "jobs": jobs,
        "rss_before_mb": rss_before,
        "peak_mb": peak,
        "peak_is_advance_only": peak_reset,
        "check_ok": report.ok,
        "check_s": checked,
        "violations": [f"{v.rule}: {v.subject}: {v.detail}" for v in report.violations[:10]],
        "profiled": profiler is not None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leases", type=int, nargs="+", default=[1_000, 5_000])
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs per size; the fastest advance is reported"
    )
    parser.add_argument("--profile", type=Path, default=None, help="write cProfile stats here")
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="PostgreSQL: skip ANALYZE after generating the portfolio",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the SQLite files (to run `portal check` on)"
    )
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.database_url, args.profile, analyze=args.analyze)))
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"database: {database}   sizes: {', '.join(f'{n:,}' for n in args.leases)} leases")
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in args.leases}
    for k in range(args.repeat):  # sizes interleaved, so a noisy spell hits both
        for n in args.leases:
            url = args.database_url or f"sqlite:///{tmp / f'month-{n}-{k}.db'}"
            command = [sys.executable, __file__, "--child", str(n), "--database-url", url]
            if args.profile:
                command += ["--profile", str(args.profile)]
            if not args.analyze:
                command.append("--no-analyze")
            out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
            runs[n].append(json.loads(out.strip().splitlines()[-1]))
    results: dict[int, dict[str, Any]] = {}
    for n in args.leases:
        r = results[n] = min(runs[n], key=lambda run: float(run["advance_s"]))
        per_s = r["payments"] / r["advance_s"] if r["advance_s"] else float("inf")
        ms = 1000 * r["advance_s"] / r["payments"] if r["payments"] else float("nan")
        print(
            f"{n:>6,} leases: generated in {r['generate_s']:.1f} s; month advance "
            f"{r['advance_s']:.2f} s (CPU {r['advance_cpu_s']:.2f} s), {r['payments']:,} payments, "
            f"{per_s:,.0f} payments/s, "
            f"{ms:.2f} ms/payment, peak memory {r['peak_mb']:.0f} MB "
            f"({r['rss_before_mb']:.0f} MB before the advance)"
            + ("" if r["peak_is_advance_only"] else " (process peak)")
            + (" [profiled]" if r["profiled"] else "")
        )
        if len(runs[n]) > 1:
            times = ", ".join(f"{run['advance_s']:.2f}" for run in runs[n])
            print(f"        advance of each run: {times} s (the fastest is shown)")
        print(
            f"        payments {r['payment_statuses']}  batches {r['batch_statuses']}  "
            f"e-mails {sum(r['emails'].values()):,}  jobs run {sum(r['jobs'].values())}"
        )
        print(
            f"        portal check: {'passed' if r['check_ok'] else 'FAILED'} "
            f"in {r['check_s']:.2f} s" + "".join(f"\n          {v}" for v in r["violations"])
        )

    checks: list[tuple[str, bool]] = []
    for n in args.leases:
        completed = min(run["payment_statuses"].get("completed", 0) for run in runs[n])
        checks.append((f"{n:,} leases: {completed:,} payments completed", completed == n))
        passed = all(run["check_ok"] for run in runs[n])
        checks.append((f"{n:,} leases: portal check passes", passed))
    big, small = max(results), min(results)
    if not args.database_url and big >= 5_000:
        r = results[big]
        ms = 1000 * r["advance_s"] / max(r["payments"], 1)
        checks.append(
            (
                f"{big:,}-lease month = {r['advance_s']:.2f} s (target < {TARGET_SECONDS:.0f} s)",
                r["advance_s"] < TARGET_SECONDS,
            )
        )
        checks.append(
            (
                f"{big:,}-lease month = {ms:.2f} ms/payment (target <= {TARGET_MS_PER_PAYMENT} ms)",
                ms <= TARGET_MS_PER_PAYMENT,
            )
        )
    if big != small:
        ratio = results[big]["advance_s"] / results[small]["advance_s"]
        # 5.5x for 5x the leases; other pairs of sizes get the same slack per lease.
        allowed = TARGET_RATIO * (big / small) / 5
        checks.append(
            (
                f"{big:,} / {small:,} time ratio = {ratio:.2f}x (target <= {allowed:.2f}x)",
                ratio <= allowed,
            )
        )
    for line, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {line}")
    if args.keep and not args.database_url:
        print(f"databases kept in {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
