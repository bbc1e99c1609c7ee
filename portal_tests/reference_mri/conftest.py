"""Fixtures for the reference MRI's tests: one real server per test module, reset and seeded
from an MRI-shaped ``ResidentLeaseDetailsByPropertyID`` document before each test, driven over
HTTP with httpx both ways a client did: RT (XML, ``%24api``) and MH (JSON, a literal ``$api``)."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portal.core import http
from portal_tests.reference_mri.server import MriReferenceServer, ThreadedMriServer

FIXTURES = Path(__file__).parent / "fixtures"
RESIDENTS_XML = "MRI-ResidentLeaseDetailsByPropertyID-500.xml"
PROPERTY = "500"
CREDENTIAL = {
    "client_id": "C000123",
    "database": "RTDB",
    "user": "RTAPI",
    "partner_key": "0123456789abcdef" * 4,
    "password": "s3cret!",
}
USERNAME = "/".join(CREDENTIAL[k] for k in ("client_id", "database", "user", "partner_key"))
AUTH = (USERNAME, CREDENTIAL["password"])
XML = {"Content-Type": "application/xml"}
LEASE_DETAILS = "MRI_S-PMRM_ResidentLeaseDetailsByPropertyID"
RENT_ROLL = "MRI_S-PMRM_ResidentialRentRoll"
PAYMENTS = "MRI_S-PMRM_PaymentDetailsByPropertyID"
PENDING = "MRI_S-PMRM_PendingMoveIns"
CLOSE_BATCH = "MRI_S-PMRM_CloseBatch"

AnyServer = MriReferenceServer | ThreadedMriServer


def fixture_bytes(name: str = RESIDENTS_XML) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="module")
def mri_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnyServer]:
    """One real server per module: in a thread (measured by coverage), or through the CLI in a
    subprocess with ``PORTAL_REFERENCE_VIA_CLI=1``."""
    server: AnyServer
    if os.environ.get("PORTAL_REFERENCE_VIA_CLI") == "1":
        server = MriReferenceServer(tmp_path_factory.mktemp("reference_mri") / "mri.log")
    else:
        server = ThreadedMriServer()
    with server:
        yield server


@pytest.fixture(scope="module")
def ref_admin(mri_server: AnyServer) -> Iterator[httpx.Client]:
    with http.client(base_url=mri_server.base, timeout=10) as client:
        yield client


class Mri:
    """A client of ``api.asp``: ``get``/``post`` as RT sent them (``%24api``, httpx encodes the
    ``$``), ``raw`` with the query written by hand (MH's literal ``$``)."""

    def __init__(self, server: AnyServer, *, timeout: float = 10) -> None:
        self.url = server.api_url
        self.http = http.client(auth=AUTH, timeout=timeout)

    def get(self, api: str, fmt: str = "xml", **params: Any) -> httpx.Response:
        return self.http.get(self.url, params={"$api": api, "$format": fmt, **params})

    def post(
        self, body: str | dict[str, Any], fmt: str = "xml", *, api: str = PAYMENTS
    ) -> httpx.Response:
        if isinstance(body, dict):
            content, media = json.dumps(body).encode(), "application/json"
        else:
            content, media = body.encode(), "application/xml"
        return self.http.post(
            self.url,
            params={"$api": api, "$format": fmt},
            content=content,
            headers={"Content-Type": media, "Accept": media},
        )

    def raw(self, method: str, query: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, f"{self.url}?{query}", **kwargs)

    def __enter__(self) -> Mri:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def mri(mri_server: AnyServer) -> Iterator[Mri]:
    with Mri(mri_server) as client:
        yield client


def seed(admin: httpx.Client) -> None:
    assert admin.post("/_ref/reset").status_code == 204
    created = admin.post("/_ref/credentials", json=CREDENTIAL)
    assert created.status_code == 201, created.text
    residents = admin.put(
        f"/_ref/properties/{PROPERTY}/residents", content=fixture_bytes(), headers=XML
    )
    assert residents.status_code == 200, residents.text


@pytest.fixture
def seeded(ref_admin: httpx.Client) -> httpx.Client:
    """The server reset to the fixture's world: one login, property 500 and its residents."""
    seed(ref_admin)
    return ref_admin


def payment_xml(**overrides: str | None) -> str:
    """A PaymentDetailsByPropertyID body as RT built it (connectors.md §2.6): ``None`` leaves an
    element out, ``""`` writes it empty."""
    fields: dict[str, str | None] = {
        "SiteID": "@",
        "PaymentType": "C",
        "PaymentAmount": "500.00",
        "CheckNumber": "4567890",
        "ExternalTransactionNumber": "4567890",
        "PaymentInitiationDatetime": "2016-06-24T10:15:00",
        "ResidentNameID": "0000000001",
        "PropertyID": PROPERTY,
        "PartnerName": "RentTrack",
        "ExternalBatchId": "325698",
        "Description": "RT T#4567890 B#325698",
    }
    fields.update(overrides)
    inner = "".join(
        f"<{k}>{v}</{k}>" if v else f"<{k}/>" for k, v in fields.items() if v is not None
    )
    root = "mri_s-pmrm_paymentdetailsbypropertyid"
    return f"<{root}><entry>{inner}</entry></{root}>"


def payment_json(**overrides: Any) -> dict[str, Any]:
    """MH's request (connectors.md §2.6): ``value[0]``; ``None`` leaves a member out."""
    value: dict[str, Any] = {
        "ResidentNameID": "0000000001",
        "PropertyID": PROPERTY,
        "PaymentInitiationDatetime": "2016-06-24",
        "PaymentAmount": "1000.00",
        "PaymentType": "C",
        "CheckNumber": "1232",
        "PartnerName": "MICA",
        "ExternalTransactionNumber": "0000000002",
        "ExternalBatchID": "B1",
        "Description": "Custom Description",
        "BatchDescription": "Custom Description",
        "CheckURL": "http://example.mrisoftware.com/checkImage",
        "DepositDate": "2024-12-12",
        "CashType": "VM",
    }
    value.update(overrides)
    value = {k: v for k, v in value.items() if v is not None}
    return {"odata.metadata": "https://mri.example/api.asp?$api=x", "value": [value]}


def records(response: httpx.Response) -> list[dict[str, Any]]:
    """The answer's records: XML ``entry`` elements as {tag: text or None} (nested ones as
    elements), or JSON ``value``."""
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("application/json"):
        value: list[dict[str, Any]] = response.json()["value"]
        return value
    root = ET.fromstring(response.content)
    return [
        {child.tag: (child if len(child) else child.text) for child in entry}
        for entry in root.findall("entry")
    ]


def error_message(response: httpx.Response) -> str | None:
    """``entry/Error/Message`` or ``value[0].Error.Message`` (connectors.md §2.6)."""
    assert response.status_code == 200, response.text
    if response.headers["content-type"].startswith("application/json"):
        error = response.json()["value"][0].get("Error")
        return None if error is None else str(error["Message"])
    return ET.fromstring(response.content).findtext("entry/Error/Message")


def leases(admin: httpx.Client, property_id: str = PROPERTY) -> dict[str, dict[str, Any]]:
    response = admin.get(f"/_ref/properties/{property_id}/leases")
    assert response.status_code == 200, response.text
    return {
        f"{x['building_id']}|{x['unit_id']}|{x['lease_id']}": x for x in response.json()["data"]
    }


def batches(admin: httpx.Client, property_id: str = PROPERTY) -> dict[str, dict[str, Any]]:
    response = admin.get(f"/_ref/properties/{property_id}/batches")
    assert response.status_code == 200, response.text
    return {b["external_batch_id"]: b for b in response.json()["data"]}


def set_fault(admin: httpx.Client, **spec: Any) -> dict[str, Any]:
    response = admin.post("/_ref/faults", json=spec)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
