"""Benchmark: what the request journal costs the receipt-batch read (issue 20).

Usage (repository root, after the README install, ``wrk`` on the PATH):

    .venv/bin/python bench/journal_http.py [--duration 10] [--repeat 3] [--connections 32]
        [--soak-seconds 300] [--sample-seconds 5] [--database-url URL]

In one run, on loopback, ``portal serve`` (1 worker, each on a fresh SQLite file) twice: with
the journal on (the default) and with ``PORTAL_JOURNAL=false``; both load the P1 world of
``bench/receipts_http.py`` and answer ``GET /v1/integration/receipt-batches/{id}`` (the cached
batch read, the integration's token on every call). The two are loaded in turn, ``--repeat``
times each, and the best req/s of each compared: PASS when on/off >= 0.85 (the issue's 15 %).
It also reads the journal's own record of how many reads the read cache answered (each journal
write moves the database version, so the next read of each key runs the route).

Then the soak: the journalled server under the same load for ``--soak-seconds``, its RSS (every
process of its session) and its database's size on disk (file + WAL) sampled every
``--sample-seconds``; PASS when the largest RSS of the last third is within 10 % of the largest
of the first third (memory flat under load). Exits 1 on a FAIL.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import receipts_http as rh  # the P1 world, the servers, the load generators

MODES = {"journal on": {}, "journal off": {"PORTAL_JOURNAL": "false"}}


def rss_kib(session_id: int) -> int:
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if os.getsid(int(entry.name)) != session_id:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ProcessLookupError):
            continue
    return total


def disk_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*") if p.exists())


def start(name: str, db_url: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = rh.free_port()
    proc = rh.serve(
        [
            str(rh.ROOT / ".venv" / "bin" / "portal"),
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--database-url",
            db_url,
        ],
        {**env, **MODES[name]},
        f"http://127.0.0.1:{port}/healthz",
    )
    return proc, f"http://127.0.0.1:{port}"


def cache_share(base: str, path: str) -> tuple[int, int]:
    """(answered by the read cache, all) among the batch reads the journal still holds (read
    through the journal's own API)."""
    [ws] = rh.call("GET", f"{base}/v1/sandbox/workspaces")["data"]
    hits = total = 0
    cursor = ""
    while True:
        page = rh.call(
            "GET",
            f"{base}/v1/sandbox/workspaces/{ws['id']}/journal?limit=500&path={path}{cursor}",
        )
        hits += sum(1 for e in page["data"] if e["cached"])
        total += len(page["data"])
        if page["next_cursor"] is None:
            return hits, total
        cursor = f"&cursor={page['next_cursor']}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--soak-seconds", type=int, default=300)
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    parser.add_argument("--generator", choices=["auto", "wrk", "asyncio"], default="auto")
    args = parser.parse_args()
    use_wrk = args.generator == "wrk" or (args.generator == "auto" and shutil.which("wrk"))
    load = rh.run_wrk if use_wrk else rh.run_asyncio
    print(
        f"load generator: {'wrk -t2' if use_wrk else 'asyncio'}, {args.connections} connections, "
        f"{args.duration} s x {args.repeat} per mode, interleaved; loopback; 1 worker; SQLite"
    )
    tmp = Path(tempfile.mkdtemp(prefix="portal-journal-bench-"))
    env = {**os.environ, "PORTAL_OPERATOR_KEY": rh.OPERATOR_KEY}
    checks: list[tuple[str, bool]] = []
    servers: dict[str, tuple[subprocess.Popen[bytes], str, str, str, Path]] = {}
    try:
        for name in MODES:
            db = tmp / f"{name.replace(' ', '-')}.db"
            proc, base = start(name, f"sqlite:///{db}", env)
            token, batch_id = rh._world(base)
            servers[name] = (proc, base, token, f"/v1/integration/receipt-batches/{batch_id}", db)
        best: dict[str, rh.Result] = {}
        for rep in range(args.repeat):
            # Each mode goes first every other round: neither gets the machine's better turn.
            order = list(servers.items())
            if rep % 2:
                order.reverse()
            for name, (_proc, base, token, path, _db) in order:
                r = load(name, base + path, token, args.duration, args.connections)
                print(
                    f"  {name:12} {r.requests_per_s:9,.0f} req/s  p50 {r.p50_ms:.2f} ms  "
                    f"p99 {r.p99_ms:.2f} ms  errors {r.errors}"
                )
                if name not in best or r.requests_per_s > best[name].requests_per_s:
                    best[name] = r
        _proc, base, token, path, db = servers["journal on"]
        hits, kept = cache_share(base, path)
        for proc, *_ in servers.values():
            rh.stop(proc)
        on, off = best["journal on"], best["journal off"]
        ratio = on.requests_per_s / off.requests_per_s
        print(f"journal on  {on.requests_per_s:9,.0f} req/s (p99 {on.p99_ms:.2f} ms)")
        print(f"journal off {off.requests_per_s:9,.0f} req/s (p99 {off.p99_ms:.2f} ms)")
        print(
            f"read cache with the journal on: {hits:,} of the last {kept:,} batch reads "
            f"journalled were cache hits ({kept - hits:,} ran the route: "
            f"{(kept - hits) / max(kept, 1):.2%})"
        )
        checks.append((f"journal on / off = {ratio:.3f} (target >= 0.85)", ratio >= 0.85))
        checks.append(("no errors", on.errors == 0 and off.errors == 0))

        if args.soak_seconds > 0:
            checks += soak(args, tmp, env, load)
    finally:
        for proc, *_ in servers.values():
            if proc.poll() is None:
                rh.stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    for text, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in checks) else 1


