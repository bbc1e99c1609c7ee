"""The reference client under ``examples/`` runs the Landlord 12 flow against a live server
(issue 7, acceptance 5): ``portal serve`` in a subprocess on the suite's database, the shipped
Oak Street world loaded over HTTP, the script run as a user would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from portal_tests.live import OPERATOR_KEY, LiveServer

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "examples" / "landlord12_client.py"
BALANCES = ROOT / "examples" / "oak-street-balances.json"
OAK_STREET = ROOT / "seed_data" / "oak-street-landlord12.json"


@pytest.fixture
def live(live_server: LiveServer) -> str:
    """The worker's live ``portal serve`` (``portal_tests/conftest.py``)."""
    return live_server.base


def _oak_street(base: str) -> str:
    """The shipped world in a new workspace; the integration token it issues."""
    operator = {"Authorization": f"Bearer {OPERATOR_KEY}"}
    doc = json.loads(OAK_STREET.read_text())
    section = doc["workspace"]
    created = httpx.post(
        f"{base}/v1/sandbox/workspaces",
        json={
            "name": "live",
            "seed": section["seed"],
            "clock": section["clock"],
            "settings": section["settings"],
        },
        headers=operator,
    )
    assert created.status_code == 201, created.text
    loaded = httpx.post(
        f"{base}/v1/sandbox/workspaces/{created.json()['id']}/scenario",
        json=doc,
        headers=operator,
        timeout=120,
    )
    assert loaded.status_code == 200, loaded.text
    token: str = loaded.json()["tokens"]["landlord12"]
    return token


def _run(base: str, token: str, *extra: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(CLIENT), "--base", base, "--token", token, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_the_dialog_lines_over_a_live_server(live: str) -> None:
    token = _oak_street(live)

    lines = _run(live, token, "--balances", str(BALANCES))

    assert lines[0] == "Send Balances: 2 residents sent (0 new, 2 updated, 0 unchanged)"
    assert lines[1:3] == ["Load Receipts from Inosio Server", "[Unprocessed Batches] | History"]
    assert lines[3:11] == [
        f"Unprocessed Receipt Batch: {label}"
        for label in (
            "Deposit on 2/23/2022, $2,700.00, 3 items, Id: 2732388606925747",
            "Deposit on 2/23/2022, $50.00, 1 item, Id: 4524433009648478",
            "Deposit on 2/23/2022, $100.00, 1 item, Id: 9363081796946967",
            "Deposit on 2/23/2022, $1,032.00, 1 item, Id: 2774276343810105",
            "Deposit on 2/23/2022, $2,565.00, 4 items, Id: 6455186897846405",
            "Deposit on 2/23/2022, $1,450.00, 2 items, Id: 8177022708113454",
            "Deposit on 2/25/2022, $22.00, 1 item, Id: 2530688385335306",
            "Deposit on 2/25/2022, $41.00, 2 items, Id: 8760846393525238",
        )
    ]
    receipts = lines[11:22]
    assert receipts[0] == "Load Receipts: 3 receipts"
    assert receipts[1] == "Date\tPayment Description\tAmount"
    assert receipts[2] == "2/22/2022\tAnthony Kmetz for 2118 Oak Street\t$1,200.00"
    assert receipts[3].startswith("\tMemo: Inosio Transaction Trans #")
    assert receipts[4] == "\tStatus: Unpaid charges are $0.00"
    assert receipts[5] == "2/22/2022\tAnthony Kmetz for 2118 Oak Street\t$1,000.00"
    assert receipts[7] == "\tStatus: Unpaid charges are $0.00"
    assert receipts[8] == "2/22/2022\tJerry and Karyl Rodriguez for 2118 Oak Street\t$500.00"
    assert receipts[10] == "\tStatus: Unpaid charges are $980.00"
    assert lines[22] == "Total Entries: 3  Total Amount: $2,700.00"
    assert lines[23] == (
        "Mark Processed: Deposit on 2/23/2022, $2,700.00, 3 items, Id: 2732388606925747"
    )
    assert lines[24:] == [
        "Unprocessed Batches | [History]",
        "Processed Receipt Batch: Deposit on 2/23/2022, $2,700.00, 3 items, Id: 2732388606925747",
        "Show Last Error: no error",
    ]

    again = _run(live, token, "--keep")

    assert (
        again[2]
        == "Unprocessed Receipt Batch: Deposit on 2/23/2022, $50.00, 1 item, Id: 4524433009648478"
    )
    assert "Load Receipts: 1 receipt" in again
    assert again[-2].startswith("Processed Receipt Batch: Deposit on 2/23/2022, $2,700.00")


def test_a_wrong_token_is_refused(live: str) -> None:
    done = subprocess.run(
        [sys.executable, str(CLIENT), "--base", live, "--token", "not-a-token"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "401" in done.stderr
