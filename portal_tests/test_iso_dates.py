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


@pytest.mark.parametrize(
    ("model", "field"),
    [
        ("portal.applicants.schemas:ApplicationIn", "desired_move_in"),
        ("portal.applicants.schemas:ApplicationPatch", "desired_move_in"),
        ("portal.residents.schemas:InviteIn", "start_date"),
        ("portal.residents.schemas:InviteIn", "end_date"),
        ("portal.residents.schemas:ManualApproval", "lease_start"),
        ("portal.residents.schemas:ManualApproval", "lease_end"),
        ("portal.residents.schemas:LeasePatch", "end_date"),
        ("portal.work_orders.schemas:WorkOrderPatch", "required_by"),
        ("portal.work_orders.schemas:WorkOrderPatch", "vendor_notified_on"),
        ("portal.work_orders.schemas:WorkOrderPatch", "work_started_on"),
        ("portal.work_orders.schemas:WorkOrderPatch", "work_completed_on"),
        ("portal.payments.schemas:PaymentIn", "date"),
    ],
)
def test_a_date_in_a_body_takes_an_iso_date_and_nothing_else(model: str, field: str) -> None:
    """The same rule for bodies: the schemathesis run of 2026-12-05 had ``PATCH
    /v1/applicants/{id}`` take ``{"desired_move_in": 5.4e-95}`` as 1970-01-01."""
    import importlib

    from pydantic import ValidationError

    module, name = model.split(":")
    cls = getattr(importlib.import_module(module), name)
    for bad in (5.4872312389545527e-95, 0, 1700000000, "0.0", "2026-7-1"):
        with pytest.raises(ValidationError) as refused:
            cls.model_validate({field: bad}, strict=False)
        assert any(e["loc"] == (field,) for e in refused.value.errors()), (bad, refused.value)
