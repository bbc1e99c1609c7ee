"""Seeding the reference MRI over its admin API (issue 17, "Pinned for client tests"): logins,
and a property from a ``ResidentLeaseDetailsByPropertyID`` answer as MRI sends it (raw XML) or
its JSON; malformed documents name the element and change nothing; XML bombs are refused."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from portal_tests.reference_mri.conftest import (
    CREDENTIAL,
    LEASE_DETAILS,
    PROPERTY,
    XML,
    Mri,
    fixture_bytes,
    leases,
    records,
)

RESIDENTS = f"/_ref/properties/{PROPERTY}/residents"
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b"]><mri_s-pmrm_residentleasedetailsbypropertyid><entry><FirstName>&lol9;</FirstName>"
    + b"</entry></mri_s-pmrm_residentleasedetailsbypropertyid>"
)


def assert_problem(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    detail: str = body["detail"]
    return detail


def entry_xml(**overrides: str | None) -> str:
    fields: dict[str, str | None] = {
        "ResidentNameID": "0000000001",
        "PropertyID": PROPERTY,
        "BuildingID": "01",
        "UnitID": "101",
        "LeaseID": "1",
        "ResidentStatus": "Current",
        "LeaseBalance": "10.00",
        "IsCurrent": "Y",
    }
    fields.update(overrides)
    return (
        "<entry>"
        + "".join(f"<{k}>{v}</{k}>" for k, v in fields.items() if v is not None)
        + "</entry>"
    )


def document(*entries: str, root: str = "mri_s-pmrm_residentleasedetailsbypropertyid") -> bytes:
    return f"<{root}>{''.join(entries)}</{root}>".encode()


class TestCredentials:
    def test_201_then_200_then_409_and_no_password_read_back(self, ref_admin: httpx.Client) -> None:
        ref_admin.post("/_ref/reset")
        first = ref_admin.post("/_ref/credentials", json=CREDENTIAL)
        assert first.status_code == 201
        assert first.json()["username"] == (f"C000123/RTDB/RTAPI/{CREDENTIAL['partner_key']}")
        assert "password" not in first.json()
        assert ref_admin.post("/_ref/credentials", json=CREDENTIAL).status_code == 200
        other = ref_admin.post("/_ref/credentials", json={**CREDENTIAL, "password": "x"})
        assert_problem(other, 409, "conflict")
        listed = ref_admin.get("/_ref/credentials").json()["data"]
        assert [c["client_id"] for c in listed] == ["C000123"]

    @pytest.mark.parametrize(
        "body",
        [{**CREDENTIAL, "user": "a/b"}, {**CREDENTIAL, "database": ""}, {"client_id": "C1"}],
    )
    def test_a_part_with_a_slash_or_missing_is_422(
        self, ref_admin: httpx.Client, body: dict[str, Any]
    ) -> None:
        assert_problem(ref_admin.post("/_ref/credentials", json=body), 422, "validation_failed")


class TestSeedingFromMriXml:
    def test_counts_and_the_state_loaded(self, seeded: httpx.Client) -> None:
        again = seeded.put(RESIDENTS, content=fixture_bytes(), headers=XML)
        assert again.json() == {
            "property_id": "500",
            "entries": 8,
            "buildings": 2,
            "units": 5,
            "leases": 6,
            "residents": 8,
            "charges": 6,
        }
        found = leases(seeded)
        shared = found["01|101|2"]
        assert shared["balance"] == "8347.00"
        assert [r["resident_name_id"] for r in shared["residents"]] == ["0000000091", "WF00000422"]
        assert found["01|103|2"]["block_epayments"] is True
        assert found["01|103|1"]["move_out"] == "2015-01-31T00:00:00"
        assert shared["charges"][0]["charge_code"] == "RNT"
        properties = seeded.get("/_ref/properties").json()["data"]
        assert [p["property_id"] for p in properties] == ["500"]

    def test_a_property_seeded_again_is_replaced_under_any_case(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        response = seeded.put(
            "/_ref/properties/500/residents", content=document(entry_xml()), headers=XML
        )
        assert response.json()["residents"] == 1
        assert len(records(mri.get(LEASE_DETAILS, RMPROPID=PROPERTY))) == 1

    def test_json_as_mri_sends_it(self, seeded: httpx.Client, mri: Mri) -> None:
        value = [
            {
                "ResidentNameID": "0000000001",
                "PropertyID": "GCNS01",
                "BuildingID": "01",
                "UnitID": "101",
                "LeaseID": "1",
                "ResidentStatus": "Old",
                "IsCurrent": "N",
                "LeaseBalance": "0.00",
                "LeaseStart": "2019-05-01T00:00:00",
                "Namegroup": None,
            },
            {
                "ResidentNameID": "0000000002",
                "PropertyID": "GCNS01",
                "BuildingID": "01",
                "UnitID": "101",
                "LeaseID": "1",
                "ResidentStatus": "Other Resident",
                "IsCurrent": "N",
                "LeaseBalance": "0.00",
                "LeaseMonthlyRentAmount": 38300,
            },
        ]
        response = seeded.put(
            "/_ref/properties/gcns01/residents",
            json={"odata.metadata": "https://mri.example", "value": value},
        )
        assert response.status_code == 200, response.text
        assert response.json()["property_id"] == "GCNS01"
        got = records(mri.get(LEASE_DETAILS, "json", RMPROPID="GCNS01"))
        assert [(r["ResidentStatus"], r["IsCurrent"]) for r in got] == [
            ("Old", "N"),
            ("Other Resident", "N"),
        ]
        assert got[0]["LeaseStart"] == "2019-05-01T00:00:00"


class TestMalformedDocuments:
    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            (document(entry_xml(ResidentNameID=None)), "entry[1]/ResidentNameID is missing"),
            (document(entry_xml(), entry_xml(UnitID="")), "entry[2]/UnitID is missing"),
            (
                document(entry_xml(LeaseBalance="12,50")),
                "entry[1]/LeaseBalance '12,50' is not an amount",
            ),
            (
                document(entry_xml(LeaseEnd="02/19/2025")),
                "entry[1]/LeaseEnd '02/19/2025' is not a date",
            ),
            (
                document(entry_xml(ResidentStatus="Applicant")),
                "entry[1]/ResidentStatus 'Applicant' is not one of Current, Co-Resident",
            ),
            (document(entry_xml(IsCurrent="yes")), "entry[1]/IsCurrent 'yes' is not Y or N"),
            (
                document(entry_xml(PropertyID="501")),
                "entry[1]/PropertyID is '501', the path names property '500'",
            ),
            (
                document(entry_xml(), entry_xml(ResidentNameID="2", LeaseBalance="11.00")),
                "entry[2]/LeaseBalance 11.00 differs from 10.00, the balance of lease 01|101|1",
            ),
            (
                document(entry_xml(), entry_xml(UnitID="102")),
                "entry[2]: ResidentNameID 0000000001 appears twice",
            ),
            (
                document(entry_xml(), root="mri_s-pmrm_residentialrentroll"),
                "the root element is <mri_s-pmrm_residentialrentroll>, expected "
                "<mri_s-pmrm_residentleasedetailsbypropertyid>",
            ),
            (b"<mri_s-pmrm_residentleasedetailsbypropertyid>", "not well-formed XML"),
        ],
    )
    def test_400_names_the_element_and_changes_nothing(
        self, seeded: httpx.Client, body: bytes, detail: str
    ) -> None:
        response = seeded.put(RESIDENTS, content=body, headers=XML)
        assert detail in assert_problem(response, 400, "malformed_document")
        assert len(leases(seeded)) == 6

    @pytest.mark.parametrize(
        ("body", "detail"),
        [
            ({"value": [{"ResidentNameID": "1"}]}, "value[0].BuildingID is missing"),
            ({"value": [{"LeaseBalance": True}]}, "value[0].LeaseBalance is not a string"),
            ({"entries": []}, "not a JSON object with a 'value' list"),
        ],
    )
    def test_json_names_the_member(
        self, seeded: httpx.Client, body: dict[str, Any], detail: str
    ) -> None:
        response = seeded.put(RESIDENTS, json=body)
        assert detail in assert_problem(response, 400, "malformed_document")

    def test_a_billion_laughs_is_refused_at_its_doctype(self, seeded: httpx.Client) -> None:
        started = time.monotonic()
        response = seeded.put(RESIDENTS, content=BILLION_LAUGHS, headers=XML)
        assert time.monotonic() - started < 2
        assert "DTDs and entity declarations are refused" in assert_problem(
            response, 400, "malformed_document"
        )

    def test_other_media_types_are_415(self, seeded: httpx.Client) -> None:
        response = seeded.put(
            RESIDENTS, content=fixture_bytes(), headers={"Content-Type": "text/plain"}
        )
        assert_problem(response, 415, "unsupported_media_type")


class TestCharges:
    def test_charges_replace_the_derived_rent(self, seeded: httpx.Client) -> None:
        body = {
            "charges": [
                {
                    "BuildingID": "01",
                    "UnitID": "102",
                    "LeaseID": "1",
                    "ChargeCode": "PRK",
                    "Amount": "50.00",
                    "Frequency": "M",
                }
            ]
        }
        response = seeded.put(f"/_ref/properties/{PROPERTY}/charges", json=body)
        assert response.json() == {"property_id": "500", "charges": 1}
        found = leases(seeded)
        assert [c["charge_code"] for c in found["01|102|1"]["charges"]] == ["PRK"]
        assert found["01|101|2"]["charges"] == []

    @pytest.mark.parametrize(
        ("charge", "detail"),
        [
            ({"BuildingID": "09", "UnitID": "1", "LeaseID": "1"}, "no lease 09|1|1"),
            (
                {
                    "BuildingID": "01",
                    "UnitID": "102",
                    "LeaseID": "1",
                    "ChargeCode": "RNT",
                    "Amount": "x",
                },
                "charges[0].Amount 'x' is not an amount",
            ),
            ({"BuildingID": "01", "UnitID": "102", "LeaseID": "1"}, "ChargeCode is missing"),
        ],
    )
    def test_malformed_charges(
        self, seeded: httpx.Client, charge: dict[str, Any], detail: str
    ) -> None:
        response = seeded.put(f"/_ref/properties/{PROPERTY}/charges", json={"charges": [charge]})
        assert detail in assert_problem(response, 400, "malformed_document")

    def test_unknown_property_is_404(self, seeded: httpx.Client) -> None:
        response = seeded.put("/_ref/properties/999/charges", json={"charges": []})
        assert_problem(response, 404, "not_found")
        assert_problem(seeded.get("/_ref/properties/999/leases"), 404, "not_found")
