"""Benchmark: does one heavy request freeze the others? (issue 14, scope 4)

Usage (repository root, after the README install):

    .venv/bin/python bench/responsiveness.py [--rows 50000] [--leases 5000]
        [--scenario-residents 500] [--interval 0.05] [--only intake scenario month]

It starts ``portal serve`` as the README does (one worker, a fresh SQLite file in a temporary
directory), sets up a small second workspace (the receipt benchmark's world: 50 closed deposit
batches, a landlord and an accounting client), and then, one at a time, runs the heavy requests
of another workspace:

- ``intake``: one "Send Balances" call of ``--rows`` new residents
  (``POST /v1/integration/balances``, the body of ``bench/balances.py``);
- ``scenario``: a scenario of ``--scenario-residents`` invited residents with their leases
  loaded into a new workspace (``POST /v1/sandbox/workspaces/{ws}/scenario``);
- ``month``: the clock of a ``--leases``-lease autopay portfolio (``bench/payments_month.py``'s,
  written to the database before the server starts) advanced one month
  (``POST /v1/sandbox/workspaces/{ws}/clock/advance``, every job of the month).

While each runs, one thread per probe sends, every ``--interval`` seconds, ``GET /healthz``
and reads of the second workspace: the landlord's ``GET /v1/residents`` and ``GET
/v1/deposit-batches``, and the accounting client's ``GET /v1/integration/receipt-batches/{id}``.
It prints, per heavy request, its own duration and each probe's count, p50, p99 and max
latency (a probe is sequential: a probe stuck for 3 s is one 3 s sample, so read the max),
next to the same probes on the idle server (``--no-probes``: the heavy requests alone, for
their durations); then PASS/FAIL against the target (issue 14,
acceptance 2): during the intake every probe's max < 1 s. Exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import balances, payments_month, receipts_http  # noqa: E402
from portal.core.db import make_engine, session_scope  # noqa: E402
from portal.core.migrate import upgrade  # noqa: E402

OPERATOR = {"Authorization": "Bearer bench"}
MONTH_WORKSPACE = "ws_bench_month"
TARGET_MS = 1000.0


@dataclass
class Sample:
    started: float
    ms: float
    status: int


@dataclass
class Probe:
    name: str
    path: str
    headers: dict[str, str]
    samples: list[Sample] = field(default_factory=list)

    def run(self, base: str, interval: float, stop: threading.Event) -> None:
        with httpx.Client(base_url=base, headers=self.headers, timeout=120) as http:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    status = http.get(self.path).status_code
                except httpx.HTTPError:
                    status = 0
                ms = (time.perf_counter() - started) * 1000
                self.samples.append(Sample(started, ms, status))
                stop.wait(max(0.0, interval - ms / 1000))

    def during(self, start: float, end: float) -> list[Sample]:
        return [s for s in self.samples if start <= s.started < end]


def stats(samples: list[Sample]) -> tuple[int, float, float, float, int]:
    if not samples:
        return 0, float("nan"), float("nan"), float("nan"), 0
    ms = sorted(s.ms for s in samples)
    errors = sum(1 for s in samples if s.status != 200)
    return len(ms), ms[len(ms) // 2], ms[min(len(ms) - 1, int(len(ms) * 0.99))], ms[-1], errors


def scenario_body(n: int) -> dict[str, Any]:
    """``n`` invited residents (each gets the invitation e-mail) with leases, 100 units a
    property, one integration."""
    per = 100
    props = (n + per - 1) // per
    return {
        "version": 1,
        "scenario": "bench-responsiveness",
        "integrations": [{"key": "client", "name": "Landlord 12", "kind": "landlord12"}],
        "properties": [
            {
                "key": f"p{p}",
                "name": f"Property {p}",
                "external_id": f"P{p:04d}",
                "address": {"street": f"{100 + p} Main Street"},
                "units": [
                    {"key": f"p{p}u{u}", "name": f"#{u + 1}", "external_id": f"P{p:04d}-{u}"}
                    for u in range(min(per, n - p * per))
                ],
            }
            for p in range(props)
        ],
        "residents": [
            {
                "key": f"r{i}",
                "name": f"Resident {i}",
                "email": f"r{i}@example.com",
                "unit": f"p{i // per}u{i % per}",
                "lease": {
                    "rent": "950.00",
                    "start_date": "2026-07-01",
                    "balance": "950.00",
                    "external_resident_id": f"t{i:06d}",
                },
            }
            for i in range(n)
        ],
    }


class Bench:
    def __init__(self, base: str, interval: float) -> None:
        self.base = base
        self.interval = interval
        self.http = httpx.Client(base_url=base, timeout=1800)

    def call(self, method: str, path: str, headers: dict[str, str], **kw: Any) -> Any:
        response = self.http.request(method, path, headers=headers, **kw)
        if response.status_code >= 300:
            raise SystemExit(f"{method} {path}: {response.status_code} {response.text[:400]}")
        return response.json() if response.content else None

    def landlord(self, email: str, password: str) -> dict[str, str]:
        login = {"email": email, "password": password}
        token = self.call("POST", "/v1/auth/login", {}, json=login)["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def workspace(self, name: str, email: str) -> tuple[str, dict[str, str]]:
        body = {
            "name": name,
            "clock": {"now": receipts_http.START},
            "landlord": {"email": email, "password": "benchbench"},
        }
        ws = self.call("POST", "/v1/sandbox/workspaces", OPERATOR, json=body)
        return ws["id"], self.landlord(email, "benchbench")

    def probes(self) -> list[Probe]:
        """The second workspace (the receipt benchmark's world) and what is read of it."""
        ws_id, landlord = self.workspace("probed", "probed@example.com")
        loaded = self.call(
            "POST",
            f"/v1/sandbox/workspaces/{ws_id}/scenario",
            OPERATOR,
            json=receipts_http.scenario(),
        )
        client = {"Authorization": f"Bearer {loaded['tokens']['client']}"}
        # The load moved the workspace clock on, past the first login's session.
        landlord = self.landlord("probed@example.com", "benchbench")
        listed = self.call("GET", "/v1/integration/receipt-batches?limit=500", client)["data"]
        batch = next(b["id"] for b in listed if b["item_count"] == 3)
        return [
            Probe("GET /healthz", "/healthz", {}),
            Probe("landlord GET /v1/residents", "/v1/residents?limit=50", landlord),
            Probe("landlord GET /v1/deposit-batches", "/v1/deposit-batches?limit=50", landlord),
            Probe(
                "client GET receipt-batches/{id}",
                f"/v1/integration/receipt-batches/{batch}",
                client,
            ),
        ]

    def intake(self, rows: int) -> tuple[str, Any]:
        _ws, landlord = self.workspace("intake", "intake@example.com")
        integration = self.call(
            "POST", "/v1/integrations", landlord, json={"name": "bench", "kind": "landlord12"}
        )
        token = self.call("POST", f"/v1/integrations/{integration['id']}/tokens", landlord)
        payload = json.dumps(balances.body(rows)).encode()
        headers = {
            "Authorization": f"Bearer {token['token']}",
            "Content-Type": "application/json",
            "Idempotency-Key": "intake",
        }
        return "POST /v1/integration/balances", (
            "/v1/integration/balances",
            headers,
            payload,
        )

    def scenario(self, residents: int) -> tuple[str, Any]:
        ws_id, _landlord = self.workspace("scenario", "scenario@example.com")
        payload = json.dumps(scenario_body(residents)).encode()
        headers = {**OPERATOR, "Content-Type": "application/json"}
        return f"POST .../{ws_id}/scenario", (
            f"/v1/sandbox/workspaces/{ws_id}/scenario",
            headers,
            payload,
        )

    def month(self) -> tuple[str, Any]:
        payload = json.dumps({"by": "P1M"}).encode()
        headers = {**OPERATOR, "Content-Type": "application/json"}
        return "POST .../clock/advance P1M", (
            f"/v1/sandbox/workspaces/{MONTH_WORKSPACE}/clock/advance",
            headers,
            payload,
        )

    def heavy(self, path: str, headers: dict[str, str], payload: bytes) -> tuple[float, float]:
        started = time.perf_counter()
        response = self.http.post(path, headers=headers, content=payload)
        ended = time.perf_counter()
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.text[:400]}")
        return started, ended


def serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": url,
        "PORTAL_OPERATOR_KEY": "bench",
        "PORTAL_SECRET_KEY": "bench-secret-key-for-the-benchmark",
    }
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/portal"), "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    receipts_http.wait_until_up(f"http://127.0.0.1:{port}/healthz")
    return proc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--leases", type=int, default=5_000)
    parser.add_argument("--scenario-residents", type=int, default=500)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument(
        "--no-probes", action="store_true", help="time the heavy requests alone (no probes)"
    )
    parser.add_argument("--only", nargs="+", choices=["intake", "scenario", "month"], default=None)
    args = parser.parse_args()
    heavy_kinds = args.only or ["intake", "scenario", "month"]
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    url = f"sqlite:///{tmp / 'portal.db'}"
    if "month" in heavy_kinds:
        engine = make_engine(url)
        upgrade(engine)
        with session_scope(engine) as session:
            payments_month.generate(session, MONTH_WORKSPACE, args.leases)
        engine.dispose()
    port = receipts_http.free_port()
    server = serve(url, port)
    print(
        f"portal serve, 1 worker, SQLite ({tmp}); probes every {args.interval * 1000:.0f} ms; "
        f"heavy: {', '.join(heavy_kinds)}"
    )
    windows: list[tuple[str, float, float, float]] = []  # name, start, end, heavy seconds
    try:
        bench = Bench(f"http://127.0.0.1:{port}", args.interval)
        probes = bench.probes()
        prepared = []
        for kind in heavy_kinds:
            if kind == "intake":
                prepared.append(bench.intake(args.rows))
            elif kind == "scenario":
                prepared.append(bench.scenario(args.scenario_residents))
            else:
                prepared.append(bench.month())
        stop = threading.Event()
        threads = [
            threading.Thread(target=p.run, args=(bench.base, args.interval, stop), daemon=True)
            for p in probes
        ]
        for t in threads if not args.no_probes else []:
            t.start()
        try:
            idle_start = time.perf_counter()
            time.sleep(3)
            windows.append(("idle (3 s)", idle_start, time.perf_counter(), float("nan")))
            for name, (path, headers, payload) in prepared:
                started, ended = bench.heavy(path, headers, payload)
                windows.append((name, started, ended, ended - started))
                # Let every probe sent during the request come back (a stuck one answers
                # only after it) before the next one.
                time.sleep(2)
        finally:
            stop.set()
            for t in threads if not args.no_probes else []:
                t.join(timeout=150)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)

    # A probe is counted in the window it was sent in, however late it came back.
    results = [
        (name, seconds, [(p.name, stats(p.during(start, end))) for p in probes])
        for name, start, end, seconds in windows
    ]
    ok = True
    for name, seconds, rows in results:
        took = "" if seconds != seconds else f": {seconds:.2f} s"
        print(f"\n{name}{took}")
        print(f"  {'probe':36} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>6}")
        for probe, (n, p50, p99, worst, errors) in rows:
            print(f"  {probe:36} {n:5d} {p50:8.1f} {p99:8.1f} {worst:8.1f} {errors:6d}")
            ok = ok and errors == 0
    intake = next((r for r in results if r[0].startswith("POST /v1/integration")), None)
    checks = [("no probe answered an error", ok)]
    if intake is not None:
        worst = max(s[3] for _probe, s in intake[2])
        checks.append(
            (
                f"during the {args.rows:,}-resident intake every probe's max = {worst:,.0f} ms "
                f"(target < {TARGET_MS:,.0f} ms)",
                worst < TARGET_MS,
            )
        )
    print()
    for text, passed in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    return 0 if all(passed for _, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
