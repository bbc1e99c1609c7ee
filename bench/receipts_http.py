"""Benchmark: the accounting client's receipt-batch reads over HTTP (issue 7).

Usage (repository root, after the README install):

    .venv/bin/python bench/receipts_http.py [--workers 1 2] [--duration 10] [--connections 32]
        [--repeat 1] [--generator auto|wrk|asyncio]

In one run, on loopback, under the same load (``--connections`` connections for ``--duration``
seconds; ``wrk -t2`` when it is on the PATH, else an asyncio load generator in this process):

(a) **the floor**: ``bench/floor_app.py``, a bare FastAPI app whose endpoint reads one SQLite
    row by primary key (``async def`` calling the session inline) and returns it;
(b) **the portal** (``portal serve`` on a fresh SQLite file), for each ``--workers`` count:
    ``GET /v1/integration/receipt-batches/{id}`` of a closed 3-receipt batch and
    ``GET /v1/integration/receipt-batches?state=unprocessed`` listing 50 batches, both with the
    integration's bearer token (the JWT check, token lookup and workspace clock every call).

It prints requests/s, p50 and p99 latency and each portal figure's ratio to the floor, then
PASS/FAIL against the targets: the batch read at least 0.5x the floor on one worker with p99
under 50 ms, and more requests/s with 2 workers than with 1. Exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
OPERATOR_KEY = "bench-operator-key"
#: Monday 2026-07-06, 10:00 New York: the payments are made then; the world ends after the
#: 19:45 cut-off, so every batch is closed and listed.
START = "2026-07-06T14:00:00Z"
PAID_AT = "2026-07-06T15:00:00Z"
END = "2026-07-07T00:30:00Z"
LIST_BATCHES = 50


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not come up")


def call(method: str, url: str, body: Any = None, token: str = OPERATOR_KEY) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


def scenario() -> dict[str, Any]:
    """One property whose batch holds three receipts, and 49 more with one each: 50 closed
    deposit batches, each on its own deposit account."""
    properties, accounts, residents, sources, payments = [], [], [], [], []
    for p in range(LIST_BATCHES):
        payers = 3 if p == 0 else 1
        properties.append(
            {
                "key": f"p{p}",
                "name": f"Property {p}",
                "external_id": f"P{p:03d}",
                "address": {"street": f"{100 + p} Main Street"},
                "units": [
                    {"key": f"p{p}u{u}", "name": f"#{u + 1}", "external_id": f"P{p:03d}-{u + 1}"}
                    for u in range(payers)
                ],
            }
        )
        accounts.append(
            {
                "key": f"a{p}",
                "type": "rent",
                "account_number": f"{9876540000 + p}",
                "routing_number": "110000000",
                "properties": [f"p{p}"],
            }
        )
        for u in range(payers):
            key = f"r{p}x{u}"
            residents.append(
                {
                    "key": key,
                    "name": f"Resident {p}-{u}",
                    "email": f"{key}@example.com",
                    "unit": f"p{p}u{u}",
                    "state": "approved",
                    "password": "bench-pass-1",
                    "lease": {
                        "rent": "980.00",
                        "start_date": "2026-07-01",
                        "external_resident_id": f"t{p:03d}{u}",
                        "balance": "980.00",
                    },
                }
            )
            sources.append(
                {
                    "key": f"{key}-bank",
                    "resident": key,
                    "type": "bank_account",
                    "routing_number": "110000000",
                    "account_number": f"{1234500000 + p * 10 + u}",
                }
            )
            payments.append(
                {
                    "resident": key,
                    "source": f"{key}-bank",
                    "amount": f"{900 + u}.00",
                    "at": PAID_AT,
                }
            )
    return {
        "version": 1,
        "scenario": "bench-receipts",
        "integrations": [
            {"key": "client", "name": "Landlord 12", "kind": "landlord12", "issue_token": True}
        ],
        "properties": properties,
        "deposit_accounts": accounts,
        "residents": residents,
        "payment_sources": sources,
        "payments": payments,
        "advance_to": END,
    }


@dataclass
class Result:
    name: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int
    #: CPU seconds the server (its processes, and PostgreSQL's when it is the database) and the
    #: load generator spent during the run: on a 2-core machine the generator takes its share
    #: of the cores a second worker would need, so the scaling is read per CPU-second too.
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0

    @property
    def per_server_cpu_s(self) -> float:
        """Requests per CPU-second of the server: what more cores would multiply."""
        return self.requests_per_s * DURATION[0] / self.server_cpu_s if self.server_cpu_s else 0.0


DURATION = [10]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_of(pids: list[int]) -> dict[int, float]:
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime, stime: proc(5) fields 14 and 15
        seconds[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return seconds


def server_pids(session_id: int, postgres: bool) -> list[int]:
    """The server's processes (its session, started with ``start_new_session``), and every
    ``postgres`` process when the database is PostgreSQL (the backends serving it)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ours = os.getsid(int(entry.name)) == session_id
            if ours or (postgres and (entry / "comm").read_text().strip() == "postgres"):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def measured(load: Any, proc: subprocess.Popen[bytes], postgres: bool) -> Any:
    """``load`` with the server's and the generator's CPU time recorded on its result."""

    def run(*args: Any) -> Result:
        before, child_before = _cpu_of(server_pids(proc.pid, postgres)), os.times()
        result: Result = load(*args)
        # Processes started during the run (a new backend) count from zero.
        after, child_after = _cpu_of(server_pids(proc.pid, postgres)), os.times()
        result.server_cpu_s = sum(t - before.get(pid, 0.0) for pid, t in after.items())
        result.client_cpu_s = (child_after.children_user + child_after.children_system) - (
            child_before.children_user + child_before.children_system
        )
        return result

    return run


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(name: str, url: str, token: str | None, duration: int, connections: int) -> Result:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if sock:
        errors += sum(int(g) for g in sock.groups())
    if p50 is None or p99 is None:
        raise SystemExit(f"wrk printed no latency distribution:\n{out}")
    return Result(name, rps, _ms(*p50.groups()), _ms(*p99.groups()), errors)


