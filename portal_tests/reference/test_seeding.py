"""Seeding and reading back the reference eSite over its admin API (issue 16, "Pinned for client
tests"): the vendor's own documents as raw XML, or JSON; malformed documents name the element;
XML bombs are refused, not expanded."""

from __future__ import annotations

import time

import httpx
import zeep

from portal_tests.reference.conftest import (
    LOGIN,
    PASSWORD,
    PORTFOLIO,
    PROPERTY,
    USER_ID,
    XML,
    fixture_bytes,
    leases,
    parsed,
    residents_request,
)

BASE = f"/_ref/portfolios/{PORTFOLIO}/properties/{PROPERTY}"

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'.encode()
        for i in range(1, 10)
    )
    + b']><PropertyResidents><Lease Name="&lol9;"/></PropertyResidents>'
)


def assert_problem(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    detail: str = body["detail"]
    return detail


class TestPortfolios:
    def test_create_is_201_then_200_and_another_login_is_409(self, ref_admin: httpx.Client) -> None:
        ref_admin.post("/_ref/reset")
        body = {"name": "P1", "user_id": "u", "password": "p"}
        first = ref_admin.post("/_ref/portfolios", json=body)
        assert first.status_code == 201
        assert first.json()["name"] == "P1"
        assert "password" not in first.json()
        assert ref_admin.post("/_ref/portfolios", json=body).status_code == 200
        other = ref_admin.post("/_ref/portfolios", json={**body, "password": "q"})
        assert_problem(other, 409, "conflict")

    def test_unknown_portfolio_is_404(self, ref_admin: httpx.Client) -> None:
        ref_admin.post("/_ref/reset")
        response = ref_admin.put(
            "/_ref/portfolios/nope/properties/001/units",
            content=fixture_bytes("AMSI-GetPropertyUnits.xml"),
            headers=XML,
        )
        assert_problem(response, 404, "not_found")


class TestSeedingFromVendorXml:
    def test_counts_of_what_was_loaded(self, ref_admin: httpx.Client) -> None:
        ref_admin.post("/_ref/reset")
        ref_admin.post(
            "/_ref/portfolios", json={"name": PORTFOLIO, "user_id": USER_ID, "password": PASSWORD}
        )
        units = ref_admin.put(
            f"{BASE}/units", content=fixture_bytes("AMSI-GetPropertyUnits.xml"), headers=XML
        )
        assert units.status_code == 200, units.text
        assert units.json() == {"property_id": "001", "units": 6}
        residents = ref_admin.put(
            f"{BASE}/residents",
            content=fixture_bytes("AMSI-GetPropertyResidents.xml"),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        assert residents.status_code == 200, residents.text
        assert residents.json() == {
            "property_id": "001",
            "leases": 5,
            "occupants": 8,
            "open_items": 5,
            "recurring_charges": 3,
        }

    def test_leases_read_back_with_balances_as_two_decimal_strings(
        self, seeded: httpx.Client
    ) -> None:
        by_key = leases(seeded)
        # ResiID is unique only within a unit (connectors.md §0.6): "4" in two units.
        assert set(by_key) == {
            ("01", "101", "21"),
            ("01", "102", "4"),
            ("02", "201", "4"),
            ("02", "202", "13"),
            ("01", "103", "30"),
        }
        pat = by_key[("01", "101", "21")]
        assert pat["end_balance"] == "1605.00"
        assert pat["status"] == "C"
        assert [o["first_name"] for o in pat["occupants"]] == ["Pat", "Kim"]
        assert by_key[("02", "201", "4")]["end_balance"] == "-1108.00"
        robin = by_key[("02", "202", "13")]
        assert (robin["status"], robin["block_payment_access"]) == ("N", True)
        units = seeded.get(f"{BASE}/units").json()["data"]
        assert units[0]["attributes"]["BldgId"] == "01"
        assert [u["inactive"] for u in units].count(True) == 1

    def test_reseeding_replaces_the_leases(self, seeded: httpx.Client) -> None:
        doc = (
            '<PropertyResidents><Lease PropertyId="001" BldgID="01" UnitID="101" ResiID="22" '
            'EndBalance="10" occustatuscode="C"/></PropertyResidents>'
        )
        response = seeded.put(f"{BASE}/residents", content=doc, headers=XML)
        assert response.status_code == 200, response.text
        assert list(leases(seeded)) == [("01", "101", "22")]

    def test_the_lease_patch_shows_in_get_property_residents(
        self, seeded: httpx.Client, leasing: zeep.Client
    ) -> None:
        patched = seeded.patch(f"{BASE}/leases/01/101/21", json={"block_payment_access": True})
        assert patched.status_code == 200, patched.text
        result = leasing.service.GetPropertyResidents(**LOGIN, XMLData=residents_request("C"))
        lease = parsed(result).find("Lease[@ResiID='21']")
        assert lease is not None
        assert lease.get("BlockPaymentAccess") == "Y"


class TestSeedingFromJson:
    def test_units_and_residents_as_json(self, seeded: httpx.Client, leasing: zeep.Client) -> None:
        units = seeded.put(
            f"{BASE}/units",
            json={"units": [{"BldgId": "09", "UnitId": "901", "address1": "9 Main St"}]},
        )
        assert units.json() == {"property_id": "001", "units": 1}
        residents = seeded.put(
            f"{BASE}/residents",
            json={
                "leases": [
                    {
                        "BldgID": "09",
                        "UnitID": "901",
                        "ResiID": "1",
                        "EndBalance": "1200.50",
                        "occustatuscode": "C",
                        "occupants": [{"OccuFirstName": "Ana", "Email": "ana@example.com"}],
                        "address": {"AddressLine1": "9 Main St", "contacts": [{"Phone": "1"}]},
                    }
                ]
            },
        )
        assert residents.status_code == 200, residents.text
        assert residents.json()["open_items"] == 1
        assert leases(seeded)[("09", "901", "1")]["end_balance"] == "1200.50"
        result = parsed(
            leasing.service.GetPropertyResidents(**LOGIN, XMLData=residents_request("C"))
        )
        lease = result.find("Lease")
        assert lease is not None
        # The balance without items got one item carrying it: EndBalance = sum(BalDue) (§0.7).
        assert lease.get("EndBalance") == "1200.50"
        assert lease.get("PropertyId") == "001"
        assert [i.get("BalDue") for i in lease.findall("OpenItem")] == ["1200.50"]
        assert [c.tag for c in lease] == ["Occupant", "OpenItem", "Address"]

    def test_a_json_error_names_the_member(self, seeded: httpx.Client) -> None:
        response = seeded.put(
            f"{BASE}/residents",
            json={"leases": [{"BldgID": "01", "UnitID": "101", "ResiID": "1", "EndBalance": "x"}]},
        )
        detail = assert_problem(response, 400, "malformed_document")
        assert detail.startswith("leases[0].EndBalance 'x'")


class TestMalformedDocuments:
    def put(self, admin: httpx.Client, kind: str, body: bytes | str) -> str:
        return assert_problem(
            admin.put(f"{BASE}/{kind}", content=body, headers=XML), 400, "malformed_document"
        )

    def test_a_missing_attribute_names_the_element(self, seeded: httpx.Client) -> None:
        text = fixture_bytes("AMSI-GetPropertyResidents.xml").replace(
            b' ResiID="4" Name', b" Name", 1
        )
        assert self.put(seeded, "residents", text) == "Lease[2]@ResiID is missing"
        # Nothing was loaded: the document is refused whole.
        assert len(leases(seeded)) == 5

    def test_other_malformations_name_their_element(self, seeded: httpx.Client) -> None:
        lease = (
            '<PropertyResidents><Lease PropertyId="001" BldgID="01" UnitID="1" ResiID="1" {}>{}'
            "</Lease></PropertyResidents>"
        )
        cases = {
            lease.format('EndBalance="12,5"', ""): "Lease[1]@EndBalance '12,5' is not an amount",
            lease.format('EndBalance="10"', '<OpenItem BalDue="9" ItemDueDate="02/01/2016"/>'): (
                "Lease[1]@EndBalance 10 is not the sum of its open items' BalDue (9)"
            ),
            lease.format("", '<OpenItem BalDue="9" ItemDueDate="2016-02-01"/>'): (
                "Lease[1]/OpenItem[1]@ItemDueDate '2016-02-01' is not m/d/Y"
            ),
            lease.format('occustatuscode="X"', ""): (
                "Lease[1]@occustatuscode 'X' is not one of C, N, F, P"
            ),
            lease.replace('PropertyId="001"', 'PropertyId="002"').format("", ""): (
                "Lease[1]@PropertyId is '002', the path names property '001'"
            ),
            "<PropertyUnits/>": "the root element is <PropertyUnits>, expected <PropertyResidents>",
        }
        for body, expected in cases.items():
            assert self.put(seeded, "residents", body) == expected
        assert self.put(
            seeded, "units", '<PropertyUnits><Unit PropertyId="001" BldgId="01"/></PropertyUnits>'
        ) == ("Unit[1]@UnitId is missing")

    def test_not_xml_is_400_with_the_parser_position(self, seeded: httpx.Client) -> None:
        detail = self.put(seeded, "residents", b"<PropertyResidents><Lease></PropertyResidents>")
        assert detail.startswith("not well-formed XML (mismatched tag: line 1")

    def test_another_media_type_is_415(self, seeded: httpx.Client) -> None:
        response = seeded.put(f"{BASE}/units", content=b"x", headers={"Content-Type": "text/plain"})
        assert_problem(response, 415, "unsupported_media_type")

    def test_billion_laughs_is_refused_at_once(self, seeded: httpx.Client) -> None:
        started = time.monotonic()
        detail = self.put(seeded, "residents", BILLION_LAUGHS)
        assert time.monotonic() - started < 2
        assert detail.startswith("the document has a DTD")
        assert "refused" in detail
        assert len(leases(seeded)) == 5
