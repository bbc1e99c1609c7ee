"""Every error row of connectors.md §3.3's table for the payment POST (rows 3-12), each as an
HTTP 200 with ``entry/Error/Message`` (XML) and ``value[0].Error.Message`` (JSON), nothing
posted; the messages are the ones docs/reference-mri.md publishes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.reference.mri.state import ERROR_KINDS
from portal_tests.reference_mri.conftest import (
    PROPERTY,
    Mri,
    batches,
    error_message,
    payment_json,
    payment_xml,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference-mri.md"
FORMATS = ["xml", "json"]


def post(mri: Mri, fmt: str, **overrides: Any) -> httpx.Response:
    """The same record in RT's XML or MH's JSON; overrides by MH's names."""
    if fmt == "json":
        return mri.post(payment_json(**overrides), "json")
    if "ExternalBatchID" in overrides:
        overrides["ExternalBatchId"] = overrides.pop("ExternalBatchID")
    return mri.post(payment_xml(**overrides))


def assert_error(seeded: httpx.Client, response: httpx.Response, row: int, text: str) -> None:
    message = error_message(response)
    assert message is not None, response.text
    assert message.startswith(text), message
    call = seeded.get("/_ref/calls").json()["data"][-1]
    assert (call["verdict"], call["error_codes"], call["committed"]) == ("rejected", [row], False)
    assert seeded.get(f"/_ref/properties/{PROPERTY}/receipts").json()["data"] == []


class TestRow3InvalidPayload:
    @pytest.mark.parametrize(
        ("body", "text"),
        [
            ("not xml", "Invalid payload: not well-formed XML"),
            ("<mri_s-pmrm_paymentdetailsbypropertyid/>", "Invalid payload: no entry"),
            (
                "<mri_s-pmrm_residentialrentroll><entry/></mri_s-pmrm_residentialrentroll>",
                "Invalid payload: the root element is <mri_s-pmrm_residentialrentroll>, "
                "expected <mri_s-pmrm_paymentdetailsbypropertyid>",
            ),
            (
                '<!DOCTYPE r [<!ENTITY a "aaaa">]><mri_s-pmrm_paymentdetailsbypropertyid>&a;'
                "</mri_s-pmrm_paymentdetailsbypropertyid>",
                "Invalid payload: the document has a DTD",
            ),
        ],
    )
    def test_xml(self, seeded: httpx.Client, mri: Mri, body: str, text: str) -> None:
        assert_error(seeded, mri.post(body), 3, text)

    @pytest.mark.parametrize(
        ("body", "text"),
        [
            ({"odata.metadata": "x"}, "Invalid payload: the body is not a JSON object"),
            ({"value": []}, "Invalid payload: 'value' is empty"),
            ({"value": ["x"]}, "Invalid payload: value[0] is not an object"),
            ({"value": [{"PaymentAmount": {"a": 1}}]}, "Invalid payload: value[0].PaymentAmount"),
        ],
    )
    def test_json(self, seeded: httpx.Client, mri: Mri, body: dict[str, Any], text: str) -> None:
        assert_error(seeded, mri.post(body, "json"), 3, text)

    def test_json_that_is_not_json(self, seeded: httpx.Client, mri: Mri) -> None:
        response = mri.raw(
            "POST",
            "$api=MRI_S-PMRM_PaymentDetailsByPropertyID&$format=json",
            content=b"{",
            headers={"Content-Type": "application/json"},
        )
        assert_error(seeded, response, 3, "Invalid payload: the body is not JSON")

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("missing", ["ExternalTransactionNumber", "ExternalBatchID"])
    def test_the_keys_are_required(
        self, seeded: httpx.Client, mri: Mri, fmt: str, missing: str
    ) -> None:
        response = post(mri, fmt, **{missing: None})
        assert_error(seeded, response, 3, f"Invalid payload: {missing} is missing")