async def _asyncio_load(
    host: str, port: int, path: str, token: str | None, duration: int, connections: int
) -> tuple[int, int, list[float]]:
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        + (f"Authorization: Bearer {token}\r\n" if token else "")
        + "\r\n"
    ).encode()
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def one() -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection(host, port)
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - t0)
            if not head.startswith(b"HTTP/1.1 2"):
                errors += 1
        writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))
    return len(latencies), errors, latencies


def run_asyncio(name: str, url: str, token: str | None, duration: int, connections: int) -> Result:
    m = re.match(r"http://([^:/]+):(\d+)(.*)", url)
    assert m
    host, port, path = m.group(1), int(m.group(2)), m.group(3)
    n, errors, lat = asyncio.run(_asyncio_load(host, port, path, token, duration, connections))
    lat.sort()
    return Result(
        name,
        n / duration,
        lat[len(lat) // 2] * 1000 if lat else 0.0,
        lat[int(len(lat) * 0.99)] * 1000 if lat else 0.0,
        errors,
    )


def serve(cmd: list[str], env: dict[str, str], health: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    wait_until_up(health)
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


PRISM_PACKAGE = "@stoplight/prism-cli@5"
PRISM_HOME = Path(os.environ.get("PRISM_HOME", Path.home() / ".cache" / "portal-bench" / "prism"))


def prism_binary() -> Path | None:
    """Prism 5 from npm, installed once under ``PRISM_HOME``; None (the contestant is skipped,
    with a note) when npm is not on the PATH or the install fails."""
    binary = PRISM_HOME / "node_modules" / ".bin" / "prism"
    if binary.exists():
        return binary
    if shutil.which("npm") is None:
        print("note: npm is not on the PATH, so the Prism contestant is skipped")
        return None
    PRISM_HOME.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["npm", "install", "--silent", "--no-audit", "--no-fund", PRISM_PACKAGE],
        cwd=PRISM_HOME,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not binary.exists():
        print(f"note: `npm install {PRISM_PACKAGE}` failed, so the Prism contestant is skipped")
        return None
    return binary


def prism_spec(body: bytes) -> dict[str, Any]:
    """An OpenAPI document whose one operation answers the portal's batch body as its example:
    what a team mocking this API from a spec would run."""
    return {
        "openapi": "3.0.3",
        "info": {"title": "receipt batch (bench)", "version": "1"},
        "paths": {
            "/v1/integration/receipt-batches/{batch_id}": {
                "get": {
                    "parameters": [
                        {
                            "name": "batch_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the batch",
                            "content": {"application/json": {"example": json.loads(body)}},
                        }
                    },
                }
            }
        },
    }


def fetch(url: str, token: str) -> bytes:
    req = urllib.request.Request(url)
    req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        return bytes(r.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--generator", choices=["auto", "wrk", "asyncio"], default="auto")
    parser.add_argument(
        "--database-url",
        help="the portal's database (default: a fresh SQLite file); each run adds a workspace",
    )
    parser.add_argument("--no-prism", action="store_true", help="skip the Prism contestant")
    parser.add_argument(
        "--uncached",
        action="store_true",
        help="also run the portal with PORTAL_READ_CACHE=false (every read runs its queries)",
    )
    args = parser.parse_args()
    DURATION[0] = args.duration
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    load = run_wrk if use_wrk else run_asyncio
    print(
        f"load generator: {'wrk -t2' if use_wrk else 'asyncio (in this process)'}, "
        f"{args.connections} connections, {args.duration} s each, loopback"
    )
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {
        **os.environ,
        "PORTAL_OPERATOR_KEY": OPERATOR_KEY,
        "FLOOR_DB": str(tmp / "floor.db"),
        "CONSTANT_BODY": str(tmp / "body.json"),
    }
    db = args.database_url or f"sqlite:///{tmp / 'portal.db'}"
    print(f"portal database: {db.split('://')[0]}")
    results: dict[str, list[Result]] = {}

    def best(name: str, r: Result) -> None:
        results.setdefault(name, []).append(r)

    def uvicorn(target: str) -> list[str]:
        return [
            PYTHON,
            "-m",
            "uvicorn",
            target,
            "--port",
            "{port}",
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    body = b""
    try:
        modes = [("", {})] + (
            [(" (no cache)", {"PORTAL_READ_CACHE": "false"})] if args.uncached else []
        )
        for suffix, extra in modes:
            for workers in args.workers:
                port = free_port()
                portal = serve(
                    [
                        str(ROOT / ".venv" / "bin" / "portal"),
                        "serve",
                        "--port",
                        str(port),
                        "--workers",
                        str(workers),
                        "--database-url",
                        db,
                    ],
                    {**env, **extra},
                    f"http://127.0.0.1:{port}/healthz",
                )
                try:
                    base = f"http://127.0.0.1:{port}"
                    token, batch_id = _world(base)
                    body = fetch(f"{base}/v1/integration/receipt-batches/{batch_id}", token)
                    timed = measured(load, portal, db.startswith("postgresql"))
                    for _ in range(args.repeat):
                        best(
                            f"batch read{suffix}, {workers} worker(s)",
                            timed(
                                "batch",
                                f"{base}/v1/integration/receipt-batches/{batch_id}",
                                token,
                                args.duration,
                                args.connections,
                            ),
                        )
                        best(
                            f"list of {LIST_BATCHES}{suffix}, {workers} worker(s)",
                            timed(
                                "list",
                                f"{base}/v1/integration/receipt-batches?state=unprocessed",
                                token,
                                args.duration,
                                args.connections,
                            ),
                        )
                finally:
                    stop(portal)
        (tmp / "body.json").write_bytes(body)
        print(f"the batch body: {len(body):,} bytes")
        contestants: list[tuple[str, list[str], str]] = [
            ("floor", uvicorn("bench.floor_app:app"), "/items/7"),
        ]
        for workers in args.workers:
            name = "constant Starlette app" + ("" if workers == 1 else f", {workers} workers")
            cmd = [*uvicorn("bench.constant_app:app"), "--workers", str(workers)]
            contestants.append((name, cmd, "/batch"))
        prism = None if args.no_prism else prism_binary()
        if prism is not None:
            (tmp / "prism.json").write_text(json.dumps(prism_spec(body)))
            contestants.append(
                (
                    "Prism 5 mock",
                    [
                        str(prism),
                        "mock",
                        "--errors=false",
                        "-v",
                        "warn",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        "{port}",
                        str(tmp / "prism.json"),
                    ],
                    "/v1/integration/receipt-batches/bench",
                )
            )
        for name, cmd, path in contestants:
            port = free_port()
            cmd = [part.replace("{port}", str(port)) for part in cmd]
            proc = serve(cmd, env, f"http://127.0.0.1:{port}{path}")
            try:
                for _ in range(args.repeat):
                    best(
                        name,
                        measured(load, proc, False)(
                            name,
                            f"http://127.0.0.1:{port}{path}",
                            "bench-token",
                            args.duration,
                            args.connections,
                        ),
                    )
            finally:
                stop(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    top = {name: max(rs, key=lambda r: r.requests_per_s) for name, rs in results.items()}
    floor_rps = top["floor"].requests_per_s
    print(
        f"{'':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'x floor':>8} {'errors':>7} "
        f"{'srv CPU':>8} {'req/CPU-s':>10} {'gen CPU':>8}"
    )
    for name, r in top.items():
        print(
            f"{name:40} {r.requests_per_s:9,.0f} {r.p50_ms:8.2f} {r.p99_ms:8.2f} "
            f"{r.requests_per_s / floor_rps:8.2f} {r.errors:7d} "
            f"{r.server_cpu_s / args.duration:7.2f}c {r.per_server_cpu_s:10,.0f} "
            f"{r.client_cpu_s / args.duration:7.2f}c"
        )
    print(
        "srv CPU / gen CPU: cores the server (with PostgreSQL's backends) and the load "
        f"generator used on average; this machine has {os.cpu_count()}"
    )
    checks: list[tuple[str, bool]] = []
    one = top.get("batch read, 1 worker(s)")
    if one:
        rps = one.requests_per_s
        checks.append(
            (
                f"batch read on 1 worker = {rps / floor_rps:.2f}x the floor (target >= 0.5x)",
                rps >= 0.5 * floor_rps,
            )
        )
        if (prism_r := top.get("Prism 5 mock")) is not None:
            ratio = rps / prism_r.requests_per_s
            checks.append(
                (f"batch read on 1 worker = {ratio:.2f}x Prism (target >= 1.0x)", ratio >= 1.0)
            )
        const = top["constant Starlette app"].requests_per_s
        checks.append(
            (
                f"batch read on 1 worker = {rps / const:.2f}x the constant app (target >= 0.25x)",
                rps >= 0.25 * const,
            )
        )
        checks.append(
            (f"batch read p99 on 1 worker = {one.p99_ms:.1f} ms (target < 50 ms)", one.p99_ms < 50)
        )
    for suffix in ("", " (no cache)"):
        one_w = top.get(f"batch read{suffix}, 1 worker(s)")
        two_w = top.get(f"batch read{suffix}, 2 worker(s)")
        if one_w is None or two_w is None:
            continue
        ratio = two_w.requests_per_s / one_w.requests_per_s
        # Two workers on PostgreSQL should give 1.7x one (issue 19); the machine's own ceiling
        # is the constant app's 2-worker figure over its 1-worker one, printed beside it.
        want = 1.7 if db.startswith("postgresql") else 1.0
        ceiling = top.get("constant Starlette app, 2 workers")
        const_one = top["constant Starlette app"].requests_per_s
        limit = f"; the constant app: {ceiling.requests_per_s / const_one:.2f}x" if ceiling else ""
        checks.append(
            (
                f"batch read{suffix} with 2 workers = {two_w.requests_per_s:,.0f} req/s = "
                f"{ratio:.2f}x 1 worker (target {'>=' if want > 1 else '>'} {want}x{limit})",
                ratio >= want if want > 1 else ratio > 1,
            )
        )
        if one_w.per_server_cpu_s and two_w.per_server_cpu_s:
            # What a second core buys when the generator is not on it: each worker's requests
            # per CPU-second, 2 workers against 1 (1.0 = no contention between workers).
            per_cpu = two_w.per_server_cpu_s / one_w.per_server_cpu_s
            print(
                f"info  batch read{suffix}: {per_cpu:.2f}x the requests per server CPU-second "
                f"with 2 workers; with the cores to itself it would give about "
                f"{2 * per_cpu:.2f}x 1 worker"
            )
    checks.append(("no errors", all(r.errors == 0 for r in top.values())))
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


def _world(base: str) -> tuple[str, str]:
    """A workspace with the benchmark's scenario; the token and the 3-receipt batch's ID."""
    ws = call(
        "POST",
        f"{base}/v1/sandbox/workspaces",
        {"name": "bench", "seed": 11, "clock": {"now": START}},
    )
    loaded = call("POST", f"{base}/v1/sandbox/workspaces/{ws['id']}/scenario", scenario())
    token = loaded["tokens"]["client"]
    listed = call("GET", f"{base}/v1/integration/receipt-batches?limit=500", token=token)["data"]
    assert len(listed) == LIST_BATCHES, len(listed)
    [three] = [b for b in listed if b["item_count"] == 3]
    return token, three["id"]


if __name__ == "__main__":
    sys.exit(main())
