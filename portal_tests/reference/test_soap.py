"""The five operations over SOAP with zeep from the published WSDLs (connectors.md §1.1-§1.7), and
their effects as the read-back shows them (§3.2): AddPayment lowers the balance (oldest item
first) and opens or extends the journal; ReturnPayment restores it; UpdateSettlementData
settles."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import zeep

from portal_tests.reference.conftest import (
    LOGIN,
    PORTFOLIO,
    AnyServer,
    add_payment,
    error_code,
    journals,
    leases,
    ledger_call,
    parsed,
    payment_xml,
    residents_request,
    return_xml,
    settlement_xml,
    units_request,
)

LEE = ("01", "102", "4")


def open_items(leasing: zeep.Client, resi_id: str = "4", unit_id: str = "102") -> list[Any]:
    result = parsed(leasing.service.GetPropertyResidents(**LOGIN, XMLData=residents_request("C")))
    lease = result.find(f"Lease[@UnitID='{unit_id}'][@ResiID='{resi_id}']")
    assert lease is not None
    return [(i.get("IncCode"), i.get("BalDue")) for i in lease.findall("OpenItem")] + [
        ("EndBalance", lease.get("EndBalance"))
    ]


class TestWsdl:
    def test_both_services_publish_soap11_and_soap12_ports(
        self, amsi_server: AnyServer, ledger: zeep.Client, leasing: zeep.Client
    ) -> None:
        ledger_service = ledger.wsdl.services["Ledger"]
        assert set(ledger_service.ports) == {"LedgerSoap", "LedgerSoap12"}
        port = ledger_service.ports["LedgerSoap"]
        assert port.binding_options["address"] == f"{amsi_server.esite_url}/ledger.asmx"
        assert set(port.binding._operations) == {
            "AddPayment",
            "ReturnPayment",
            "UpdateSettlementData",
        }
        assert set(leasing.wsdl.services["Leasing"].ports["LeasingSoap"].binding._operations) == {
            "GetPropertyUnits",
            "GetPropertyResidents",
        }
        add = port.binding._operations["AddPayment"]
        assert add.soapaction == "http://tempuri.org/AddPayment"
        # preliminary is mandatory on Ledger operations (§1.2).
        assert [e.name for e in add.input.body.type.elements_nested[0][1]] == [
            "UserID",
            "Password",
            "PortfolioName",
            "preliminary",
            "XMLData",
        ]

    def test_any_case_and_no_prefix_serve_the_wsdl(self, amsi_server: AnyServer) -> None:
        response = httpx.get(f"{amsi_server.base}/Ledger.asmx?wsdl")
        assert response.status_code == 200
        assert b'<wsdl:service name="Ledger">' in response.content


class TestLeasing:
    @pytest.mark.smoke
    def test_get_property_units_as_the_fixture(
        self, seeded: httpx.Client, leasing: zeep.Client
    ) -> None:
        result = parsed(leasing.service.GetPropertyUnits(**LOGIN, XMLData=units_request("1")))
        assert result.tag == "PropertyUnits"
        units = result.findall("Unit")
        assert len(units) == 6
        first = units[0]
        # Attributes exactly as sent, in order and case (units spell BldgId, §1.3).
        assert list(first.attrib)[:4] == ["PropertyId", "BldgId", "UnitId", "UnitType"]
        assert first.get("address1") == "101 Newport Center Drive"
        active = parsed(leasing.service.GetPropertyUnits(**LOGIN, XMLData=units_request("0")))
        assert len(active.findall("Unit")) == 5

    def test_get_property_residents_by_status(
        self, seeded: httpx.Client, leasing: zeep.Client
    ) -> None:
        current = parsed(
            leasing.service.GetPropertyResidents(**LOGIN, XMLData=residents_request("C", "1"))
        )
        assert [(x.get("UnitID"), x.get("ResiID")) for x in current.findall("Lease")] == [
            ("101", "21"),
            ("102", "4"),
            ("201", "4"),
        ]
        pat = current.find("Lease")
        assert pat is not None
        assert list(pat.attrib)[:4] == ["PropertyId", "BldgID", "UnitID", "ResiID"]
        assert [c.tag for c in pat] == [
            "Occupant",
            "Occupant",
            "OpenItem",
            "Address",
            "RecurringCharge",
        ]
        address = pat.find("Address")
        assert address is not None
        assert [c.get("Phone") for c in address] == ["(650)555-0100"]
        notice = parsed(
            leasing.service.GetPropertyResidents(**LOGIN, XMLData=residents_request("N", "0"))
        )
        assert [x.get("ResiID") for x in notice.findall("Lease")] == ["13"]
        assert notice.findall(".//RecurringCharge") == []

    def test_soap12_port(self, seeded: httpx.Client, leasing: zeep.Client) -> None:
        soap12 = leasing.bind("Leasing", "LeasingSoap12")
        result = parsed(soap12.GetPropertyUnits(**LOGIN, XMLData=units_request()))
        assert len(result.findall("Unit")) == 6


class TestAddPayment:
    @pytest.mark.smoke
    def test_lowers_the_balance_oldest_item_first_and_opens_the_journal(
        self, seeded: httpx.Client, ledger: zeep.Client, leasing: zeep.Client
    ) -> None:
        result = parsed(add_payment(ledger))
        payment = result.find("Payment")
        assert payment is not None
        # The request's attributes come back, the status as child elements (§1.5).
        assert payment.get("ClientTransactionID") == "4567890"
        assert [c.tag for c in payment] == [
            "ErrorCode",
            "ErrorDescription",
            "EvolutionReference",
            "EvolutionReferenceDescription",
            "AdditionalData",
        ]
        assert payment.findtext("ErrorCode") == "0"
        batch_no = payment.findtext("AdditionalData/eSiteBatchNo")
        assert batch_no
        # GARPK (due 01/01) is paid off before RENT (due 02/01): 1730 - 500 = 1230.
        assert open_items(leasing) == [("RENT", "1230"), ("GARPK", "0"), ("EndBalance", "1230")]
        assert leases(seeded)[LEE]["end_balance"] == "1230.00"
        add_payment(ledger, payment_xml(ClientTransactionID="4567891", Amount="100.25"))
        journal = journals(seeded)["55558888"]
        assert journal["esite_batch_no"] == batch_no
        assert [p["amount"] for p in journal["payments"]] == ["500.00", "100.25"]
        assert (journal["net"], journal["settled"], journal["state"]) == ("600.25", False, "open")
        assert leases(seeded)[LEE]["end_balance"] == "1129.75"

    def test_an_overpayment_becomes_a_credit_item(
        self, seeded: httpx.Client, ledger: zeep.Client, leasing: zeep.Client
    ) -> None:
        add_payment(ledger, payment_xml(Amount="2000"))
        assert open_items(leasing) == [
            ("RENT", "0"),
            ("GARPK", "0"),
            ("PREPAY", "-270"),
            ("EndBalance", "-270"),
        ]

    def test_preliminary_validates_without_posting(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        assert error_code(add_payment(ledger, preliminary=1)) == 0
        assert leases(seeded)[LEE]["end_balance"] == "1730.00"
        assert journals(seeded) == {}
        call = seeded.get("/_ref/calls", params={"operation": "AddPayment"}).json()["data"][-1]
        assert (call["verdict"], call["committed"]) == ("validated", False)

    def test_an_envelope_as_rt_sent_it(self, seeded: httpx.Client, amsi_server: AnyServer) -> None:
        # ns1 prefix, XMLData as CDATA with the newline RT kept after the stripped header (§1.2).
        envelope = (
            '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:ns1="http://tempuri.org/"><SOAP-ENV:Body><ns1:AddPayment>'
            f"<ns1:UserID>{LOGIN['UserID']}</ns1:UserID><ns1:Password>{LOGIN['Password']}</ns1:Password>"
            f"<ns1:PortfolioName>{PORTFOLIO}</ns1:PortfolioName><ns1:preliminary>0</ns1:preliminary>"
            f"<ns1:XMLData><![CDATA[\n{payment_xml()}\n]]></ns1:XMLData>"
            "</ns1:AddPayment></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        )
        response = httpx.post(
            f"{amsi_server.esite_url}/ledger.asmx",
            content=envelope,
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": '"http://tempuri.org/AddPayment"',
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/xml")
        assert b"&lt;ErrorCode&gt;0&lt;/ErrorCode&gt;" in response.content
        assert leases(seeded)[LEE]["end_balance"] == "1230.00"


class TestReturnPayment:
    def test_nsf_before_settlement_joins_the_original_journal(
        self, seeded: httpx.Client, ledger: zeep.Client, leasing: zeep.Client
    ) -> None:
        add_payment(ledger)
        add_payment(ledger, payment_xml(ClientTransactionID="4567891", Amount="100.00"))
        result = parsed(ledger_call(ledger, "ReturnPayment", return_xml()))
        payment = result.find("Payment")
        assert payment is not None
        assert payment.findtext("ErrorCode") == "0"
        assert payment.findtext("EvolutionTransactionID")
        assert [c.tag for c in payment][:4] == [
            "ClientTransactionID",
            "Reason",
            "ClientJnlNo",
            "EvolutionTransactionID",
        ]
        journal = journals(seeded)["55558888"]
        assert [r["reason"] for r in journal["returns"]] == ["NSF"]
        assert journal["payments"][0]["status"] == "returned"
        assert journal["net"] == "100.00"
        assert journal["totals"] == {
            "rent_other": "600.00",
            "security_deposits": "0.00",
            "misc": "0.00",
            "returns": "-500.00",
            "total": "100.00",
        }
        # The 500 goes back where it came from: GARPK 125, RENT 375 (1605 - 100 left owing).
        assert open_items(leasing) == [("RENT", "1505"), ("GARPK", "125"), ("EndBalance", "1630")]
        history = leases(seeded)[LEE]["balance_history"]
        assert [(h["change"], h["balance"]) for h in history] == [
            ("-500.00", "1230.00"),
            ("-100.00", "1130.00"),
            ("500.00", "1630.00"),
        ]

    def test_chargeback_and_reverse_are_negative_payments(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        add_payment(ledger)
        add_payment(ledger, payment_xml(ClientTransactionID="4567891", Amount="100.00"))
        assert (
            error_code(ledger_call(ledger, "ReturnPayment", return_xml(reason="ChargeBack"))) == 0
        )
        reverse = return_xml(txn="4567891", reason="Reverse", description="voided")
        assert error_code(ledger_call(ledger, "ReturnPayment", reverse)) == 0
        journal = journals(seeded)["55558888"]
        assert [(p["amount"], p["status"], p["reason"]) for p in journal["payments"]] == [
            ("500.00", "reversed", None),
            ("100.00", "reversed", None),
            ("-500.00", "reversal", "CHARGE BACK"),
            ("-100.00", "reversal", "REVERSE"),
        ]
        assert journal["returns"] == []
        assert (journal["net"], journal["totals"]["misc"]) == ("0.00", "-600.00")
        assert leases(seeded)[LEE]["end_balance"] == "1730.00"
        returns = seeded.get(f"/_ref/portfolios/{PORTFOLIO}/returns").json()["data"]
        assert [(r["reason"], r["placement"]) for r in returns] == [
            ("ChargeBack", "negative_payment"),
            ("Reverse", "negative_payment"),
        ]


class TestSettlement:
    @pytest.mark.smoke
    def test_settles_with_the_net_and_then_the_journal_is_closed(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        add_payment(ledger)
        result = parsed(ledger_call(ledger, "UpdateSettlementData", settlement_xml()))
        assert result.tag == "Batches"
        edex = result.find("EDEX")
        assert edex is not None
        assert edex.findtext("ErrorCode") == "0"
        assert edex.findtext("ApprovalCode") == "RentTrack"
        journal = journals(seeded)["55558888"]
        assert (journal["state"], journal["settled"]) == ("settled", True)
        assert journal["settlement"]["amount"] == "500.00"
        assert journal["settlement"]["settlement_date"] == "2016-06-29"
        later = add_payment(ledger, payment_xml(ClientTransactionID="4567891"))
        assert error_code(later) == 17

    def test_a_return_after_settlement_is_a_journal_of_its_own(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        add_payment(ledger)
        ledger_call(ledger, "UpdateSettlementData", settlement_xml())
        assert error_code(ledger_call(ledger, "ReturnPayment", return_xml())) == 0
        # RT keys it by the transaction ID and settles it with a positive amount (§1.6).
        own = journals(seeded)["4567890"]
        assert (own["net"], own["settled"]) == ("-500.00", False)
        settle = settlement_xml(jnl="4567890", amount="500.00")
        assert error_code(ledger_call(ledger, "UpdateSettlementData", settle)) == 0
        assert journals(seeded)["4567890"]["settled"] is True
        assert journals(seeded)["55558888"]["net"] == "500.00"

    def test_by_batch_the_return_goes_to_the_journal_named(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        seeded.patch("/_ref/settings", json={"return_journal": "by_batch"})
        add_payment(ledger)
        ledger_call(ledger, "UpdateSettlementData", settlement_xml())
        assert error_code(ledger_call(ledger, "ReturnPayment", return_xml(jnl="77770001"))) == 0
        assert journals(seeded)["77770001"]["net"] == "-500.00"
        settle = settlement_xml(jnl="77770001", amount="-500.00")
        assert error_code(ledger_call(ledger, "UpdateSettlementData", settle)) == 0


class TestReadBack:
    def test_every_call_with_payload_verdict_and_response(
        self, seeded: httpx.Client, ledger: zeep.Client
    ) -> None:
        seeded.delete("/_ref/calls")
        add_payment(ledger)
        add_payment(ledger, payment_xml(PaymentType="K", ClientTransactionID="9"))
        calls = seeded.get("/_ref/calls").json()["data"]
        assert [(c["operation"], c["verdict"], c["error_codes"]) for c in calls] == [
            ("AddPayment", "accepted", []),
            ("AddPayment", "rejected", [15]),
        ]
        first = calls[0]
        assert first["protocol"] == "SOAP 1.1"
        assert first["payload"]["Password"] == "***"
        assert first["payload"]["preliminary"] == "0"
        assert first["payload"]["XMLData"]["records"][0]["ClientJnlNo"] == "55558888"
        assert first["result"].startswith("<Payments>")
        assert first["committed"] is True
        since = seeded.get("/_ref/calls", params={"since": first["seq"]}).json()["data"]
        assert [c["seq"] for c in since] == [calls[1]["seq"]]

    def test_double_escaped_results_behind_the_switch(
        self, seeded: httpx.Client, leasing: zeep.Client
    ) -> None:
        seeded.patch("/_ref/settings", json={"double_escape_results": True})
        result = leasing.service.GetPropertyUnits(**LOGIN, XMLData=units_request())
        # What RT's Leasing client un-escaped by hand (§1.2).
        assert result.startswith("&lt;PropertyUnits&gt;&lt;Unit PropertyId=")
