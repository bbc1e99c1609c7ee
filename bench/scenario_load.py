"""Benchmark: loading a scenario of N approved residents with passwords, bank accounts and
autopay over HTTP (issue 19, scope 1: 5,000 residents in under 20 s).

Usage (repository root, after the README install):

    .venv/bin/python bench/scenario_load.py [--residents 1000 5000] [--database-url URL]

For each size it starts ``portal serve`` on a fresh database (a temporary SQLite file unless a
URL is given: then that PostgreSQL database is used, and must be empty), posts the generated
scenario to ``POST /v1/sandbox/scenarios`` and times the answer. It then logs in as the first
and the last resident (the passwords must verify) and prints the time, the rate, the server's
peak memory and PASS/FAIL against the target for 5,000 residents.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from portal.testing.process import ServeProcess, free_port  # noqa: E402

TARGET_SECONDS = 20.0  # for 5,000 residents (issue 19)
UNITS_PER_PROPERTY = 100
OPERATOR_KEY = "bench-operator-key"


def scenario(n: int) -> dict[str, Any]:
    """N approved residents, each with a password, a bank account and an autopay on the 1st."""
    properties = [
        {
            "key": f"p{p}",
            "name": f"Property {p}",
            "external_id": f"P{p:04d}",
            "address": {
                "street": f"{100 + p} Chapala St",
                "city": "Santa Barbara",
                "state": "CA",
                "postal_code": "93101",
            },
            "units": [
                {"key": f"u{i}", "name": f"#{i % UNITS_PER_PROPERTY + 1}", "external_id": f"U{i}"}
                for i in range(p * UNITS_PER_PROPERTY, min(n, (p + 1) * UNITS_PER_PROPERTY))
            ],
        }
        for p in range((n + UNITS_PER_PROPERTY - 1) // UNITS_PER_PROPERTY)
    ]
    residents = [
        {
            "key": f"r{i}",
            "name": f"Resident {i}",
            "email": f"resident{i}@bench.example",
            "unit": f"u{i}",
            "state": "approved",
            "password": f"bench-pass-{i}",
            "lease": {
                "rent": f"{600 + i % 900}.00",
                "start_date": "2026-01-01",
                "external_resident_id": f"t{i:06d}",
                "balance": "0.00",
            },
        }
        for i in range(n)
    ]
    return {
        "version": 1,
        "scenario": f"bench-{n}",
        "workspace": {
            "name": f"Bench {n}",
            "seed": 19,
            "clock": {"mode": "simulated", "now": "2026-06-15T14:00:00Z"},
            "landlord": {"email": f"manager-{n}@bench.example", "password": "bench-manager"},
        },
        "properties": properties,
        "deposit_accounts": [
            {
                "key": "rent",
                "type": "rent",
                "name": "Operating",
                "account_number": "0020021234",
                "routing_number": "110000000",
                "properties": [p["key"] for p in properties],
            }
        ],
        "residents": residents,
        "payment_sources": [
            {
                "key": f"r{i}-bank",
                "resident": f"r{i}",
                "type": "bank_account",
                "routing_number": "107000783",
                "account_number": f"{7000000000 + i}",
            }
            for i in range(n)
        ],
        "recurring_payments": [
            {
                "key": f"r{i}-autopay",
                "resident": f"r{i}",
                "source": f"r{i}-bank",
                "amount": f"{600 + i % 900}.00",
                "type": "rent",
                "day_of_month": 1,
            }
            for i in range(n)
        ],
    }


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(n: int, database_url: str | None, tmp: Path) -> tuple[float, float]:
    url = database_url or f"sqlite:///{tmp / f'scenario-{n}.db'}"
    server = ServeProcess(
        host="127.0.0.1",
        port=free_port("127.0.0.1"),
        database_url=url,
        operator_key=OPERATOR_KEY,
        log_path=tmp / f"serve-{n}.log",
    )
    try:
        server.wait_healthy(60)
        body = json.dumps(scenario(n)).encode()
        with httpx.Client(base_url=server.url, timeout=900) as http:
            started = time.perf_counter()
            loaded = http.post(
                "/v1/sandbox/scenarios",
                content=body,
                headers={
                    "Authorization": f"Bearer {OPERATOR_KEY}",
                    "Content-Type": "application/json",
                },
            )
            elapsed = time.perf_counter() - started
            if loaded.status_code != 201:
                raise SystemExit(f"load answered {loaded.status_code}: {loaded.text[:500]}")
            ws = loaded.json()["workspace_id"]
            for i in (0, n - 1):
                login = http.post(
                    "/v1/resident/login",
                    json={
                        "email": f"resident{i}@bench.example",
                        "password": f"bench-pass-{i}",
                        "workspace_id": ws,
                    },
                )
                if login.status_code != 200:
                    raise SystemExit(f"resident {i} cannot log in: {login.text[:300]}")
        return elapsed, peak_rss_mb(server.proc.pid)
    finally:
        server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="portal-bench-scenario-"))
    ok = True
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}")
    for n in args.residents:
        elapsed, rss = run(n, args.database_url, tmp)
        verdict = ""
        if n == 5000:
            passed = elapsed < TARGET_SECONDS
            ok &= passed
            verdict = f"  {'PASS' if passed else 'FAIL'} (< {TARGET_SECONDS:.0f} s)"
        print(
            f"{n:>6,} residents: {elapsed:7.2f} s  {n / elapsed:8.0f} residents/s  "
            f"peak {rss:5.0f} MB{verdict}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
