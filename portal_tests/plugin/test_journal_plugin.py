"""The plugin's ``portal_journal`` (issue 20): a test asserts what its client sent, WireMock's
verify for the portal, against a live ``portal serve``."""

from __future__ import annotations

import pytest

from portal.testing import PortalJournal, PortalWorkspace

THURSDAY = "2026-07-02T14:00:00Z"


@pytest.mark.portal_workspace(seed=42, clock={"now": THURSDAY})
def test_verify_counts_and_lists_near_misses(
    portal_workspace: PortalWorkspace, portal_journal: PortalJournal
) -> None:
    client = portal_workspace.integration().client
    portal_journal.reset()  # the landlord's setup calls are not the client's
    for _ in range(3):
        assert client.get("/v1/integration/last-error").status_code == 200
    assert client.get("/v1/integration/receipt-batches/1234").status_code == 404

    assert portal_journal.verify(path="/v1/integration/last-error", exactly=3) == 3
    assert portal_journal.verify(status="4xx", principal="integration", at_most=1) == 1
    assert portal_journal.verify(path="/v1/integration/**", at_least=4) == 4
    [missing] = portal_journal.entries(status=404)
    assert (missing.path, missing.code) == (
        "/v1/integration/receipt-batches/1234",
        "receipt_batch_not_found",
    )
    assert len(portal_journal) == 4

    with pytest.raises(AssertionError) as failed:
        portal_journal.verify(path="/v1/integration/receipt-batches/*", status="200")
    message = str(failed.value)
    assert "expected at least 1 request(s)" in message
    assert "found 0" in message
    assert "/v1/integration/receipt-batches/1234  404 receipt_batch_not_found" in message
    assert "missed: status" in message
