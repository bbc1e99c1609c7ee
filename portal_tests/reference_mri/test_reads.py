"""The GET APIs (connectors.md §2.4, §2.5, §2.7) in both formats, and paging (§2.8, §4.7):
following the links to the end loses nothing, in XML and in JSON."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from portal.reference.mri.documents import ENTRY_FIELDS
from portal_tests.reference_mri.conftest import (
    LEASE_DETAILS,
    PENDING,
    PROPERTY,
    RENT_ROLL,
    Mri,
    error_message,
    records,
)


def entry(name_id: str, n: int) -> dict[str, Any]:
    return {
        "ResidentNameID": name_id,
        "PropertyID": "GCNS01",
        "BuildingID": "01",
        "UnitID": f"{n:04d}",
        "LeaseID": "1",
        "FirstName": f"F{n}",
        "LastName": f"L{n}",
        "ResidentStatus": "Current",
        "LeaseBalance": f"{n}.00",
        "IsCurrent": "Y",
        "LastUpdateDate": "2020-02-25T19:46:00",
    }


@pytest.fixture
def big(seeded: httpx.Client) -> httpx.Client:
    """Property GCNS01 with 650 residents, seeded from MRI's JSON."""
    value = [entry(f"{n:010d}", n) for n in range(1, 651)]
    response = seeded.put("/_ref/properties/GCNS01/residents", json={"value": value})
    assert response.status_code == 200, response.text
    assert response.json()["residents"] == 650
    return seeded


def follow(mri: Mri, first: httpx.Response) -> list[str]:
    """Every ``ResidentNameID`` over all pages, re-sending the link's query as RT did (§2.8)."""
    seen: list[str] = []
    response = first
    while True:
        if response.headers["content-type"].startswith("application/json"):
            link = response.json().get("nextLink")
        else:
            link = ET.fromstring(response.content).get("NextPageLink")
        seen.extend(str(r["ResidentNameID"]) for r in records(response))
        if not link:
            return seen
        response = mri.http.get(mri.url, params=dict(parse_qsl(urlsplit(link).query)))


