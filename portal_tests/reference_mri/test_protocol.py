"""``api.asp`` as a protocol (connectors.md §2.1-§2.3; the §3.3 table's rows 1 and 2): Basic auth
with the four-part user name, both spellings of ``$api``, ``$format``, the method, the path."""

from __future__ import annotations

import base64

import httpx
import pytest

from portal_tests.reference_mri.conftest import (
    AUTH,
    CREDENTIAL,
    LEASE_DETAILS,
    PAYMENTS,
    PROPERTY,
    AnyServer,
    Mri,
    payment_xml,
    records,
)


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


class TestAuth:
    @pytest.mark.parametrize(
        ("headers", "message"),
        [
            ({}, "Basic authentication is required"),
            ({"Authorization": "Bearer abc"}, "Basic authentication is required"),
            ({"Authorization": "Basic %%%"}, "not Basic"),
            (basic("RTAPI", CREDENTIAL["password"]), "ClientID/Database/User/PartnerKey"),
            (basic("C000123/RTDB//key", CREDENTIAL["password"]), "ClientID/Database/User"),
            (basic(AUTH[0], "wrong"), "invalid credentials"),
            (basic(AUTH[0].replace("RTDB", "rtdb"), AUTH[1]), "invalid credentials"),
        ],
    )
    def test_1_bad_auth_is_401_with_a_json_or_xml_body(
        self, seeded: httpx.Client, mri_server: AnyServer, headers: dict[str, str], message: str
    ) -> None:
        for fmt in ("json", "xml"):
            response = httpx.get(
                mri_server.api_url,
                params={"$api": LEASE_DETAILS, "$format": fmt, "RMPROPID": PROPERTY},
                headers=headers,
            )
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == 'Basic realm="MRI"'
            if fmt == "json":
                assert response.json()["error"] == "Unauthorized"
                assert message in response.json()["message"]
            else:
                assert response.text.startswith('<?xml version="1.0" encoding="utf-8"?>')
                assert "<Code>401</Code>" in response.text
                assert message in response.text
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert (call["verdict"], call["http_status"]) == ("unauthorized", 401)
        assert "s3cret" not in str(call)
        assert CREDENTIAL["partner_key"] not in str(call)

    def test_a_post_with_bad_auth_posts_nothing(
        self, seeded: httpx.Client, mri_server: AnyServer
    ) -> None:
        response = httpx.post(
            mri_server.api_url,
            params={"$api": PAYMENTS, "$format": "xml"},
            content=payment_xml(),
            headers={**basic(AUTH[0], "wrong"), "Content-Type": "application/xml"},
        )
        assert response.status_code == 401
        assert seeded.get(f"/_ref/properties/{PROPERTY}/receipts").json()["data"] == []

    def test_the_journal_masks_the_partner_key(self, seeded: httpx.Client, mri: Mri) -> None:
        mri.get(LEASE_DETAILS, RMPROPID=PROPERTY)
        call = seeded.get("/_ref/calls").json()["data"][-1]
        assert call["payload"]["user"] == "C000123/RTDB/RTAPI/***"


class TestApiAndFormat:
    @pytest.mark.parametrize(
        ("query", "message"),
        [
            (f"$api=MRI_S-PMRM_Nope&$format=xml&RMPROPID={PROPERTY}", "unknown $api"),
            (f"$format=xml&RMPROPID={PROPERTY}", "$api is missing"),
            (f"$api={LEASE_DETAILS}&RMPROPID={PROPERTY}", "$format must be xml or json"),
            (f"$api={LEASE_DETAILS}&$format=csv&RMPROPID={PROPERTY}", "$format must be"),
            (f"$api={LEASE_DETAILS}&$format=xml", "RMPROPID is required"),
            (f"$api={LEASE_DETAILS}&$format=xml&StartDate=2016-01-01", "go together"),
            (f"$api={LEASE_DETAILS}&$format=xml&LastUpdateDate=06-01-2016", "yyyy-mm-dd"),
            (f"$api={LEASE_DETAILS}&$format=xml&RMPROPID=500&$top=0", "$top '0'"),
            (f"$api={LEASE_DETAILS}&$format=xml&RMPROPID=500&$skip=-1", "$skip '-1'"),
            ("$api=MRI_S-PMRM_ResidentialRentRoll&$format=json", "PROPERTYID is required"),
        ],
    )
    def test_2_unknown_api_missing_format_or_parameter_is_400(
        self, seeded: httpx.Client, mri: Mri, query: str, message: str
    ) -> None:
        response = mri.raw("GET", query)
        assert response.status_code == 400, response.text
        assert message in response.text
        assert seeded.get("/_ref/calls").json()["data"][-1]["verdict"] == "bad_request"

    def test_the_wrong_method_is_405(self, seeded: httpx.Client, mri: Mri) -> None:
        assert mri.raw("GET", f"$api={PAYMENTS}&$format=xml").status_code == 405
        post = mri.raw("POST", f"$api={LEASE_DETAILS}&$format=json&RMPROPID=500", content=b"")
        assert post.status_code == 405
        assert post.json()["message"] == f"{LEASE_DETAILS} takes GET"

    def test_both_spellings_of_the_dollar_and_any_case_of_the_api_name(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        rt = mri.raw("GET", f"%24api={LEASE_DETAILS}&%24format=xml&RMPROPID={PROPERTY}")
        mh = mri.raw("GET", f"$api={LEASE_DETAILS}&$format=json&RMPROPID={PROPERTY}")
        lower = mri.raw("GET", f"$api={LEASE_DETAILS.lower()}&$format=XML&rmpropid={PROPERTY}")
        assert len(records(rt)) == len(records(mh)) == len(records(lower)) == 8

    def test_any_path_ending_in_api_asp_other_paths_404(
        self, seeded: httpx.Client, mri_server: AnyServer
    ) -> None:
        query = {"$api": LEASE_DETAILS, "$format": "json", "RMPROPID": PROPERTY}
        short = httpx.get(f"{mri_server.base}/API.ASP", params=query, auth=AUTH)
        assert len(records(short)) == 8
        other = httpx.get(f"{mri_server.base}/mriapiservices/other.asp", params=query, auth=AUTH)
        assert other.status_code == 404
        assert other.json()["code"] == "not_found"

    def test_a_body_over_1_mib_is_413(self, seeded: httpx.Client, mri: Mri) -> None:
        response = mri.post("<a>" + "x" * (1024 * 1024) + "</a>")
        assert response.status_code == 413
