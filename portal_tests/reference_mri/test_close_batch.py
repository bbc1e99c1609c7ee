"""POST ``MRI_S-PMRM_CloseBatch``, this simulator's own batch-close API (MRI's is unknown,
connectors.md §4.6): XML and JSON, the answer, closing twice, rows 3, 13, 14 and 15, the
``control_total`` switch, commit-then-hang, the batch read-back; and security deposits by
``CashType`` (§2.10)."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from portal.reference.mri.closing import ANSWER_FIELDS
from portal_tests.reference_mri.conftest import (
    CLOSE_BATCH,
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

FORMATS = ["xml", "json"]
ROOT = "mri_s-pmrm_closebatch"
PAT = "01|102|1"


def close_xml(**overrides: str | None) -> str:
    """A CloseBatch body in RT's manner (``ExternalBatchId``): ``None`` leaves an element out,
    ``""`` writes it empty."""
    fields: dict[str, str | None] = {
        "PropertyID": PROPERTY,
        "ExternalBatchId": "325698",
        "ControlTotal": "530.50",
        "ReceiptCount": "2",
        "CloseDatetime": "2016-06-24T17:00:00",
    }
    fields.update(overrides)
    inner = "".join(
        f"<{k}>{v}</{k}>" if v else f"<{k}/>" for k, v in fields.items() if v is not None
    )
    return f"<{ROOT}><entry>{inner}</entry></{ROOT}>"


def close_json(**overrides: Any) -> dict[str, Any]:
    """The same in MH's manner (``ExternalBatchID``, ``value[0]``); ``None`` leaves it out."""
    value: dict[str, Any] = {
        "PropertyID": PROPERTY,
        "ExternalBatchID": "325698",
        "ControlTotal": "530.50",
        "ReceiptCount": 2,
        "CloseDatetime": "2016-06-24",
    }
    value.update(overrides)
    return {"value": [{k: v for k, v in value.items() if v is not None}]}


def close(mri: Mri, fmt: str = "xml", **overrides: Any) -> httpx.Response:
    """Close in either format; overrides by MH's names."""
    if fmt == "json":
        return mri.post(close_json(**overrides), "json", api=CLOSE_BATCH)
    if "ExternalBatchID" in overrides:
        overrides["ExternalBatchId"] = overrides.pop("ExternalBatchID")
    return mri.post(close_xml(**overrides), api=CLOSE_BATCH)


def two_receipts(mri: Mri) -> None:
    """Batch 325698 (00000000019001) with 500.00 + 30.50."""
    assert error_message(mri.post(payment_xml())) is None
    second = payment_xml(ExternalTransactionNumber="4567891", PaymentAmount="30.50")
    assert error_message(mri.post(second)) is None


def last_call(admin: httpx.Client) -> dict[str, Any]:
    call: dict[str, Any] = admin.get("/_ref/calls").json()["data"][-1]
    return call


@pytest.fixture
def chicago(seeded: httpx.Client) -> Iterator[httpx.Client]:
    """The server clock at 2016-06-24 17:00 in Chicago (22:00Z)."""
    seeded.put("/_ref/clock", json={"now": "2016-06-24T22:00:00Z"})
    assert seeded.patch("/_ref/settings", json={"time_zone": "America/Chicago"}).status_code == 200
    yield seeded
    seeded.put("/_ref/clock", json={"system": True})