class TestRows4To8:
    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        ("overrides", "text"),
        [
            ({"PropertyID": "999"}, "Resident not found: no property '999'"),
            ({"ResidentNameID": None}, "Resident not found: ResidentNameID is missing"),
            (
                {"ResidentNameID": "0000000099"},
                "Resident not found: no ResidentNameID '0000000099' on property 500",
            ),
        ],
    )
    def test_4_resident_not_found(
        self, seeded: httpx.Client, mri: Mri, fmt: str, overrides: dict[str, Any], text: str
    ) -> None:
        assert_error(seeded, post(mri, fmt, **overrides), 4, text)

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("value", ["X", "c", "P", None])
    def test_5_payment_type(self, seeded: httpx.Client, mri: Mri, fmt: str, value: str) -> None:
        assert_error(seeded, post(mri, fmt, PaymentType=value), 5, "Invalid payment type")

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize("value", ["-5.00", "0.00", "1.234", "1,500.00", "abc", None])
    def test_6_payment_amount(self, seeded: httpx.Client, mri: Mri, fmt: str, value: str) -> None:
        assert_error(seeded, post(mri, fmt, PaymentAmount=value), 6, "Invalid payment amount")

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("PaymentInitiationDatetime", "06/24/2016"),
            ("PaymentInitiationDatetime", "2016-06-24T10:15"),
            ("PaymentInitiationDatetime", "2016-06-24 10:15:00"),
            ("PaymentInitiationDatetime", "2016-02-30"),
            ("PaymentInitiationDatetime", None),
            ("DepositDate", "12/12/2024"),
        ],
    )
    def test_7_payment_date(
        self, seeded: httpx.Client, mri: Mri, fmt: str, field: str, value: str | None
    ) -> None:
        assert_error(seeded, post(mri, fmt, **{field: value}), 7, f"Invalid payment date: {field}")

    @pytest.mark.parametrize("fmt", FORMATS)
    @pytest.mark.parametrize(
        ("field", "limit"),
        [
            ("CheckNumber", 15),
            ("ExternalTransactionNumber", 10),
            ("ExternalBatchID", 30),
            ("Description", 30),
            ("BatchDescription", 30),
        ],
    )
    def test_8_too_long(
        self, seeded: httpx.Client, mri: Mri, fmt: str, field: str, limit: int
    ) -> None:
        at_limit = post(mri, fmt, **{field: "7" * limit})
        assert error_message(at_limit) is None
        # Row 8 is checked before the duplicate (row 9): the same record again, one longer.
        response = post(mri, fmt, **{field: "8" * (limit + 1)})
        assert (
            error_message(response) == f"{field} too long: {limit + 1} characters, at most {limit}"
        )


class TestRows9To12:
    @pytest.mark.parametrize("fmt", FORMATS)
    def test_9_duplicate(self, seeded: httpx.Client, mri: Mri, fmt: str) -> None:
        assert error_message(post(mri, fmt)) is None
        assert (error_message(post(mri, fmt)) or "").startswith("Duplicate: ")

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_10_batch_closed(self, seeded: httpx.Client, mri: Mri, fmt: str) -> None:
        assert error_message(post(mri, fmt, ExternalTransactionNumber="1")) is None
        closed = seeded.post("/_ref/batches/close", json={"property_id": PROPERTY}).json()
        assert [b["state"] for b in closed["data"]] == ["closed"]
        late = post(mri, fmt, ExternalTransactionNumber="2")
        assert (error_message(late) or "").startswith("Batch closed: batch 00000000019001")
        assert [b["count"] for b in batches(seeded).values()] == [1]
        # A new ExternalBatchID opens a new batch.
        assert (
            error_message(post(mri, fmt, ExternalTransactionNumber="3", ExternalBatchID="N"))
            is None
        )

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_11_epayments_blocked_when_switched(
        self, seeded: httpx.Client, mri: Mri, fmt: str
    ) -> None:
        seeded.patch("/_ref/settings", json={"block_epayments": "reject"})
        response = post(mri, fmt, ResidentNameID="0000000003")
        assert_error(seeded, response, 11, "ePayments blocked")

    @pytest.mark.parametrize("fmt", FORMATS)
    def test_12_unknown_charge(self, seeded: httpx.Client, mri: Mri, fmt: str) -> None:
        response = post(mri, fmt, ChargeID="0000000001")
        assert_error(seeded, response, 12, "Charge not found: ChargeID 0000000001 is not a charge")
        rent_of_another_lease = "0000325001"
        response = post(mri, fmt, ChargeID=rent_of_another_lease)
        assert (error_message(response) or "").startswith("Charge not found")


def test_the_docs_publish_every_message() -> None:
    text = DOCS.read_text()
    for kind in ERROR_KINDS:
        assert re.search(rf"\|\s*{kind.number}\s*\|[^\n]*{re.escape(kind.text)}", text), kind
