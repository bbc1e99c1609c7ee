"""``portal reference amsi --host 127.0.0.1 --port P`` (issue 16, pinned): the CLI starts uvicorn
on the reference app in a process of its own, which a client reaches over HTTP only."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from portal_tests.reference.conftest import (
    LOGIN,
    PORTFOLIO,
    add_payment,
    error_code,
    journals,
    leases,
    parsed,
    residents_request,
    seed,
    wsdl_client,
)
from portal_tests.reference.server import ReferenceServer


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    with ReferenceServer(tmp_path_factory.mktemp("cli") / "amsi.log") as server:
        yield server


def test_seed_import_post_and_read_back_through_the_cli_server(
    cli_server: ReferenceServer,
) -> None:
    with httpx.Client(base_url=cli_server.base, timeout=10) as admin:
        seed(admin)
        leasing = wsdl_client(cli_server, "leasing")
        ledger = wsdl_client(cli_server, "ledger")
        current = parsed(leasing.service.GetPropertyResidents(**LOGIN, XMLData=residents_request()))
        assert len(current.findall("Lease")) == 3
        assert error_code(add_payment(ledger)) == 0
        assert leases(admin)[("01", "102", "4")]["end_balance"] == "1230.00"
        assert [p["amount"] for p in journals(admin)["55558888"]["payments"]] == ["500.00"]
        assert admin.get(f"/_ref/portfolios/{PORTFOLIO}").json()["payments"] == 1
    assert "reference AMSI eSite" in cli_server.log()