class TestClose:
    def test_xml_closes_the_batch_and_answers_mri_s_own_totals(
        self, chicago: httpx.Client, mri: Mri
    ) -> None:
        two_receipts(mri)
        response = close(mri)
        assert response.headers["content-type"].startswith("application/xml")
        root = ET.fromstring(response.content)
        assert root.tag == ROOT
        entry = root.find("entry")
        assert entry is not None
        assert [child.tag for child in entry] == list(ANSWER_FIELDS)
        assert {child.tag: child.text for child in entry} == {
            "PropertyID": "500",
            "ExternalBatchID": "325698",
            "BatchId": "00000000019001",
            "Status": "Closed",
            "ControlTotal": "530.50",
            "ReceiptCount": "2",
            "ClosedDatetime": "2016-06-24T17:00:00.0000000",
            "AlreadyClosed": "N",
        }
        batch = batches(chicago)["325698"]
        assert (batch["state"], batch["closed_at"], batch["close_reason"]) == (
            "closed",
            "2016-06-24T22:00:00Z",
            "api",
        )
        call = last_call(chicago)
        assert (call["operation"], call["protocol"], call["verdict"], call["committed"]) == (
            CLOSE_BATCH,
            "xml",
            "accepted",
            True,
        )
        assert call["payload"]["body"]["records"][0]["ExternalBatchId"] == "325698"

    @pytest.mark.smoke
    def test_json_closes_the_batch(self, chicago: httpx.Client, mri: Mri) -> None:
        two_receipts(mri)
        response = close(mri, "json", ControlTotal=530.5)
        document = response.json()
        assert document["odata.metadata"].endswith(
            "?$api=MRI_S-PMRM_CloseBatch&$metadata#MRI.mri_s-pmrm_closebatch-container/"
            "mri_s-pmrm_closebatch"
        )
        assert document["value"] == [
            {
                "PropertyID": "500",
                "ExternalBatchID": "325698",
                "BatchId": "00000000019001",
                "Status": "Closed",
                "ControlTotal": "530.50",
                "ReceiptCount": "2",
                "ClosedDatetime": "2016-06-24T17:00:00",
                "AlreadyClosed": "N",
            }
        ]
        assert list(document["value"][0]) == list(ANSWER_FIELDS)
        assert batches(chicago)["325698"]["close_reason"] == "api"
        assert last_call(chicago)["protocol"] == "json"

    def test_field_names_are_case_insensitive_and_nulls_are_taken(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        two_receipts(mri)
        body = (
            f'<{ROOT} xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><entry>'
            "<propertyid>500</propertyid><EXTERNALBATCHID>325698</EXTERNALBATCHID>"
            '<ControlTotal xsi:nil="true"/><ReceiptCount/><Extra>1</Extra>'
            f"</entry></{ROOT}>"
        )
        got = records(mri.post(body, api=CLOSE_BATCH))[0]
        assert (got["Status"], got["ControlTotal"]) == ("Closed", "530.50")
        assert "ignored unknown field Extra" in last_call(seeded)["notes"]
        batch = batches(seeded)["325698"]
        assert (batch["stated_control_total"], batch["stated_receipt_count"]) == (None, None)

    def test_the_property_id_is_case_insensitive(self, seeded: httpx.Client, mri: Mri) -> None:
        seeded.put(
            "/_ref/properties/GCNS01/residents",
            json={
                "value": [
                    {
                        "ResidentNameID": "0000000467",
                        "BuildingID": "01",
                        "UnitID": "101",
                        "LeaseID": "1",
                        "ResidentStatus": "Current",
                    }
                ]
            },
        )
        mri.post(payment_json(PropertyID="GCNS01", ResidentNameID="0000000467"), "json")
        got = records(close(mri, "json", PropertyID="gcns01", ExternalBatchID="B1"))[0]
        assert (got["PropertyID"], got["Status"]) == ("gcns01", "Closed")
        assert batches(seeded, "GCNS01")["B1"]["state"] == "closed"

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_a_payment_into_the_closed_batch_is_batch_closed(
        self, seeded: httpx.Client, mri: Mri, fmt: str
    ) -> None:
        two_receipts(mri)
        assert error_message(close(mri, fmt)) is None
        late = payment_xml(ExternalTransactionNumber="4567892")
        assert (error_message(mri.post(late)) or "").startswith(
            "Batch closed: batch 00000000019001 (325698) is closed"
        )
        assert last_call(seeded)["error_codes"] == [10]
        assert batches(seeded)["325698"]["count"] == 2

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_closing_again_reads_the_original_close(
        self, chicago: httpx.Client, mri: Mri, fmt: str
    ) -> None:
        two_receipts(mri)
        first = records(close(mri, fmt))[0]
        chicago.put("/_ref/clock", json={"advance_seconds": 3600})
        again = close(mri, fmt, ControlTotal="1.00", ReceiptCount="9")
        second = records(again)[0]
        assert error_message(again) is None
        assert second["AlreadyClosed"] == "Y"
        assert first["AlreadyClosed"] == "N"
        assert second["ClosedDatetime"] == first["ClosedDatetime"]
        assert {k: v for k, v in second.items() if k != "AlreadyClosed"} == {
            k: v for k, v in first.items() if k != "AlreadyClosed"
        }
        call = last_call(chicago)
        assert (call["verdict"], call["committed"], call["error_codes"]) == ("accepted", False, [])
        assert "already closed" in call["notes"]
        batch = batches(chicago)["325698"]
        assert batch["closed_at"] == "2016-06-24T22:00:00Z"
        assert (batch["stated_control_total"], batch["stated_receipt_count"]) == ("530.50", 2)

    def test_a_batch_closed_by_the_admin_reads_as_already_closed(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        two_receipts(mri)
        seeded.post("/_ref/batches/close", json={"external_batch_id": "325698"})
        got = records(close(mri))[0]
        assert (got["Status"], got["AlreadyClosed"]) == ("Closed", "Y")
        assert batches(seeded)["325698"]["close_reason"] == "admin"

    def test_several_entries_close_one_each(self, seeded: httpx.Client, mri: Mri) -> None:
        two_receipts(mri)
        mri.post(payment_xml(ExternalTransactionNumber="3", ExternalBatchId="325699"))
        one = close_xml(ControlTotal=None, ReceiptCount=None)
        two = close_xml(ExternalBatchId="325699", ControlTotal=None, ReceiptCount=None)
        body = one.replace(f"</{ROOT}>", two[two.index("<entry>") :])
        got = records(mri.post(body, api=CLOSE_BATCH))
        assert [(r["BatchId"], r["Status"]) for r in got] == [
            ("00000000019001", "Closed"),
            ("00000000019002", "Closed"),
        ]

    def test_get_is_405(self, seeded: httpx.Client, mri: Mri) -> None:
        assert mri.raw("GET", f"$api={CLOSE_BATCH}&$format=xml").status_code == 405


class TestErrors:
    def assert_error(
        self, admin: httpx.Client, response: httpx.Response, row: int, text: str
    ) -> None:
        message = error_message(response)
        assert message is not None, response.text
        assert message.startswith(text), message
        call = last_call(admin)
        assert (call["operation"], call["verdict"], call["error_codes"], call["committed"]) == (
            CLOSE_BATCH,
            "rejected",
            [row],
            False,
        )
        assert [b["state"] for b in batches(admin).values()] == ["open"]

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        ("overrides", "text"),
        [
            ({"PropertyID": None}, "Invalid payload: PropertyID is missing"),
            ({"ExternalBatchID": ""}, "Invalid payload: ExternalBatchID is missing"),
            ({"ControlTotal": "1,230.00"}, "Invalid payload: ControlTotal '1,230.00' is not"),
            ({"ControlTotal": "1.234"}, "Invalid payload: ControlTotal '1.234' is not"),
            ({"ReceiptCount": "-1"}, "Invalid payload: ReceiptCount '-1' is not"),
            ({"ReceiptCount": "1.5"}, "Invalid payload: ReceiptCount '1.5' is not"),
            ({"CloseDatetime": "06/24/2016"}, "Invalid payload: CloseDatetime '06/24/2016'"),
            ({"CloseDatetime": "2016-02-30"}, "Invalid payload: CloseDatetime '2016-02-30'"),
            ({"CloseDatetime": "2016-06-24T17:00"}, "Invalid payload: CloseDatetime"),
        ],
    )
    def test_3_invalid_record(
        self, seeded: httpx.Client, mri: Mri, fmt: str, overrides: dict[str, Any], text: str
    ) -> None:
        two_receipts(mri)
        self.assert_error(seeded, close(mri, fmt, **overrides), 3, text)

    @pytest.mark.parametrize(
        ("body", "text"),
        [
            (f"<{ROOT}/>", "Invalid payload: no entry"),
            (
                "<mri_s-pmrm_paymentdetailsbypropertyid><entry><PropertyID>500</PropertyID>"
                "<ExternalBatchId>325698</ExternalBatchId></entry>"
                "</mri_s-pmrm_paymentdetailsbypropertyid>",
                "Invalid payload: the root element is <mri_s-pmrm_paymentdetailsbypropertyid>, "
                f"expected <{ROOT}>",
            ),
            ({"value": []}, "Invalid payload: 'value' is empty"),
        ],
    )
    def test_3_invalid_document(
        self, seeded: httpx.Client, mri: Mri, body: str | dict[str, Any], text: str
    ) -> None:
        two_receipts(mri)
        fmt = "json" if isinstance(body, dict) else "xml"
        self.assert_error(seeded, mri.post(body, fmt, api=CLOSE_BATCH), 3, text)

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_13_unknown_property(self, seeded: httpx.Client, mri: Mri, fmt: str) -> None:
        two_receipts(mri)
        response = close(mri, fmt, PropertyID="999")
        self.assert_error(seeded, response, 13, "Property not found: no property '999'")

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_14_unknown_batch(self, seeded: httpx.Client, mri: Mri, fmt: str) -> None:
        two_receipts(mri)
        response = close(mri, fmt, ExternalBatchID="325699")
        self.assert_error(
            seeded, response, 14, "Batch not found: no batch '325699' on property 500"
        )

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        ("overrides", "text"),
        [
            (
                {"ControlTotal": "530.00"},
                "Control total mismatch: ControlTotal 530.00, batch 00000000019001 holds 530.50",
            ),
            (
                {"ReceiptCount": "3"},
                "Control total mismatch: ReceiptCount 3, batch 00000000019001 holds 2 receipts",
            ),
        ],
    )
    def test_15_mismatch_with_control_total_reject_leaves_the_batch_open(
        self, seeded: httpx.Client, mri: Mri, fmt: str, overrides: dict[str, str], text: str
    ) -> None:
        seeded.patch("/_ref/settings", json={"control_total": "reject"})
        two_receipts(mri)
        self.assert_error(seeded, close(mri, fmt, **overrides), 15, text)
        # A late receipt still lands, and the right totals close it.
        mri.post(payment_xml(ExternalTransactionNumber="3", PaymentAmount="1.00"))
        got = records(close(mri, fmt, ControlTotal="531.50", ReceiptCount="3"))[0]
        assert (got["Status"], got["ControlTotal"], got["ReceiptCount"]) == (
            "Closed",
            "531.50",
            "3",
        )

    def test_the_total_excludes_voided_receipts(self, seeded: httpx.Client, mri: Mri) -> None:
        seeded.patch("/_ref/settings", json={"control_total": "reject"})
        two_receipts(mri)
        seeded.post("/_ref/receipts/00000502PP/void", json={"reason": "nsf"})
        got = records(close(mri, ControlTotal="500.00", ReceiptCount="1"))[0]
        assert (got["Status"], got["ControlTotal"], got["ReceiptCount"]) == (
            "Closed",
            "500.00",
            "1",
        )

    def test_with_control_total_ignore_a_mismatch_closes_and_is_noted(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        two_receipts(mri)
        got = records(close(mri, ControlTotal="-0.50", ReceiptCount="0"))[0]
        assert (got["Status"], got["ControlTotal"], got["ReceiptCount"]) == (
            "Closed",
            "530.50",
            "2",
        )
        call = last_call(seeded)
        assert (call["verdict"], call["error_codes"]) == ("accepted", [])
        assert call["notes"] == [
            "control total mismatch: ControlTotal -0.50, batch 00000000019001 holds 530.50; "
            "ReceiptCount 0, batch 00000000019001 holds 2 receipts (control_total=ignore)"
        ]
        batch = batches(seeded)["325698"]
        assert (batch["state"], batch["stated_control_total"], batch["stated_receipt_count"]) == (
            "closed",
            "-0.50",
            0,
        )
        assert (batch["total"], batch["control_total"]) == ("530.50", "530.50")


class TestFaults:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_timeout_closes_then_hangs_and_the_retry_reads_success(
        self, seeded: httpx.Client, mri_server: AnyServer, mri: Mri, fmt: str
    ) -> None:
        two_receipts(mri)
        set_fault(seeded, kind="timeout_next", operation=CLOSE_BATCH, seconds=2)
        started = time.monotonic()
        with Mri(mri_server, timeout=0.5) as impatient, pytest.raises(httpx.ReadTimeout):
            impatient.post(close_json() if fmt == "json" else close_xml(), fmt, api=CLOSE_BATCH)
        assert time.monotonic() - started < 1.5
        assert batches(seeded)["325698"]["state"] == "closed"
        retry = records(close(mri, fmt))[0]
        assert (retry["Status"], retry["AlreadyClosed"]) == ("Closed", "Y")
        calls = [c for c in seeded.get("/_ref/calls").json()["data"] if c["operation"]]
        assert (calls[-2]["operation"], calls[-2]["fault"]["kind"], calls[-2]["committed"]) == (
            CLOSE_BATCH,
            "timeout",
            True,
        )
        assert "already closed" in calls[-1]["notes"]

    def test_http_error_and_reject_close_nothing(self, seeded: httpx.Client, mri: Mri) -> None:
        two_receipts(mri)
        set_fault(seeded, kind="http_error_next", operation=CLOSE_BATCH, status=502)
        assert close(mri).status_code == 502
        set_fault(seeded, kind="reject_next", operation=CLOSE_BATCH, message="Locked")
        assert error_message(close(mri)) == "Locked"
        assert batches(seeded)["325698"]["state"] == "open"
        # A fault on the payment POST leaves the close alone.
        set_fault(seeded, kind="reject", operation="MRI_S-PMRM_PaymentDetailsByPropertyID")
        assert records(close(mri))[0]["AlreadyClosed"] == "N"


class TestReadBack:
    def test_stated_fields_are_null_until_an_api_close(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        two_receipts(mri)
        mri.post(payment_xml(ExternalTransactionNumber="3", ExternalBatchId="A"))
        found = batches(seeded)
        assert (
            found["325698"]["stated_control_total"],
            found["325698"]["stated_receipt_count"],
        ) == (
            None,
            None,
        )
        close(mri)
        seeded.post("/_ref/batches/close", json={"external_batch_id": "A"})
        found = batches(seeded)
        closed = found["325698"]
        assert (
            closed["close_reason"],
            closed["stated_control_total"],
            closed["stated_receipt_count"],
            closed["count"],
            closed["total"],
            closed["control_total"],
        ) == ("api", "530.50", 2, 2, "530.50", "530.50")
        assert (found["A"]["close_reason"], found["A"]["stated_control_total"]) == ("admin", None)


class TestDepositsByCashType:
    @pytest.mark.parametrize("cash_type", ["SD", "sd", "SecDep"])
    def test_a_deposit_cash_type_lands_in_the_deposit_ledger(
        self, seeded: httpx.Client, mri: Mri, cash_type: str
    ) -> None:
        mri.post(payment_json(), "json")
        deposit = payment_json(ExternalTransactionNumber="3", PaymentAmount="580.00")
        deposit["value"][0]["CashType"] = cash_type
        got = records(mri.post(deposit, "json"))[0]
        assert (got["CashType"], got["ChargeCode"]) == (cash_type, "PPR")
        listed = seeded.get(f"/_ref/properties/{PROPERTY}/receipts").json()["data"]
        assert [(r["cash_type"], r["ledger"]) for r in listed] == [
            ("VM", "rent"),
            (cash_type, "security_deposit"),
        ]
        assert batches(seeded)["B1"]["totals"] == {
            "rent": "1000.00",
            "security_deposits": "580.00",
            "voided": "0.00",
        }
        assert leases(seeded)[PAT]["balance"] == "150.00"

    def test_a_deposit_reversal_follows_the_same_rule(self, seeded: httpx.Client, mri: Mri) -> None:
        seeded.patch("/_ref/settings", json={"negative_amounts": "reversal"})
        mri.post(payment_json(CashType="DEP", PaymentAmount="580.00"), "json")
        reversal = payment_json(
            CashType="DEP", PaymentAmount="-80.00", ExternalTransactionNumber="R1"
        )
        assert error_message(mri.post(reversal, "json")) is None
        listed = seeded.get(f"/_ref/properties/{PROPERTY}/receipts").json()["data"]
        assert [r["ledger"] for r in listed] == ["security_deposit", "security_deposit"]
        assert batches(seeded)["B1"]["totals"] == {
            "rent": "0.00",
            "security_deposits": "500.00",
            "voided": "0.00",
        }


class TestOverLength:
    def test_truncate_cuts_the_batch_id_as_the_payment_post_did(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        long_id = "B" * 31
        seeded.patch("/_ref/settings", json={"over_length": "truncate"})
        mri.post(payment_xml(ExternalBatchId=long_id, Description=None))
        got = records(close(mri, ExternalBatchID=long_id, ControlTotal=None, ReceiptCount=None))
        assert (got[0]["ExternalBatchID"], got[0]["Status"]) == ("B" * 30, "Closed")
        assert (
            "ExternalBatchID cut to 30 characters (over_length=truncate)"
            in last_call(seeded)["notes"]
        )
