"""Issue 14's table, black-box over HTTP: twenty requests released at once at one payment.

Start a server first (PostgreSQL and two workers is where the races were seen):

    PORTAL_OPERATOR_KEY=op-secret .venv/bin/portal serve --workers 2 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/portal_races
    .venv/bin/python bench/races_http.py --base http://127.0.0.1:8000 --operator-key op-secret

It builds a world through the scenario API (five residents with bank accounts; two payments made
on Monday and deposited on Tuesday), then fires, each from twenty threads released by one
barrier: refunds of a completed payment, landlord voids and resident cancels of processing
payments, ACH returns of a completed payment, and one-time payments by one resident on one day.
It prints how many of each succeeded (1 is right) and the workspace ID, for ``portal check
--workspace``.
"""

from __future__ import annotations

import argparse
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

N = 20
PEOPLE = ("ann", "ben", "cara", "dan", "eve")


def scenario() -> dict[str, Any]:
    residents = []
    sources = []
    for n, who in enumerate(PEOPLE, start=1):
        residents.append(
            {
                "key": who,
                "name": who.title(),
                "email": f"{who}@races.example",
                "unit": f"u{n}",
                "state": "approved",
                "password": f"{who}-pass-1",
                "lease": {
                    "key": f"{who}-lease",
                    "rent": "500.00",
                    "start_date": "2026-01-01",
                    "balance": "500.00",
                    "external_resident_id": f"R{n}",
                },
            }
        )
        sources.append(
            {
                "key": f"{who}-bank",
                "resident": who,
                "type": "bank_account",
                "routing_number": "110000000",
                "account_number": f"00012345670{n}",
            }
        )
    return {
        "version": 1,
        "scenario": "races",
        "properties": [
            {
                "key": "p",
                "name": "Race Street",
                "address": {
                    "street": "1 Race Street",
                    "city": "Albany",
                    "state": "NY",
                    "postal_code": "12203",
                },
                "units": [{"key": f"u{n}", "name": f"Unit {n}"} for n in range(1, 6)],
            }
        ],
        "deposit_accounts": [
            {
                "key": "rent",
                "type": "rent",
                "account_number": "0040041234",
                "routing_number": "110000000",
                "properties": ["p"],
            }
        ],
        "residents": residents,
        "payment_sources": sources,
        # Monday 2026-07-06 10:00 New York: deposited on Tuesday.
        "payments": [
            {
                "key": f"{who}-monday",
                "resident": who,
                "source": f"{who}-bank",
                "amount": "500.00",
                "type": "rent",
                "at": "2026-07-06T14:00:00Z",
            }
            for who in ("ann", "dan")
        ],
    }


def all_at_once(calls: list[Callable[[], httpx.Response]]) -> Counter[int]:
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], httpx.Response]) -> int:
        barrier.wait(timeout=60)
        return call().status_code

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return Counter(pool.map(run, calls))


def race(base: str, operator_key: str) -> tuple[str, list[tuple[str, Counter[int]]]]:
    """Build the world in a new workspace and run every race; the workspace ID and, per race,
    the status codes answered."""
    with httpx.Client(base_url=base, timeout=120) as http:
        return _race(http, {"Authorization": f"Bearer {operator_key}"})


