"""``portal trigger`` against a live server (issue 18, "Beyond the anchors"): a return, a
chargeback and a payment made now, and what each did, read back over HTTP."""

from __future__ import annotations

import json

import pytest

from portal_tests.cli.conftest import SEED_DATA, at, new_workspace
from portal_tests.live import LiveServer

LANDLORD = ["--landlord", "manager@oakstreet.example", "--landlord-password", "oak-street-demo"]


@pytest.fixture
def oak_street(server: LiveServer) -> dict[str, str]:
    """The Oak Street world on the server; its scenario keys -> IDs."""
    seeded = at(server, "seed", str(SEED_DATA / "oak-street-landlord12.json"), "--json")
    assert seeded.exit_code == 0, seeded.output
    keys: dict[str, str] = json.loads(seeded.stdout)["keys"]
    return keys


def test_return(server: LiveServer, oak_street: dict[str, str]) -> None:
    # Rebecca Lujan's $22.00 of 2/24/2022, deposited on 2/25/2022 (the world's last day).
    payment = oak_street["lujan-rest"]

    result = at(server, "trigger", "return", "R01", "--payment", payment, *LANDLORD)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"return R01 (Insufficient Funds) of payment {payment} in ws_oak_street at {server.base}"
    )
    assert lines[1].startswith("  reversal  rev_")
    assert ": -$22.00 NSF, in reversal batch " in lines[1]
    assert lines[1].endswith(", business date 2022-02-25")
    assert lines[2].startswith("  balance   +$22.00 on lease lease_")
    assert "  ledger    landlord12: negative_receipt – A negative_receipt in a reversal batch" in (
        lines
    )
    assert (
        f"  payment   {payment} returned (Returned), $22.00, business date 2022-02-24, "
        "batch 2530688385335306, deposit date 2022-02-25"
    ) in lines
    assert "  e-mail    payment_returned to manager@oakstreet.example: Payment Returned" in lines
    assert "  e-mail    payment_returned to rebecca.lujan@example.com: Payment Returned" in lines


def test_chargeback_as_json(server: LiveServer, oak_street: dict[str, str]) -> None:
    payment = oak_street["rodriguez-500"]  # a Visa card payment

    result = at(
        server, "trigger", "chargeback", "--payment", payment, "--reason-code", "13.1", "--json"
    )

    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["workspace_id"] == "ws_oak_street"
    assert done["reversal"]["payment_id"] == payment
    assert done["reversal"]["reason_code"] == "13.1"
    assert done["reversal"]["dispute"]["status"] == "needs_response"
    assert [e["kind"] for e in done["emails"]] == ["chargeback_received"]
    assert done["payment"] is None  # no landlord login given


def test_payment(server: LiveServer, oak_street: dict[str, str]) -> None:
    result = at(
        server,
        "trigger",
        "payment",
        "--resident",
        "anthony.kmetz@example.com",
        "--password",
        "kmetz-demo-pass",
        "--amount",
        "25.00",
    )

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"payment by anthony.kmetz@example.com in ws_oak_street at {server.base}"
    assert lines[1].startswith("  payment   pay_")
    assert "processing (Processing), $25.00, business date 2022-02-25, batch " in lines[1]
    assert lines[1].endswith("deposit date 2022-02-28")
    assert lines[2:] == [
        "  e-mail    payment_receipt to anthony.kmetz@example.com: Rent Payment Initiated"
    ]


def test_refusals_are_one_line(server: LiveServer, oak_street: dict[str, str]) -> None:
    unknown = at(server, "trigger", "return", "R01", "--payment", "pay_nope")
    a_card = at(server, "trigger", "return", "R01", "--payment", oak_street["rodriguez-500"])
    new_workspace(server)
    ambiguous = at(server, "trigger", "return", "R01", "--payment", "pay_nope")

    assert unknown.exit_code == 1
    assert unknown.output.strip() == (
        f"payment_not_found: No payment 'pay_nope'. (looked at {server.base})"
    )
    assert a_card.exit_code == 1
    assert a_card.output.startswith("payment_not_returnable: ")
    assert ambiguous.exit_code == 2
    assert ambiguous.output.startswith(f"2 workspaces at {server.base} (")
    assert "pass --workspace" in ambiguous.output
