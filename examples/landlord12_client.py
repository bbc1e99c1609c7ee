"""A reference accounting client: the Landlord 12 "Load Receipts from RentTrack / Inosio
Server" flow against the portal, printing the lines the dialog shows (seed 004 §D; domain.md §8).

    python examples/landlord12_client.py --base http://127.0.0.1:8000 --token <integration token> \
        [--balances examples/oak-street-balances.json] [--keep]

1. Send Balances (``POST /v1/integration/balances``) from a JSON file, if given;
2. Check Server for More Batches (``GET /v1/integration/receipt-batches?state=unprocessed``);
3. Load Receipts of the first unprocessed batch (``GET .../receipt-batches/{id}``);
4. Mark Processed (``POST .../receipt-batches/{id}/processed``), unless ``--keep``;
5. the History tab (``?state=processed``) and Show Last Error (``GET /v1/integration/last-error``).

Needs only httpx. Every call sends the integration token; Send Balances an Idempotency-Key. A
refused call prints the portal's problem (``401 token_revoked: ...``) on stderr and exits 1, as
the client's "Show Last Error" would show it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


class Stopped(Exception):
    """The flow cannot go on: the message says why (printed on stderr, exit 1)."""


class Refused(Stopped):
    """The portal answered a call with an error (an ``application/problem+json`` body)."""

    def __init__(self, step: str, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        code = body.get("code") or response.reason_phrase
        detail = body.get("detail") or response.text[:200]
        super().__init__(f"{step} failed: {response.status_code} {code}: {detail}")


def ok(step: str, response: httpx.Response) -> Any:
    """The JSON body of a successful call, else ``Refused`` naming the dialog's step."""
    if response.status_code >= 400:
        raise Refused(step, response)
    return response.json()


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
        step = "Check Server for More Batches" if state == "unprocessed" else "History"
        page = ok(step, client.get("/v1/integration/receipt-batches", params=params))
        out += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return out


def run(base: str, token: str, balances: Path | None, keep: bool) -> int:
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        if balances is not None:
            try:
                body = json.loads(balances.read_text())
            except (OSError, ValueError) as exc:
                raise Stopped(f"{balances}: {exc}") from None
            s = ok(
                "Send Balances",
                client.post(
                    "/v1/integration/balances",
                    json=body,
                    headers={"Idempotency-Key": f"send-balances-{balances.stem}"},
                ),
            )
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
            loaded = ok(
                "Load Receipts", client.get(f"/v1/integration/receipt-batches/{batch['id']}")
            )
            receipts = loaded["receipts"]
            print(f"Load Receipts: {len(receipts)} receipt{'' if len(receipts) == 1 else 's'}")
            print("Date\tPayment Description\tAmount")
            for r in receipts:
                print(f"{us_date(r['date'])}\t{r['description']}\t{dollars(r['amount'])}")
                print(f"\tMemo: {r['memo']}")
                print(f"\tStatus: Unpaid charges are {dollars(r['unpaid_charges'])}")
            total = sum(Decimal(r["amount"]) for r in receipts)
            print(f"Total Entries: {len(receipts)}  Total Amount: {dollars(str(total))}")
            if not keep:
                ok(
                    "Mark Processed",
                    client.post(f"/v1/integration/receipt-batches/{batch['id']}/processed"),
                )
                print(f"Mark Processed: {batch['label']}")

        print("Unprocessed Batches | [History]")
        processed = all_batches(client, "processed")
        if not processed:
            print("No Batches Found")
        for b in processed:
            print(f"Processed Receipt Batch: {b['label']}")
        error = ok("Show Last Error", client.get("/v1/integration/last-error"))["error"]
        if error is None:
            print("Show Last Error: no error")
        else:
            print(f"Show Last Error: {error['at']} {error['code']}: {error['detail']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="landlord12_client.py",
        description="A reference accounting client: runs Landlord 12's \"Load Receipts from "
        'RentTrack / Inosio Server" dialog against a portal and prints its lines.',
        epilog="Steps: Send Balances (with --balances), Check Server for More Batches, Load "
        "Receipts of the first unprocessed batch, Mark Processed (unless --keep), the History "
        "tab and Show Last Error. The token is an integration token: `portal seed "
        "seed_data/oak-street-landlord12.json` prints one.",
    )
    parser.add_argument(
        "--base",
        default=os.environ.get("PORTAL_URL", "http://127.0.0.1:8000"),
        help="The portal's URL (default: $PORTAL_URL or http://127.0.0.1:8000)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("PORTAL_TOKEN"),
        required="PORTAL_TOKEN" not in os.environ,
        help="The integration token, shown once when issued (or $PORTAL_TOKEN)",
    )
    parser.add_argument("--balances", type=Path, help="A Send Balances body (JSON file)")
    parser.add_argument("--keep", action="store_true", help="Do not mark the batch processed")
    args = parser.parse_args(argv)
    try:
        import httpx
    except ImportError:
        print(
            "landlord12_client.py needs httpx: `pip install httpx`, or run it with the "
            "portal's own interpreter (.venv/bin/python)",
            file=sys.stderr,
        )
        return 2
    try:
        return run(args.base, args.token, args.balances, args.keep)
    except Stopped as exc:
        print(exc, file=sys.stderr)
        return 1
    except httpx.TransportError as exc:
        print(f"cannot reach the portal at {args.base}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
