"""POST ``MRI_S-PMRM_PaymentDetailsByPropertyID`` (connectors.md §2.6, §2.10, §3.3): RT's XML
``entry`` and MH's JSON ``value[0]``, the answer, and the effects: batches per (property,
``ExternalBatchID``), lease balances, charges, duplicates and the switches."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from portal.reference.mri.posting import ANSWER_FIELDS
from portal_tests.reference_mri.conftest import (
    LEASE_DETAILS,
    PROPERTY,
    Mri,
    batches,
    error_message,
    leases,
    payment_json,
    payment_xml,
    records,
)

PAT = "01|102|1"


class TestAnswer:
    def test_rt_xml_answer_echoes_and_adds_mri_ids(self, seeded: httpx.Client, mri: Mri) -> None:
        response = mri.post(payment_xml())
        root = ET.fromstring(response.content)
        assert root.tag == "mri_s-pmrm_paymentdetailsbypropertyid"
        entry = root.find("entry")
        assert entry is not None
        assert [child.tag for child in entry] == list(ANSWER_FIELDS)
        got = {child.tag: child.text for child in entry}
        assert got["TransactionID"] == "00000501PP"
        assert got["BatchId"] == "00000000019001"
        assert (got["ChargeCode"], got["CashType"]) == ("PPR", "VM")
        assert (got["UpdateControlTotal"], got["ApplyToDirectDebitOnly"]) == ("N", "N")
        assert got["PaymentInitiationDatetime"] == "2016-06-24T10:15:00.0000000"
        assert (got["SiteID"], got["ExternalBatchID"], got["CheckNumber"]) == (
            "@",
            "325698",
            "4567890",
        )
        assert got["ChargeID"] is None
        assert seeded.get("/_ref/calls").json()["data"][-1]["verdict"] == "accepted"

    def test_mh_json_answer(self, seeded: httpx.Client, mri: Mri) -> None:
        value = records(mri.post(payment_json(), "json"))[0]
        assert list(value) == list(ANSWER_FIELDS)
        assert value["TransactionID"] == "00000501PP"
        assert value["BatchId"] == "00000000019001"
        assert value["PaymentInitiationDatetime"] == "2016-06-24T00:00:00"
        assert value["DepositDate"] == "2024-12-12T00:00:00"
        assert (value["SiteID"], value["ApplyToChargesThroughDate"]) == (None, None)

    def test_xsi_nil_and_empty_elements_are_null(self, seeded: httpx.Client, mri: Mri) -> None:
        body = (
            payment_xml(CheckNumber="", Description=None)
            .replace(
                "<mri_s-pmrm_paymentdetailsbypropertyid>",
                "<mri_s-pmrm_paymentdetailsbypropertyid xmlns:xsi="
                '"http://www.w3.org/2001/XMLSchema-instance">',
            )
            .replace("</PartnerName>", '</PartnerName><Description xsi:nil="true"/>')
        )
        got = records(mri.post(body))[0]
        assert got["TransactionID"] == "00000501PP"
        assert (got["CheckNumber"], got["Description"]) == (None, None)

    def test_a_lower_cased_property_id_as_rt_sent_it(self, seeded: httpx.Client, mri: Mri) -> None:
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
                        "LeaseBalance": "100.00",
                    }
                ]
            },
        )
        got = records(mri.post(payment_xml(PropertyID="gcns01", ResidentNameID="0000000467")))[0]
        assert got["PropertyID"] == "gcns01"
        assert leases(seeded, "GCNS01")["01|101|1"]["balance"] == "-400.00"
        assert list(batches(seeded, "gcns01")) == ["325698"]


class TestEffects:
    def test_one_open_batch_per_external_batch_id_and_the_balance_drops(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        mri.post(payment_xml())
        mri.post(payment_xml(ExternalTransactionNumber="4567891", PaymentAmount="30.50"))
        mri.post(payment_xml(ExternalTransactionNumber="4567892", ExternalBatchId="325699"))
        found = batches(seeded)
        assert list(found) == ["325698", "325699"]
        first = found["325698"]
        assert (first["state"], first["total"], first["count"]) == ("open", "530.50", 2)
        assert [r["transaction_id"] for r in first["receipts"]] == ["00000501PP", "00000502PP"]
        assert found["325699"]["batch_id"] == "00000000019002"
        lease = leases(seeded)[PAT]
        assert lease["balance"] == "699.50"
        assert [e["kind"] for e in lease["ledger"]] == ["opening", "receipt", "receipt", "receipt"]
        assert lease["ledger"][-1]["balance"] == "699.50"

    def test_co_residents_share_the_lease_and_its_balance(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        mri.post(payment_xml(ResidentNameID="WF00000422", PaymentAmount="347.00"))
        got = records(mri.get(LEASE_DETAILS, "json", RMPROPID=PROPERTY))
        balances = {r["ResidentNameID"]: r["LeaseBalance"] for r in got}
        assert balances["0000000091"] == balances["WF00000422"] == "8000.00"

    def test_a_receipt_updates_last_update_date(self, seeded: httpx.Client, mri: Mri) -> None:
        seeded.put("/_ref/clock", json={"now": "2016-06-24T15:00:00Z"})
        try:
            mri.post(payment_xml())
            got = records(mri.get(LEASE_DETAILS, "json", LastUpdateDate="2016-06-24"))
            assert [(r["ResidentNameID"], r["LastUpdateDate"]) for r in got] == [
                ("0000000001", "2016-06-24T15:00:00")
            ]
        finally:
            seeded.put("/_ref/clock", json={"system": True})

    def test_a_charge_id_applies_the_receipt_and_a_deposit_lands_in_the_deposit_ledger(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        charges = {
            "charges": [
                {
                    "BuildingID": "01",
                    "UnitID": "102",
                    "LeaseID": "1",
                    "ChargeID": "0000325496",
                    "ChargeCode": "RNT",
                    "Amount": "1150.00",
                    "Frequency": "M",
                    "EffectiveDate": "2015-07-01",
                    "UnpaidAmount": "1150.00",
                },
                {
                    "BuildingID": "01",
                    "UnitID": "102",
                    "LeaseID": "1",
                    "ChargeID": "0000325497",
                    "ChargeCode": "SEC",
                    "Amount": "580.00",
                    "UnpaidAmount": "580.00",
                },
            ]
        }
        assert seeded.put(f"/_ref/properties/{PROPERTY}/charges", json=charges).status_code == 200
        rent = records(mri.post(payment_json(ChargeID="0000325496"), "json"))[0]
        assert (rent["ChargeCode"], rent["ChargeID"]) == ("RNT", "0000325496")
        deposit = payment_json(
            ChargeID="0000325497", ExternalTransactionNumber="3", PaymentAmount="580.00"
        )
        assert records(mri.post(deposit, "json"))[0]["ChargeCode"] == "SEC"
        batch = batches(seeded)["B1"]
        assert batch["totals"] == {
            "rent": "1000.00",
            "security_deposits": "580.00",
            "voided": "0.00",
        }
        unpaid = {c["charge_id"]: c["unpaid"] for c in leases(seeded)[PAT]["charges"]}
        assert unpaid == {"0000325496": "150.00", "0000325497": "0.00"}
        # Only recurring charges are in the rent roll.
        roll = records(
            mri.get("MRI_S-PMRM_ResidentialRentRoll", "json", PROPERTYID="500", UNITID="102")
        )
        assert [c["ChargeCode"] for c in roll[0]["CurrentCharges"]] == ["RNT"]


class TestDuplicates:
    def test_a_duplicate_names_the_original_and_posts_nothing(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        mri.post(payment_xml())
        again = mri.post(payment_xml(ExternalBatchId="999"))
        assert error_message(again) == (
            "Duplicate: ExternalTransactionNumber 4567890 was posted as 00000501PP "
            "in batch 00000000019001"
        )
        entry = ET.fromstring(again.content).find("entry")
        assert entry is not None
        assert (entry.findtext("TransactionID"), entry.findtext("BatchId")) == (
            "00000501PP",
            "00000000019001",
        )
        assert list(batches(seeded)) == ["325698"]
        assert leases(seeded)[PAT]["balance"] == "1230.00"

    def test_the_key_is_per_property(self, seeded: httpx.Client, mri: Mri) -> None:
        seeded.put(
            "/_ref/properties/501/residents",
            json={
                "value": [
                    {
                        "ResidentNameID": "X1",
                        "BuildingID": "A",
                        "UnitID": "1",
                        "LeaseID": "1",
                        "ResidentStatus": "Current",
                    }
                ]
            },
        )
        mri.post(payment_xml())
        other = records(mri.post(payment_xml(PropertyID="501", ResidentNameID="X1")))[0]
        assert other["TransactionID"] == "00000502PP"

    def test_accept_twice_and_check_numbers(self, seeded: httpx.Client, mri: Mri) -> None:
        seeded.patch("/_ref/settings", json={"duplicates": "accept_twice"})
        mri.post(payment_xml())
        assert records(mri.post(payment_xml()))[0]["TransactionID"] == "00000502PP"
        assert leases(seeded)[PAT]["balance"] == "730.00"
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert "4567890 posted again (duplicates=accept_twice)" in call["notes"]
        seeded.patch(
            "/_ref/settings", json={"duplicates": "reject", "duplicate_check_number": True}
        )
        same_check = mri.post(payment_xml(ExternalTransactionNumber="1"))
        assert (error_message(same_check) or "").startswith("Duplicate")


class TestSwitches:
    def test_truncate_cuts_silently_and_the_cut_number_is_the_key(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        seeded.patch("/_ref/settings", json={"over_length": "truncate"})
        long = payment_xml(
            ExternalTransactionNumber="12345678901",
            Description="RT T#1234567890123 B#12B20160624",
        )
        got = records(mri.post(long))[0]
        assert (got["ExternalTransactionNumber"], got["Description"]) == (
            "1234567890",
            "RT T#1234567890123 B#12B201606",
        )
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert (
            "ExternalTransactionNumber cut to 10 characters (over_length=truncate)" in call["notes"]
        )
        other = mri.post(payment_xml(ExternalTransactionNumber="12345678902"))
        assert (error_message(other) or "").startswith(
            "Duplicate: ExternalTransactionNumber 1234567890"
        )

    def test_block_epayments_accepted_by_default_refused_when_switched(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        blocked = payment_xml(ResidentNameID="0000000003")
        assert records(mri.post(blocked))[0]["TransactionID"] == "00000501PP"
        seeded.patch("/_ref/settings", json={"block_epayments": "reject"})
        again = mri.post(payment_xml(ResidentNameID="0000000003", ExternalTransactionNumber="2"))
        assert error_message(again) == "ePayments blocked: BlockEPayments=Y on lease 01|103|2"

    def test_negative_amounts_post_a_reversal_when_switched(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        refused = mri.post(payment_xml(PaymentAmount="-500.00"))
        assert (error_message(refused) or "").startswith("Invalid payment amount")
        seeded.patch("/_ref/settings", json={"negative_amounts": "reversal"})
        mri.post(payment_xml())
        reversal = records(
            mri.post(payment_xml(PaymentAmount="-500.00", ExternalTransactionNumber="R4567890"))
        )[0]
        assert reversal["PaymentAmount"] == "-500.00"
        lease = leases(seeded)[PAT]
        assert lease["balance"] == "1730.00"
        assert [e["kind"] for e in lease["ledger"]] == ["opening", "receipt", "reversal"]
        assert batches(seeded)["325698"]["total"] == "0.00"

    def test_several_entries_are_answered_one_each(self, seeded: httpx.Client, mri: Mri) -> None:
        one = payment_xml()
        two = payment_xml(ExternalTransactionNumber="2", PaymentType="X")
        body = one.replace(
            "</mri_s-pmrm_paymentdetailsbypropertyid>",
            two[two.index("<entry>") : two.index("</mri_s")]
            + "</mri_s-pmrm_paymentdetailsbypropertyid>",
        )
        got = records(mri.post(body))
        assert got[0]["TransactionID"] == "00000501PP"
        assert got[1]["Error"] is not None
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert (call["verdict"], call["error_codes"], call["committed"]) == ("rejected", [5], True)
