"""Every error answer of connectors.md §3.2's table, in each operation's own shape, and the SOAP
Faults for what cannot be served; the codes are the ones docs/reference-amsi.md publishes."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep

from portal.reference.amsi.state import ERROR_CODES
from portal_tests.reference.conftest import (
    LOGIN,
    PORTFOLIO,
    AnyServer,
    add_payment,
    error_code,
    journals,
    ledger_call,
    parsed,
    payment_xml,
    residents_request,
    return_xml,
    settlement_xml,
    units_request,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reference-amsi.md"


def description(result: str) -> str:
    return parsed(result).findtext(".//ErrorDescription") or ""


class TestLoginPreliminaryXmlData:
    @pytest.mark.parametrize("field", ["UserID", "Password", "PortfolioName"])
    def test_1_invalid_login_on_both_services(
        self, seeded: httpx.Client, ledger: zeep.Client, leasing: zeep.Client, field: str
    ) -> None:
        wrong = {field: "wrong"}
        result = add_payment(ledger, **wrong)
        assert (error_code(result), description(result)) == (1, "Invalid login")
        # The request's attributes are still echoed in AddPayment's shape.
        assert parsed(result).find("Payment[@ClientTransactionID='4567890']") is not None
        leasing_result = leasing.service.GetPropertyUnits(
            **{**LOGIN, **wrong}, XMLData=units_request()
        )
        tree = parsed(leasing_result)
        assert tree.tag == "InternetTrafficResponse"
        assert tree.findtext("Error/ErrorCode") == "1"
        assert tree.findtext("Error/ErrorDescription") == "Invalid login"

    def test_2_preliminary_missing_or_not_0_or_1(
        self, seeded: httpx.Client, ledger: zeep.Client, amsi_server: AnyServer
    ) -> None:
        assert error_code(add_payment(ledger, preliminary=2)) == 2
        # zeep will not leave out a mandatory element: send the envelope by hand.
        envelope = (
            '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            '<AddPayment xmlns="http://tempuri.org/">'
            f"<UserID>{LOGIN['UserID']}</UserID><Password>{LOGIN['Password']}</Password>"
            f"<PortfolioName>{PORTFOLIO}</PortfolioName><XMLData>&lt;Payments/&gt;</XMLData>"
            "</AddPayment></s:Body></s:Envelope>"
        )
        response = httpx.post(
            f"{amsi_server.esite_url}/ledger.asmx",
            content=envelope,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        assert response.status_code == 200
        assert b"&lt;ErrorCode&gt;2&lt;/ErrorCode&gt;" in response.content

    @pytest.mark.parametrize(
        ("xml", "detail"),
        [
            ("", "XMLData is missing"),
            ("<Payments><Payment>", "XMLData: not well-formed XML"),
            ("<EDEX/>", "the root element is <EDEX>, expected <Payments>"),
            ("<Payments/>", "<Payments> holds no <Payment>"),
        ],
    )
    def test_3_invalid_xmldata_on_ledger(
        self, seeded: httpx.Client, ledger: zeep.Client, xml: str, detail: str
    ) -> None:
        result = ledger.service.AddPayment(**LOGIN, preliminary=0, XMLData=xml)
        assert error_code(result) == 3
        assert description(result).startswith(f"Invalid XMLData: {detail}")

    def test_3_invalid_xmldata_on_leasing_and_settlement(
        self, seeded: httpx.Client, ledger: zeep.Client, leasing: zeep.Client
    ) -> None:
        wrong_root = leasing.service.GetPropertyUnits(**LOGIN, XMLData="<Payments/>")
        assert error_code(wrong_root) == 3
        settle = ledger_call(ledger, "UpdateSettlementData", "<Payments/>")
        assert parsed(settle).tag == "Batches"
        assert error_code(settle) == 3

    def test_3_an_entity_bomb_in_xmldata_is_refused(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        bomb = (
            '<!DOCTYPE p [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
            "<Payments>&b;</Payments>"
        )
        result = ledger.service.AddPayment(**LOGIN, preliminary=0, XMLData=bomb)
        assert error_code(result) == 3
        assert "DTD" in description(result)


class TestAddPaymentValidations:
    @pytest.mark.parametrize(
        "overrides",
        [{"PropertyID": "999"}, {"BldgID": "09"}, {"UnitID": "999"}, {"UnitID": None}],
    )
    def test_4_unit_not_found(
        self, seeded: httpx.Client, ledger: zeep.Client, overrides: dict[str, Any]
    ) -> None:
        assert error_code(add_payment(ledger, payment_xml(**overrides))) == 10

    def test_4_unit_not_found_on_leasing(self, seeded: httpx.Client, leasing: zeep.Client) -> None:
        result = leasing.service.GetPropertyResidents(
            **LOGIN, XMLData=residents_request(property_id="999")
        )
        assert parsed(result).findtext("Error/ErrorCode") == "10"

    @pytest.mark.parametrize("resi_id", [None, "", "21", "99"])
    def test_5_resident_not_found(
        self, seeded: httpx.Client, ledger: zeep.Client, resi_id: str | None
    ) -> None:
        # 21 is a lease of unit 101, not 102: ResiID is unique only within a unit (§0.6).
        assert error_code(add_payment(ledger, payment_xml(ResiID=resi_id))) == 11

    def test_6_past_lease_always_blocked_payment_access_behind_the_switch(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        past = payment_xml(BldgID="01", UnitID="103", ResiID="30")
        assert error_code(add_payment(ledger, past)) == 12
        blocked = payment_xml(BldgID="02", UnitID="202", ResiID="13")
        assert error_code(add_payment(ledger, blocked)) == 0
        seeded.patch("/_ref/settings", json={"enforce_block_payment_access": True})
        again = payment_xml(BldgID="02", UnitID="202", ResiID="13", ClientTransactionID="2")
        assert error_code(add_payment(ledger, again)) == 12

    @pytest.mark.parametrize(
        ("overrides", "code"),
        [
            ({"Amount": "-5.00"}, 13),
            ({"Amount": "0.00"}, 13),
            ({"Amount": "1.234"}, 13),
            ({"Amount": "1,500.00"}, 13),
            ({"Amount": None}, 13),
            ({"ClientTransactionDate": "2016-06-24"}, 14),
            ({"ClientTransactionDate": "13/45/2016"}, 14),
            ({"PaymentType": "K"}, 15),
            ({"PaymentType": "c"}, 15),
            ({"ClientJnlNo": "12B20160624"}, 16),
            ({"ClientJnlNo": ""}, 16),
        ],
    )
    def test_7_to_10_formats(
        self, seeded: httpx.Client, ledger: zeep.Client, overrides: dict[str, Any], code: int
    ) -> None:
        assert error_code(add_payment(ledger, payment_xml(**overrides))) == code
        assert journals(seeded) == {}

    def test_11_batch_closed_and_12_duplicate(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        add_payment(ledger)
        duplicate = add_payment(ledger)
        assert (error_code(duplicate), description(duplicate).split(":")[0]) == (
            18,
            "Duplicate transaction",
        )
        ledger_call(ledger, "UpdateSettlementData", settlement_xml())
        closed = add_payment(ledger, payment_xml(ClientTransactionID="4567891"))
        assert (error_code(closed), description(closed).split(":")[0]) == (17, "Batch closed")


class TestReturnValidations:
    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"txn": "1"}, 20),
            ({"jnl": "11111111"}, 20),
            ({"reason": "Refund"}, 21),
            ({"description": "R01 Insufficient Funds, retry later"}, 23),
        ],
    )
    def test_13_to_15(
        self, seeded: httpx.Client, ledger: zeep.Client, fields: dict[str, str], code: int
    ) -> None:
        add_payment(ledger)
        assert error_code(ledger_call(ledger, "ReturnPayment", return_xml(**fields))) == code

    def test_14_already_returned(self, seeded: httpx.Client, ledger: zeep.Client) -> None:
        add_payment(ledger)
        assert error_code(ledger_call(ledger, "ReturnPayment", return_xml())) == 0
        again = ledger_call(ledger, "ReturnPayment", return_xml(reason="Reverse"))
        assert error_code(again) == 22


class TestSettlementValidations:
    @pytest.mark.parametrize(
        ("fields", "code"),
        [
            ({"jnl": "99999999"}, 30),
            ({"jnl": "5555-8888"}, 16),
            ({"merchant": "25"}, 31),
            ({"amount": "499.99"}, 32),
            ({"amount": "five"}, 13),
            ({"day": "2016-06-29"}, 14),
        ],
    )
    def test_16(
        self, seeded: httpx.Client, ledger: zeep.Client, fields: dict[str, str], code: int
    ) -> None:
        add_payment(ledger)
        result = ledger_call(ledger, "UpdateSettlementData", settlement_xml(**fields))
        assert error_code(result) == code
        assert journals(seeded)["55558888"]["settled"] is False

    def test_16_a_wrong_amount_is_only_a_warning_when_switched(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        seeded.patch("/_ref/settings", json={"settlement_amount_check": "warn"})
        add_payment(ledger)
        result = ledger_call(ledger, "UpdateSettlementData", settlement_xml(amount="499.99"))
        assert error_code(result) == 0
        journal = journals(seeded)["55558888"]
        assert journal["settled"] is True
        assert "499.99" in journal["settlement"]["warning"]
        call = seeded.get("/_ref/calls", params={"operation": "UpdateSettlementData"}).json()
        assert "settlement_amount_check=warn" in call["data"][-1]["notes"][0]


class TestNoData:
    def test_17_no_leases_for_that_status(self, seeded: httpx.Client, leasing: zeep.Client) -> None:
        result = parsed(
            leasing.service.GetPropertyResidents(**LOGIN, XMLData=residents_request("F"))
        )
        assert result.tag == "InternetTrafficResponse"
        assert result.findtext("Error/ErrorCode") == "40"
        assert result.findtext("Error/ErrorDescription").startswith("No data")  # type: ignore[union-attr]
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert (call["verdict"], call["error_codes"]) == ("accepted", [40])


class TestSoapFaults:
    def post(
        self, server: AnyServer, service: str, body: bytes | str, **headers: str
    ) -> httpx.Response:
        return httpx.post(
            f"{server.esite_url}/{service}.asmx",
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8", **headers},
        )

    def test_what_cannot_be_served_is_a_client_fault(
        self, seeded: httpx.Client, amsi_server: AnyServer
    ) -> None:
        envelope = (
            '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
            '<{op} xmlns="http://tempuri.org/"/></s:Body></s:Envelope>'
        )
        cases = {
            ("ledger", "not xml"): "not a SOAP envelope",
            ("ledger", "<a/>"): "not a SOAP 1.1 or 1.2 Envelope",
            (
                "ledger",
                envelope.format(op="GetPropertyList"),
            ): "Ledger has no operation GetPropertyList",
            ("leasing", envelope.format(op="AddPayment")): "Leasing has no operation AddPayment",
        }
        for (service, body), text in cases.items():
            response = self.post(amsi_server, service, body)
            assert response.status_code == 500
            fault = parsed(response.text)
            assert fault.findtext(".//faultcode") == "soap:Client"
            assert text in (fault.findtext(".//faultstring") or "")
        mismatch = self.post(
            amsi_server,
            "ledger",
            envelope.format(op="AddPayment"),
            SOAPAction='"http://tempuri.org/ReturnPayment"',
        )
        assert "does not match" in mismatch.text

    def test_a_billion_laughs_envelope_is_refused_quickly(
        self, seeded: httpx.Client, amsi_server: AnyServer
    ) -> None:
        entities = "".join(
            f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
        )
        bomb = f'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY l0 "lol">{entities}]><e>&l9;</e>'
        started = time.monotonic()
        response = self.post(amsi_server, "ledger", bomb)
        assert time.monotonic() - started < 2
        assert response.status_code == 500
        assert "DTDs and entity declarations are refused" in response.text

    def test_a_switched_off_soap_version_is_a_fault(
        self, seeded: httpx.Client, leasing: zeep.Client
    ) -> None:
        seeded.patch("/_ref/settings", json={"soap_versions": ["1.1"]})
        soap12 = leasing.bind("Leasing", "LeasingSoap12")
        with pytest.raises(zeep.exceptions.Fault, match=r"SOAP 1\.2 is switched off"):
            soap12.GetPropertyUnits(**LOGIN, XMLData=units_request())


def test_the_docs_publish_every_code() -> None:
    text = DOCS.read_text()
    for error in ERROR_CODES:
        assert re.search(rf"\|\s*{error.number}\s*\|[^\n]*{re.escape(error.text)}", text), error
