"""The fault switches of connectors.md §3.1 against the live server, and duplicate detection by
``ClientTransactionID`` both ways (``reject`` and ``accept_twice``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import requests
import zeep

from portal.reference.harness import draw
from portal_tests.reference.conftest import (
    LOGIN,
    AnyServer,
    add_payment,
    error_code,
    journals,
    leases,
    parsed,
    payment_xml,
    units_request,
    wsdl_client,
)

LEE = ("01", "102", "4")
NOW = datetime(2026, 7, 1, 14, 0, tzinfo=UTC)


def set_fault(admin: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = admin.post("/_ref/faults", json=spec)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def posted(admin: httpx.Client) -> list[str]:
    return [p["client_transaction_id"] for j in journals(admin).values() for p in j["payments"]]


class TestReject:
    def test_reject_next_n_answers_the_operations_own_shape(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        set_fault(
            seeded,
            kind="reject_next",
            operation="AddPayment",
            count=2,
            code=77,
            message="Account locked",
        )
        for txn in ("1", "2"):
            result = add_payment(ledger, payment_xml(ClientTransactionID=txn))
            payment = parsed(result).find("Payment")
            assert payment is not None
            assert payment.get("ClientTransactionID") == txn
            assert (payment.findtext("ErrorCode"), payment.findtext("ErrorDescription")) == (
                "77",
                "Account locked",
            )
        assert posted(seeded) == []
        assert error_code(add_payment(ledger, payment_xml(ClientTransactionID="3"))) == 0
        assert posted(seeded) == ["3"]
        assert seeded.get("/_ref/faults").json()["data"] == []

    def test_a_switch_on_one_operation_leaves_the_others_alone(
        self, seeded: httpx.Client, ledger: zeep.Client, leasing: zeep.Client
    ) -> None:
        set_fault(seeded, kind="reject", operation="AddPayment")
        units = parsed(leasing.service.GetPropertyUnits(**LOGIN, XMLData=units_request()))
        assert units.tag == "PropertyUnits"
        assert error_code(add_payment(ledger)) == 99


class TestHttpErrorAndSoapFault:
    def test_http_error_next(self, seeded: httpx.Client, ledger: zeep.Client) -> None:
        set_fault(seeded, kind="http_error", count=1, status=502)
        with pytest.raises(zeep.exceptions.TransportError) as caught:
            add_payment(ledger)
        assert caught.value.status_code == 502
        assert posted(seeded) == []
        assert error_code(add_payment(ledger)) == 0

    def test_an_http_error_that_commits(self, seeded: httpx.Client, ledger: zeep.Client) -> None:
        set_fault(seeded, kind="http_error", status=500, commit=True)
        with pytest.raises(zeep.exceptions.TransportError):
            add_payment(ledger)
        assert posted(seeded) == ["4567890"]

    def test_soap_fault_next(self, seeded: httpx.Client, ledger: zeep.Client) -> None:
        set_fault(seeded, kind="soap_fault_next", operation="AddPayment", message="Timeout expired")
        with pytest.raises(zeep.exceptions.Fault, match="Timeout expired"):
            add_payment(ledger)
        assert posted(seeded) == []
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert (call["verdict"], call["http_status"], call["fault"]["kind"]) == (
            "fault",
            500,
            "soap_fault",
        )


class TestTimeoutAndDuplicates:
    def test_timeout_commits_then_the_retry_is_a_duplicate(
        self, seeded: httpx.Client, amsi_server: AnyServer, ledger: zeep.Client
    ) -> None:
        set_fault(seeded, kind="timeout_next", operation="AddPayment", count=1, seconds=2)
        impatient = wsdl_client(amsi_server, "ledger", operation_timeout=0.5)
        started = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            add_payment(impatient)
        assert time.monotonic() - started < 1.5
        # Posted before the hang (RT's duplicate-on-retry, §3.1).
        assert posted(seeded) == ["4567890"]
        retry = parsed(add_payment(ledger))
        payment = retry.find("Payment")
        assert payment is not None
        assert payment.findtext("ErrorCode") == "18"
        first = journals(seeded)["55558888"]
        # The duplicate names what the first call posted.
        assert payment.findtext("EvolutionReference") == first["payments"][0]["evolution_reference"]
        assert payment.findtext("AdditionalData/eSiteBatchNo") == first["esite_batch_no"]
        assert posted(seeded) == ["4567890"]
        assert leases(seeded)[LEE]["end_balance"] == "1230.00"

    def test_accept_twice_posts_the_retry_again(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        seeded.patch("/_ref/settings", json={"duplicates": "accept_twice"})
        assert error_code(add_payment(ledger)) == 0
        assert error_code(add_payment(ledger)) == 0
        assert posted(seeded) == ["4567890", "4567890"]
        assert leases(seeded)[LEE]["end_balance"] == "730.00"
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert "posted again (duplicates=accept_twice)" in call["notes"][0]


class TestLatencyAndDowntime:
    def test_latency(self, seeded: httpx.Client, leasing: zeep.Client) -> None:
        set_fault(seeded, kind="latency", ms=400, jitter_ms=100, seed=3)
        started = time.monotonic()
        leasing.service.GetPropertyUnits(**LOGIN, XMLData=units_request())
        # Seeded jitter: this call waits exactly 400 + draw(3, 0) * 100 ms.
        assert time.monotonic() - started >= (400 + draw(3, 0) * 100) / 1000 - 0.01

    def test_downtime_window_on_the_server_clock(
        self, seeded: httpx.Client, amsi_server: AnyServer, ledger: zeep.Client
    ) -> None:
        assert seeded.put("/_ref/clock", json={"now": NOW.isoformat()}).status_code == 200
        set_fault(
            seeded,
            kind="downtime",
            **{"from": NOW.isoformat(), "to": (NOW + timedelta(hours=1)).isoformat()},
        )
        with pytest.raises(zeep.exceptions.TransportError) as caught:
            add_payment(ledger)
        assert caught.value.status_code == 503
        wsdl = httpx.get(f"{amsi_server.esite_url}/ledger.asmx?WSDL")
        assert wsdl.status_code == 503
        assert posted(seeded) == []
        clock = seeded.put("/_ref/clock", json={"advance_seconds": 3600}).json()
        assert clock == {"now": "2026-07-01T15:00:00Z", "mode": "fixed"}
        assert error_code(add_payment(ledger)) == 0
        calls = seeded.get("/_ref/calls").json()["data"]
        assert [c["verdict"] for c in calls[-3:]] == ["down", "down", "accepted"]
        assert calls[-1]["at"] == "2026-07-01T15:00:00Z"
        seeded.put("/_ref/clock", json={"system": True})


class TestMalformed:
    def test_truncated_body_after_the_work_was_done(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        set_fault(seeded, kind="malformed_next", operation="AddPayment")
        with pytest.raises(zeep.exceptions.TransportError, match="invalid XML"):
            add_payment(ledger)
        assert posted(seeded) == ["4567890"]
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert not call["response"].endswith("</soap:Envelope>")

    def test_double_escaped_once(self, seeded: httpx.Client, leasing: zeep.Client) -> None:
        set_fault(seeded, kind="malformed", form="double_escaped")
        first = leasing.service.GetPropertyUnits(**LOGIN, XMLData=units_request())
        second = leasing.service.GetPropertyUnits(**LOGIN, XMLData=units_request())
        assert first.startswith("&lt;PropertyUnits&gt;")
        assert second.startswith("<PropertyUnits>")


class TestDeterminism:
    def pattern(self, admin: httpx.Client, leasing: zeep.Client) -> list[bool]:
        admin.delete("/_ref/faults")
        set_fault(admin, kind="reject", operation="GetPropertyUnits", probability=0.5, seed=7)
        seen = []
        for _ in range(16):
            result = parsed(leasing.service.GetPropertyUnits(**LOGIN, XMLData=units_request()))
            seen.append(result.tag == "InternetTrafficResponse")
        return seen

    def test_a_seeded_probability_fires_on_the_same_calls_every_run(
        self, seeded: httpx.Client, leasing: zeep.Client
    ) -> None:
        first = self.pattern(seeded, leasing)
        assert first == [draw(7, k) < 0.5 for k in range(16)]
        assert 0 < sum(first) < 16
        assert self.pattern(seeded, leasing) == first


class TestAdmin:
    @pytest.mark.parametrize(
        "spec",
        [
            {"kind": "reject", "operation": "GetPropertyList"},
            {"kind": "reject", "count": 1, "probability": 0.5},
            {"kind": "sabotage"},
            {"kind": "downtime", "count": 2},
            {"kind": "http_error", "status": 200},
        ],
    )
    def test_a_bad_switch_is_422(self, seeded: httpx.Client, spec: dict[str, Any]) -> None:
        response = seeded.post("/_ref/faults", json=spec)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_failed"

    def test_list_and_remove(self, seeded: httpx.Client) -> None:
        fault = set_fault(seeded, kind="timeout", operation="AddPayment", count=3)
        assert (fault["remaining"], fault["commit"], fault["kind"]) == (3, True, "timeout")
        assert [f["id"] for f in seeded.get("/_ref/faults").json()["data"]] == [fault["id"]]
        assert seeded.delete(f"/_ref/faults/{fault['id']}").status_code == 204
        assert seeded.delete(f"/_ref/faults/{fault['id']}").status_code == 404
        assert seeded.get("/_ref/faults").json()["data"] == []
