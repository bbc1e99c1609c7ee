"""``portal reference mri --host 127.0.0.1 --port P [--seed FILE]`` (issue 17, pinned): the CLI
starts uvicorn on the reference app in a process of its own, which a client reaches over HTTP
only: seeded from the file at start, read, posted to and read back."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from portal_tests.reference_mri.conftest import (
    CREDENTIAL,
    FIXTURES,
    LEASE_DETAILS,
    PROPERTY,
    RESIDENTS_XML,
    Mri,
    batches,
    leases,
    payment_xml,
    records,
)
from portal_tests.reference_mri.server import MriReferenceServer


@pytest.fixture(scope="module")
def cli_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MriReferenceServer]:
    folder = tmp_path_factory.mktemp("cli_mri")
    (folder / RESIDENTS_XML).write_bytes((FIXTURES / RESIDENTS_XML).read_bytes())
    seed = folder / "mri.json"
    seed.write_text(
        json.dumps(
            {
                "credentials": [CREDENTIAL],
                "properties": [{"property_id": PROPERTY, "residents_xml": RESIDENTS_XML}],
            }
        )
    )
    with MriReferenceServer(folder / "mri.log", seed=seed) as server:
        yield server


def test_seeded_read_post_and_read_back_through_the_cli_server(
    cli_server: MriReferenceServer,
) -> None:
    with httpx.Client(base_url=cli_server.base, timeout=10) as admin, Mri(cli_server) as mri:
        assert len(records(mri.get(LEASE_DETAILS, RMPROPID=PROPERTY))) == 8
        assert records(mri.post(payment_xml()))[0]["TransactionID"] == "00000501PP"
        assert leases(admin)["01|102|1"]["balance"] == "1230.00"
        assert batches(admin)["325698"]["total"] == "500.00"
        calls = admin.get("/_ref/calls").json()["data"]
        assert [c["verdict"] for c in calls] == ["accepted", "accepted"]
    log = cli_server.log()
    assert "reference MRI" in log
    assert "/mriapiservices/api.asp" in log
