"""A reference accounting client: the Landlord 12 "Load Receipts from RentTrack / Inosio Server"
flow against the portal, printing the lines the dialog shows (seed 004 §D; domain.md §8).

    python examples/landlord12_client.py --base http://127.0.0.1:8000 --token <integration token> \
        [--balances examples/oak-street-balances.json] [--keep]

1. Send Balances (``POST /v1/integration/balances``) from a JSON file, if given;
2. Check Server for More Batches (``GET /v1/integration/receipt-batches?state=unprocessed``);
3. Load Receipts of the first unprocessed batch (``GET .../receipt-batches/{id}``);
4. Mark Processed (``POST .../receipt-batches/{id}/processed``), unless ``--keep``;
5. the History tab (``?state=processed``) and Show Last Error (``GET /v1/integration/last-error``).

Needs only httpx. Every call sends the integration token; Send Balances an Idempotency-Key.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx


def dollars(amount: str) -> str:
    """``"1200.00"`` -> ``$1,200.00`` (``-$980.00`` for a reversal), as the client shows money."""
    value = Decimal(amount)
    return f"{'-' if value < 0 else ''}${abs(value):,.2f}"


def us_date(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"{d.month}/{d.day}/{d.year}"


def all_batches(client: httpx.Client, state: str) -> list[dict[str, Any]]:
    """Every page of the list (the dialog's dropdown holds them all)."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"state": state, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/integration/receipt-batches", params=params)
        page.raise_for_status()
        out += page.json()["data"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return out


def run(base: str, token: str, balances: Path | None, keep: bool) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        if balances is not None:
            body = json.loads(balances.read_text())
            sent = client.post(
                "/v1/integration/balances",
                json=body,
                headers={"Idempotency-Key": f"send-balances-{balances.stem}"},
            )
            if sent.status_code != 200:
                print(f"Send Balances failed: {sent.json().get('detail')}")
                return 1
            s = sent.json()
            print(
                f"Send Balances: {len(s['residents'])} residents sent "
                f"({s['created']} new, {s['updated']} updated, {s['unchanged']} unchanged)"
            )

        print("Load Receipts from Inosio Server")
        print("[Unprocessed Batches] | History")
        unprocessed = all_batches(client, "unprocessed")
        if not unprocessed:
            print("No Batches Found")
        for b in unprocessed:
            print(f"Unprocessed Receipt Batch: {b['label']}")

        if unprocessed:
            batch = unprocessed[0]
            loaded = client.get(f"/v1/integration/receipt-batches/{batch['id']}")
            loaded.raise_for_status()
            receipts = loaded.json()["receipts"]
            print(f"Load Receipts: {len(receipts)} receipt{'' if len(receipts) == 1 else 's'}")
            print("Date\tPayment Description\tAmount")
            for r in receipts:
                print(f"{us_date(r['date'])}\t{r['description']}\t{dollars(r['amount'])}")
                print(f"\tMemo: {r['memo']}")
                print(f"\tStatus: Unpaid charges are {dollars(r['unpaid_charges'])}")
            total = sum(Decimal(r["amount"]) for r in receipts)
            print(f"Total Entries: {len(receipts)}  Total Amount: {dollars(str(total))}")
            if not keep:
                marked = client.post(f"/v1/integration/receipt-batches/{batch['id']}/processed")
                marked.raise_for_status()
                print(f"Mark Processed: {batch['label']}")

        print("Unprocessed Batches | [History]")
        processed = all_batches(client, "processed")
        if not processed:
            print("No Batches Found")
        for b in processed:
            print(f"Processed Receipt Batch: {b['label']}")
        error = client.get("/v1/integration/last-error").json()["error"]
        if error is None:
            print("Show Last Error: no error")
        else:
            print(f"Show Last Error: {error['at']} {error['code']}: {error['detail']}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True, help="The integration token (shown once)")
    parser.add_argument("--balances", type=Path, help="A Send Balances body (JSON)")
    parser.add_argument("--keep", action="store_true", help="Do not mark the batch processed")
    args = parser.parse_args()
    return run(args.base, args.token, args.balances, args.keep)


if __name__ == "__main__":
    sys.exit(main())