def soak(
    args: argparse.Namespace, tmp: Path, env: dict[str, str], load: object
) -> list[tuple[str, bool]]:
    db = tmp / "soak.db"
    proc, base = start("journal on", f"sqlite:///{db}", env)
    try:
        token, batch_id = rh._world(base)
        path = f"/v1/integration/receipt-batches/{batch_id}"
        result: list[rh.Result] = []
        runner = threading.Thread(
            target=lambda: result.append(
                load("soak", base + path, token, args.soak_seconds, args.connections)  # type: ignore[operator]
            )
        )
        samples: list[tuple[float, int, int]] = []
        t0 = time.monotonic()
        runner.start()
        while runner.is_alive():
            samples.append((time.monotonic() - t0, rss_kib(proc.pid), disk_bytes(db)))
            runner.join(timeout=args.sample_seconds)
        rh.call("GET", f"{base}/v1/sandbox/journal?limit=1")
        entries = rh.call(
            "POST", f"{base}/v1/sandbox/journal/verify", {"request": {}}, rh.OPERATOR_KEY
        )
    finally:
        rh.stop(proc)
    print(
        f"soak: {args.soak_seconds} s, {result[0].requests_per_s:,.0f} req/s, "
        f"p99 {result[0].p99_ms:.2f} ms, errors {result[0].errors}; dropped {entries['dropped']}"
    )
    print(f"{'t s':>6} {'RSS MiB':>8} {'disk MiB':>9}")
    for t, rss, disk in samples:
        print(f"{t:6.0f} {rss / 1024:8.1f} {disk / 2**20:9.1f}")
    third = max(len(samples) // 3, 1)
    first = max(r for _, r, _ in samples[:third])
    last = max(r for _, r, _ in samples[-third:])
    peak = max(r for _, r, _ in samples)
    print(
        f"RSS first {samples[0][1] / 1024:.1f} MiB, last {samples[-1][1] / 1024:.1f} MiB, "
        f"max {peak / 1024:.1f} MiB; max of the first third {first / 1024:.1f}, "
        f"of the last third {last / 1024:.1f}; disk {samples[0][2] / 2**20:.1f} -> "
        f"{samples[-1][2] / 2**20:.1f} MiB"
    )
    return [
        (
            f"RSS last third max / first third max = {last / first:.3f} (target <= 1.10)",
            last <= 1.10 * first,
        ),
        ("soak without errors", result[0].errors == 0),
    ]


if __name__ == "__main__":
    sys.exit(main())
