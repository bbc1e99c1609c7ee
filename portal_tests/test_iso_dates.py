"""Dates in query parameters are ``YYYY-MM-DD`` only (``portal.core.dates``): pydantic's lax
``date`` read ``0.0`` as the Unix epoch, so ``?from=0.0`` listed payments (the schemathesis run
of issue 18 found it)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import make_world


@pytest.mark.parametrize(
    "path",
    [
        "/v1/payments?from={v}",
        "/v1/payments?to={v}",
        "/v1/deposit-batches?date={v}",
        "/v1/deposit-batches?business_date={v}",
        "/v1/reversals?date={v}",
        "/v1/reports/batch-deposits?date={v}",
    ],
)
def test_a_date_parameter_takes_an_iso_date_and_nothing_else(client: TestClient, path: str) -> None:
    world = make_world(client)
    for bad in ("0.0", "0", "1700000000", "2026-7-1", "07/01/2026", "2026-07-01T00:00:00Z"):
        refused = client.get(path.format(v=bad), headers=world.landlord)
        assert refused.status_code == 422, (bad, refused.text)
        assert "YYYY-MM-DD" in refused.text
    assert client.get(path.format(v="2026-07-01"), headers=world.landlord).status_code == 200
