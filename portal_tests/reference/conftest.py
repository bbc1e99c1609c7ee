"""Fixtures for the reference eSite's tests: one real server per test module (started with the
CLI), reset and seeded from the vendor's own documents before each test, driven over HTTP with
zeep (SOAP, from the published WSDL) and httpx (the admin API)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
from zeep.transports import Transport

from portal.core import http
from portal_tests.reference.server import ReferenceServer, ThreadedReferenceServer

FIXTURES = Path(__file__).parent / "fixtures"
PORTFOLIO = "Newport Portfolio"
USER_ID = "rentTrackUser"
PASSWORD = "s3cret!"
PROPERTY = "001"
XML = {"Content-Type": "application/xml"}
LOGIN = {"UserID": USER_ID, "Password": PASSWORD, "PortfolioName": PORTFOLIO}


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


AnyServer = ReferenceServer | ThreadedReferenceServer


@pytest.fixture(scope="module")
def amsi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnyServer]:
    """One real server per module: in a thread (measured by coverage), or through the CLI in a
    subprocess with ``PORTAL_REFERENCE_VIA_CLI=1`` (server.py)."""
    server: AnyServer
    if os.environ.get("PORTAL_REFERENCE_VIA_CLI") == "1":
        server = ReferenceServer(tmp_path_factory.mktemp("reference") / "amsi.log")
    else:
        server = ThreadedReferenceServer()
    with server:
        yield server


@pytest.fixture(scope="module")
def ref_admin(amsi_server: AnyServer) -> Iterator[httpx.Client]:
    with http.client(base_url=amsi_server.base, timeout=10) as client:
        yield client


def wsdl_client(server: AnyServer, service: str, **transport: Any) -> zeep.Client:
    return zeep.Client(
        f"{server.esite_url}/{service}.asmx?WSDL",
        transport=Transport(timeout=10, **transport),
    )


@pytest.fixture(scope="module")
def ledger(amsi_server: AnyServer) -> zeep.Client:
    return wsdl_client(amsi_server, "ledger")


@pytest.fixture(scope="module")
def leasing(amsi_server: AnyServer) -> zeep.Client:
    return wsdl_client(amsi_server, "leasing")


def seed(admin: httpx.Client) -> None:
    assert admin.post("/_ref/reset").status_code == 204
    created = admin.post(
        "/_ref/portfolios", json={"name": PORTFOLIO, "user_id": USER_ID, "password": PASSWORD}
    )
    assert created.status_code == 201, created.text
    base = f"/_ref/portfolios/{PORTFOLIO}/properties/{PROPERTY}"
    units = admin.put(
        f"{base}/units", content=fixture_bytes("AMSI-GetPropertyUnits.xml"), headers=XML
    )
    assert units.status_code == 200, units.text
    residents = admin.put(
        f"{base}/residents", content=fixture_bytes("AMSI-GetPropertyResidents.xml"), headers=XML
    )
    assert residents.status_code == 200, residents.text


@pytest.fixture
def seeded(ref_admin: httpx.Client) -> httpx.Client:
    """The server reset to the fixtures' world: portfolio, property 001, its units and leases."""
    seed(ref_admin)
    return ref_admin


def payment_xml(**overrides: str | None) -> str:
    """An AddPayment document as RT built it (connectors.md §1.5): every value an attribute, in
    RT's order; ``None`` leaves an attribute out (RT drops an empty ResiID)."""
    attrs: dict[str, str | None] = {
        "PropertyID": PROPERTY,
        "BldgID": "01",
        "UnitID": "102",
        "ResiID": "4",
        "ClientMerchantID": "24",
        "ClientTransactionID": "4567890",
        "ClientTransactionDate": "06/24/2016",
        "Amount": "500.00",
        "ClientJnlNo": "55558888",
        "Description": "",
        "PaymentType": "P",
        "CheckNo": "",
        "ChargeIncCode": "",
        "ChargeDateFrom": "",
        "ChargeDateThru": "",
    }
    attrs.update(overrides)
    text = " ".join(f'{k}="{v}"' for k, v in attrs.items() if v is not None)
    return f"<Payments><Payment {text}/></Payments>"


def return_xml(
    txn: str = "4567890",
    reason: str = "NSF",
    jnl: str = "55558888",
    description: str = "R01 Insufficient Funds",
) -> str:
    return (
        f"<Payments><Payment><ClientTransactionID>{txn}</ClientTransactionID>"
        f"<Reason>{reason}</Reason><ClientJnlNo>{jnl}</ClientJnlNo>"
        f"<Description>{description}</Description></Payment></Payments>"
    )


def settlement_xml(
    jnl: str = "55558888",
    merchant: str = "24",
    amount: str = "500.00",
    day: str = "06/29/2016",
) -> str:
    return (
        f"<EDEX><ExternalJnlNo>{jnl}</ExternalJnlNo><ClientMerchantId>{merchant}</ClientMerchantId>"
        f"<SettlementAmount>{amount}</SettlementAmount><SettlementDate>{day}</SettlementDate>"
        "<ApprovalCode>RentTrack</ApprovalCode></EDEX>"
    )


def units_request(include_all: str = "1", property_id: str = PROPERTY) -> str:
    return (
        f"<EDEX><propertyid>{property_id}</propertyid>"
        f"<includeallstatuses>{include_all}</includeallstatuses></EDEX>"
    )


def residents_request(status: str = "C", recurring: str = "0", property_id: str = PROPERTY) -> str:
    return (
        f"<EDEX><propertyid>{property_id}</propertyid><leasestatus>{status}</leasestatus>"
        "<includeprimaryaddress>1</includeprimaryaddress>"
        "<includecontactdetails>1</includecontactdetails>"
        f"<includerecurringcharges>{recurring}</includerecurringcharges></EDEX>"
    )


def add_payment(
    ledger: zeep.Client, xml: str | None = None, *, preliminary: int = 0, **login: Any
) -> str:
    result: str = ledger.service.AddPayment(
        **{**LOGIN, **login}, preliminary=preliminary, XMLData=xml or payment_xml()
    )
    return result


def ledger_call(ledger: zeep.Client, operation: str, xml: str, **login: Any) -> str:
    result: str = getattr(ledger.service, operation)(
        **{**LOGIN, **login}, preliminary=0, XMLData=xml
    )
    return result


def parsed(result: str) -> ET.Element:
    """A result string from our own server (trusted), as a tree."""
    return ET.fromstring(result)


def error_code(result: str) -> int:
    """The first ``ErrorCode`` of a Ledger or Leasing answer (0 = success, §1.5)."""
    found = parsed(result).find(".//ErrorCode")
    assert found is not None, result
    return int(found.text or "")


def leases(admin: httpx.Client) -> dict[tuple[str, str, str], dict[str, Any]]:
    response = admin.get(f"/_ref/portfolios/{PORTFOLIO}/properties/{PROPERTY}/leases")
    assert response.status_code == 200, response.text
    return {(x["bldg_id"], x["unit_id"], x["resi_id"]): x for x in response.json()["data"]}


def journals(admin: httpx.Client) -> dict[str, dict[str, Any]]:
    response = admin.get(f"/_ref/portfolios/{PORTFOLIO}/journals")
    assert response.status_code == 200, response.text
    return {j["client_jnl_no"]: j for j in response.json()["data"]}