class TestLeaseDetailsShapes:
    def test_xml_root_entries_27_elements_in_order_7_digit_dates_empty_elements(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        response = mri.get(LEASE_DETAILS, RMPROPID=PROPERTY)
        assert response.headers["content-type"] == "application/xml; charset=utf-8"
        assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>\n')
        root = ET.fromstring(response.content)
        assert root.tag == "mri_s-pmrm_residentleasedetailsbypropertyid"
        assert root.get("NextPageLink") is None
        first = root.findall("entry")[0]
        assert [child.tag for child in first] == list(ENTRY_FIELDS)
        assert first.findtext("OccupyDate") == "2008-02-20T00:00:00.0000000"
        assert first.findtext("LeaseBalance") == "8347.00"
        assert "<Address />" in response.text
        assert "<LeaseBalance>-25.50</LeaseBalance>" in response.text

    def test_json_metadata_value_nulls_and_dates_without_a_fraction(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        body = mri.get(LEASE_DETAILS, "json", RMPROPID=PROPERTY).json()
        assert body["odata.metadata"].endswith(
            "api.asp?$api=MRI_S-PMRM_ResidentLeaseDetailsByPropertyID&$metadata"
            "#MRI.mri_s-pmrm_residentleasedetailsbypropertyid-container"
            "/mri_s-pmrm_residentleasedetailsbypropertyid"
        )
        assert "nextLink" not in body
        first = body["value"][0]
        assert list(first) == list(ENTRY_FIELDS)
        assert (first["Address"], first["PayAllowed"], first["BlockEPayments"]) == (
            None,
            None,
            None,
        )
        assert first["OccupyDate"] == "2008-02-20T00:00:00"
        statuses = {
            v["ResidentNameID"]: (v["ResidentStatus"], v["IsCurrent"]) for v in body["value"]
        }
        assert statuses["0000000002"] == ("Old", "N")
        assert statuses["WF00000422"] == ("Co-Resident", "Y")
        assert statuses["0000000006"] == ("New", "Y")

    def test_property_ids_are_case_insensitive(self, big: httpx.Client, mri: Mri) -> None:
        lower = mri.get(LEASE_DETAILS, "json", RMPROPID="gcns01", **{"$top": "1"}).json()
        assert lower["value"][0]["PropertyID"] == "GCNS01"

    def test_an_unknown_property_is_an_error_inside_a_200(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        for fmt in ("xml", "json"):
            assert error_message(mri.get(LEASE_DETAILS, fmt, RMPROPID="999")) == (
                "Property not found: no property '999'"
            )
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert (call["verdict"], call["error_codes"]) == ("rejected", [13])

    def test_extra_fields_of_the_seed_follow_the_27(self, seeded: httpx.Client, mri: Mri) -> None:
        value = [{**entry("0000000467", 1), "Namegroup": "0000000467", "Minor": "False"}]
        seeded.put("/_ref/properties/GCNS01/residents", json={"value": value})
        got = mri.get(LEASE_DETAILS, "json", RMPROPID="GCNS01").json()["value"][0]
        assert list(got)[27:] == ["Namegroup", "Minor"]
        assert got["LastUpdateDate"] == "2020-02-25T19:46:00"


class TestLeaseDetailsFilters:
    def test_last_update_date_is_on_or_after_across_properties(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        got = records(mri.get(LEASE_DETAILS, "json", LastUpdateDate="2016-06-01"))
        assert [r["ResidentNameID"] for r in got] == [
            "0000000001",
            "0000000004",
            "0000000005",
            "0000000006",
        ]

    def test_start_and_end_date_and_with_rmpropid(self, seeded: httpx.Client, mri: Mri) -> None:
        got = records(
            mri.get(LEASE_DETAILS, RMPROPID=PROPERTY, StartDate="2015-01-01", EndDate="2016-05-31")
        )
        assert [r["ResidentNameID"] for r in got] == [
            "0000000091",
            "WF00000422",
            "0000000002",
            "0000000003",
        ]


class TestPaging:
    @pytest.mark.smoke
    @pytest.mark.parametrize("fmt", ["xml", "json"])
    def test_default_page_is_300_and_following_the_links_loses_nothing(
        self, big: httpx.Client, mri: Mri, fmt: str
    ) -> None:
        first = mri.get(LEASE_DETAILS, fmt, RMPROPID="GCNS01")
        assert len(records(first)) == 300
        if fmt == "json":
            link = first.json()["nextLink"]
        else:
            link = ET.fromstring(first.content).get("NextPageLink")
        assert link == (
            f"{mri.url}?%24api={LEASE_DETAILS}&RMPROPID=GCNS01&%24format={fmt}"
            "&%24top=300&%24skip=301"
        )
        seen = follow(mri, first)
        assert seen == [f"{n:010d}" for n in range(1, 651)]
        pages = [c for c in big.get("/_ref/calls").json()["data"] if c["operation"]]
        assert [c["notes"][0] for c in pages[-3:]] == [
            "page 1: 300 of 650 rows",
            "page 2: 300 of 650 rows",
            "page 3: 50 of 650 rows",
        ]

    def test_top_and_skip_and_mh_aliases_without_the_dollar(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        first = mri.get(LEASE_DETAILS, "json", RMPROPID=PROPERTY, **{"$top": "3"})
        assert first.json()["nextLink"].endswith("%24top=3&%24skip=4")
        assert len(follow(mri, first)) == 8
        second = mri.get(LEASE_DETAILS, "json", RMPROPID=PROPERTY, top="3", skip="4")
        assert [r["ResidentNameID"] for r in records(second)] == [
            "0000000002",
            "0000000003",
            "0000000004",
        ]

    def test_the_literal_skip_switch_loses_a_row_per_link(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        seeded.patch("/_ref/settings", json={"skip": "literal", "page_size": 3})
        first = mri.get(LEASE_DETAILS, RMPROPID=PROPERTY)
        seen = follow(mri, first)
        # Rows 4 and 8 (1-based) are skipped by "skip 4", "skip 8": the pessimistic reading.
        assert len(seen) == 6
        assert "0000000002" not in seen


class TestRentRoll:
    @pytest.mark.smoke
    def test_one_entry_per_lease_with_charges_and_residents(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        response = mri.get(RENT_ROLL, PROPERTYID=PROPERTY)
        root = ET.fromstring(response.content)
        assert root.tag == "mri_s-pmrm_residentialrentroll"
        leases = root.findall("entry")
        assert len(leases) == 6
        first = leases[0]
        assert first.findtext("CurrentCharges/entry/ChargeCode") == "RNT"
        assert first.findtext("CurrentCharges/entry/Amount") == "740.00"
        assert first.findtext("CurrentCharges/entry/Frequency") == "M"
        assert first.findtext("CurrentCharges/entry/EffectiveDate") == "2008-02-20T00:00:00.0000000"
        assert [e.findtext("ResidentID") for e in first.findall("Residents/entry")] == [
            "0000000091",
            "WF00000422",
        ]
        old = leases[2]
        assert (old.findtext("UnitID"), old.findtext("IsCurrent")) == ("103", "N")
        assert old.findtext("LeaseMoveOut") == "2015-01-31T00:00:00.0000000"

    def test_building_and_unit_filters_and_json(self, seeded: httpx.Client, mri: Mri) -> None:
        got = records(mri.get(RENT_ROLL, "json", PROPERTYID="500", BUILDINGID="01", UNITID="103"))
        assert [(r["UnitID"], r["LeaseID"]) for r in got] == [("103", "1"), ("103", "2")]
        assert got[1]["CurrentCharges"][0]["Amount"] == "825.00"
        assert got[1]["Residents"] == [{"ResidentID": "0000000003", "ResidentStatus": "Current"}]
        assert records(mri.get(RENT_ROLL, "json", PROPERTYID="500", BUILDINGID="09")) == []

    def test_paged_too(self, seeded: httpx.Client, mri: Mri) -> None:
        first = mri.get(RENT_ROLL, PROPERTYID=PROPERTY, **{"$top": "4"})
        link = ET.fromstring(first.content).get("NextPageLink")
        assert link is not None
        rest = mri.http.get(mri.url, params=dict(parse_qsl(urlsplit(link).query)))
        assert len(records(first)) + len(records(rest)) == 6


class TestPendingMoveIns:
    def test_the_new_residents(self, seeded: httpx.Client, mri: Mri) -> None:
        got = records(mri.get(PENDING, PropertyID=PROPERTY))
        assert [(r["ResidentID"], r["ResidentStatus"]) for r in got] == [("0000000006", "New")]
        assert got[0]["ScheduledMoveInDate"] == "2016-08-01T00:00:00.0000000"
