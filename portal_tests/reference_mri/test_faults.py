"""The harness's fault switches (connectors.md §3.1) on ``api.asp``, GET and POST: above all
commit-then-hang on the payment POST (RT's duplicate-on-retry, §2.3), and ``slow_page``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from portal.reference.harness import FaultSwitches
from portal_tests.reference_mri.conftest import (
    LEASE_DETAILS,
    PAYMENTS,
    PROPERTY,
    AnyServer,
    Mri,
    batches,
    error_message,
    leases,
    payment_json,
    payment_xml,
    records,
    set_fault,
)

NOW = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def receipts(admin: httpx.Client) -> list[str]:
    data = admin.get(f"/_ref/properties/{PROPERTY}/receipts").json()["data"]
    return [r["external_transaction_number"] for r in data]


class TestCommitThenHang:
    @pytest.mark.parametrize("fmt", ["xml", "json"])
    def test_the_post_commits_hangs_and_the_retry_is_a_duplicate(
        self, seeded: httpx.Client, mri_server: AnyServer, mri: Mri, fmt: str
    ) -> None:
        set_fault(seeded, kind="timeout_next", operation=PAYMENTS, seconds=2)
        body = payment_xml() if fmt == "xml" else payment_json(ExternalTransactionNumber="4567890")
        started = time.monotonic()
        with Mri(mri_server, timeout=0.5) as impatient, pytest.raises(httpx.ReadTimeout):
            impatient.post(body, fmt)
        assert time.monotonic() - started < 1.5
        # Posted before the hang (§2.3: RT retries a POST on a timeout).
        assert receipts(seeded) == ["4567890"]
        retry = mri.post(body, fmt)
        assert (error_message(retry) or "").startswith(
            "Duplicate: ExternalTransactionNumber 4567890 was posted as 00000501PP"
        )
        assert receipts(seeded) == ["4567890"]
        assert leases(seeded)["01|102|1"]["balance"] == ("1230.00" if fmt == "xml" else "730.00")
        calls = [c for c in seeded.get("/_ref/calls").json()["data"] if c["operation"]]
        assert (calls[-2]["fault"]["kind"], calls[-2]["committed"]) == ("timeout", True)
        assert calls[-1]["error_codes"] == [9]

    def test_a_timeout_on_a_get_answers_late(
        self, seeded: httpx.Client, mri_server: AnyServer
    ) -> None:
        set_fault(seeded, kind="timeout", operation=LEASE_DETAILS, seconds=1)
        started = time.monotonic()
        with Mri(mri_server) as client:
            response = client.get(LEASE_DETAILS, RMPROPID=PROPERTY)
        assert time.monotonic() - started >= 1
        assert len(records(response)) == 8


class TestRejectHttpErrorMalformed:
    @pytest.mark.parametrize("fmt", ["xml", "json"])
    def test_reject_next_is_an_error_inside_a_200(
        self, seeded: httpx.Client, mri: Mri, fmt: str
    ) -> None:
        set_fault(seeded, kind="reject_next", operation=PAYMENTS, count=2, message="Locked")
        body = payment_xml() if fmt == "xml" else payment_json()
        assert error_message(mri.post(body, fmt)) == "Locked"
        assert error_message(mri.post(body, fmt)) == "Locked"
        assert receipts(seeded) == []
        assert error_message(mri.post(body, fmt)) is None
        call = seeded.get("/_ref/calls").json()["data"][-2]
        assert (call["verdict"], call["error_codes"]) == ("rejected", [99])

    def test_reject_on_a_get_and_only_on_its_operation(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        set_fault(seeded, kind="reject", operation=LEASE_DETAILS, code=42)
        assert error_message(mri.post(payment_xml())) is None
        got = mri.get(LEASE_DETAILS, "json", RMPROPID=PROPERTY)
        assert error_message(got) == "Rejected by the reference server's fault switch"
        assert seeded.get("/_ref/calls").json()["data"][-1]["error_codes"] == [42]

    def test_http_error_with_and_without_the_work(self, seeded: httpx.Client, mri: Mri) -> None:
        set_fault(seeded, kind="http_error", operation=PAYMENTS, status=502)
        assert mri.post(payment_xml()).status_code == 502
        assert receipts(seeded) == []
        set_fault(seeded, kind="http_error", status=500, commit=True)
        assert mri.post(payment_xml()).status_code == 500
        assert receipts(seeded) == ["4567890"]
        set_fault(seeded, kind="soap_fault")
        assert mri.get(LEASE_DETAILS, RMPROPID=PROPERTY).status_code == 500

    def test_malformed_after_the_work(self, seeded: httpx.Client, mri: Mri) -> None:
        set_fault(seeded, kind="malformed_next", operation=PAYMENTS)
        response = mri.post(payment_xml())
        assert response.status_code == 200
        assert not response.text.endswith("</mri_s-pmrm_paymentdetailsbypropertyid>")
        assert receipts(seeded) == ["4567890"]
        assert batches(seeded)["325698"]["total"] == "500.00"


class TestLatencyDowntimeSlowPage:
    def test_latency(self, seeded: httpx.Client, mri: Mri) -> None:
        set_fault(seeded, kind="latency", ms=300)
        started = time.monotonic()
        mri.get(LEASE_DETAILS, RMPROPID=PROPERTY)
        assert time.monotonic() - started >= 0.29

    def test_downtime_on_the_server_clock(self, seeded: httpx.Client, mri: Mri) -> None:
        seeded.put("/_ref/clock", json={"now": NOW.isoformat()})
        try:
            window = {"from": NOW.isoformat(), "to": (NOW + timedelta(hours=1)).isoformat()}
            set_fault(seeded, kind="downtime", **window)
            assert mri.post(payment_xml()).status_code == 503
            assert mri.get(LEASE_DETAILS, RMPROPID=PROPERTY).status_code == 503
            seeded.put("/_ref/clock", json={"advance_seconds": 3600})
            assert error_message(mri.post(payment_xml())) is None
            calls = seeded.get("/_ref/calls").json()["data"]
            assert [c["verdict"] for c in calls[-3:]] == ["down", "down", "accepted"]
        finally:
            seeded.put("/_ref/clock", json={"system": True})

    def test_slow_page_slows_the_named_page_only(self, seeded: httpx.Client, mri: Mri) -> None:
        fault = set_fault(seeded, kind="slow_page", operation=LEASE_DETAILS, page=2, ms=600)
        assert (fault["page"], fault["remaining"]) == (2, None)
        timings = []
        for skip in ("0", "4", "7"):
            started = time.monotonic()
            mri.get(LEASE_DETAILS, RMPROPID=PROPERTY, **{"$top": "3", "$skip": skip})
            timings.append(time.monotonic() - started)
        assert timings[0] < 0.5
        assert timings[1] >= 0.59
        assert timings[2] < 0.5
        assert seeded.get("/_ref/faults").json()["data"][0]["fired"] == 1

    def test_an_unknown_operation_is_422(self, seeded: httpx.Client) -> None:
        response = seeded.post("/_ref/faults", json={"kind": "reject", "operation": "AddPayment"})
        assert response.status_code == 422
        assert PAYMENTS in response.json()["detail"]


def test_page_delay_of_the_shared_harness() -> None:
    switches = FaultSwitches({LEASE_DETAILS})
    every_later_page = switches.slow_page(ms=100)
    second_once = switches.add(
        every_later_page.spec.model_copy(update={"page": 2, "ms": 50, "count": 1})
    )
    assert switches.page_delay(LEASE_DETAILS, 1) == 0
    assert switches.page_delay(LEASE_DETAILS, 2) == pytest.approx(0.15)
    assert switches.page_delay(LEASE_DETAILS, 2) == pytest.approx(0.1)
    assert switches.page_delay(LEASE_DETAILS, 3) == pytest.approx(0.1)
    assert second_once.spent
    assert switches.draw(LEASE_DETAILS) is None