def _race(http: httpx.Client, op: dict[str, str]) -> tuple[str, list[tuple[str, Counter[int]]]]:

    ws = http.post(
        "/v1/sandbox/workspaces",
        json={"name": "races", "clock": {"now": "2026-07-06T13:00:00Z"}},
        headers=op,
    ).json()
    ws_id = ws["id"]
    loaded = http.post(f"/v1/sandbox/workspaces/{ws_id}/scenario", json=scenario(), headers=op)
    loaded.raise_for_status()
    keys = loaded.json()["ids"] if "ids" in loaded.json() else loaded.json()
    moved = http.post(
        f"/v1/sandbox/workspaces/{ws_id}/clock/advance",
        json={"to": "2026-07-07T14:00:00Z"},  # Tuesday 10:00 New York
        headers=op,
    )
    moved.raise_for_status()

    def landlord() -> dict[str, str]:
        token = http.post(
            "/v1/auth/login",
            json={"email": ws["landlord"]["email"], "password": ws["landlord"]["password"]},
        ).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def resident(who: str) -> dict[str, str]:
        token = http.post(
            "/v1/resident/login",
            json={
                "email": f"{who}@races.example",
                "password": f"{who}-pass-1",
                "workspace_id": ws_id,
            },
        ).json()["access_token"]
        return {"Authorization": f"Bearer {token}"}

    ll = landlord()
    payments = http.get("/v1/payments", params={"limit": "500"}, headers=ll).json()["data"]
    by_resident = {p["resident_id"]: p for p in payments}
    residents = {
        r["email"].split("@")[0]: r
        for r in http.get("/v1/residents", params={"limit": "500"}, headers=ll).json()["data"]
    }
    ann_paid = by_resident[residents["ann"]["id"]]
    dan_paid = by_resident[residents["dan"]["id"]]

    def pay(who: str, key: str | None = None) -> httpx.Response:
        auth = resident(who)
        lease = http.get("/v1/resident/leases", headers=auth).json()["data"][0]
        source = http.get("/v1/resident/payment-sources", headers=auth).json()["data"][0]
        return http.post(
            "/v1/resident/payments",
            json={
                "lease_id": lease["id"],
                "payment_source_id": source["id"],
                "amount": "500.00",
                "type": "rent",
            },
            headers={**auth, **({"Idempotency-Key": key} if key else {})},
        )

    ben_paid = pay("ben").json()
    cara_auth = resident("cara")
    cara_lease = http.get("/v1/resident/leases", headers=cara_auth).json()["data"][0]
    cara_source = http.get("/v1/resident/payment-sources", headers=cara_auth).json()["data"][0]
    cara_paid = http.post(
        "/v1/resident/payments",
        json={
            "lease_id": cara_lease["id"],
            "payment_source_id": cara_source["id"],
            "amount": "500.00",
            "type": "rent",
        },
        headers=cara_auth,
    ).json()
    eve_auth = resident("eve")
    eve_lease = http.get("/v1/resident/leases", headers=eve_auth).json()["data"][0]
    eve_source = http.get("/v1/resident/payment-sources", headers=eve_auth).json()["data"][0]

    rows: list[tuple[str, Counter[int]]] = []
    rows.append(
        (
            f"refund a completed $500 payment ({ann_paid['status']})",
            all_at_once(
                [
                    (
                        lambda n=n: http.post(
                            f"/v1/payments/{ann_paid['id']}/refund",
                            headers={**ll, "Idempotency-Key": f"refund-{n}"},
                        )
                    )
                    for n in range(N)
                ]
            ),
        )
    )
    rows.append(
        (
            "landlord void",
            all_at_once([lambda: http.post(f"/v1/payments/{ben_paid['id']}/void", headers=ll)] * N),
        )
    )
    rows.append(
        (
            "resident cancel",
            all_at_once(
                [
                    lambda: http.post(
                        f"/v1/resident/payments/{cara_paid['id']}/cancel", headers=cara_auth
                    )
                ]
                * N
            ),
        )
    )
    rows.append(
        (
            "operator ACH return (R01)",
            all_at_once(
                [
                    (
                        lambda n=n: http.post(
                            f"/v1/sandbox/workspaces/{ws_id}/payments/{dan_paid['id']}/return",
                            json={"code": "R01"},
                            headers={**op, "Idempotency-Key": f"return-{n}"},
                        )
                    )
                    for n in range(N)
                ]
            ),
        )
    )
    rows.append(
        (
            "one-time payments, same resident and day",
            all_at_once(
                [
                    (
                        lambda n=n: http.post(
                            "/v1/resident/payments",
                            json={
                                "lease_id": eve_lease["id"],
                                "payment_source_id": eve_source["id"],
                                "amount": "500.00",
                                "type": "rent",
                            },
                            headers={**eve_auth, "Idempotency-Key": f"pay-{n}"},
                        )
                    )
                    for n in range(N)
                ]
            ),
        )
    )
    assert keys
    return ws_id, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--operator-key", required=True)
    args = parser.parse_args()
    ws_id, rows = race(args.base, args.operator_key)
    print(f"workspace {ws_id}")
    print("| request | succeeded | answers |")
    print("|---|---|---|")
    for name, counts in rows:
        ok = sum(v for k, v in counts.items() if k < 300)
        print(f"| {name} | {ok} | {dict(sorted(counts.items()))} |")


if __name__ == "__main__":
    main()
