"""An AMSI integration's connection to its eSite (issue 16, "Settings per integration of kind
amsi"): set on create and on PATCH, the password write-only and never echoed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import make_world

CONNECTION = {
    "url": "http://127.0.0.1:8100/esite",
    "portfolio": "Newport",
    "user_id": "rt",
    "password": "s3cret-pw",
    "merchant_id": "M-77",
    "property_ids": ["001", "002"],
}


def _create(client: TestClient, world: Any, **body: Any) -> Any:
    return client.post(
        "/v1/integrations", json={"name": "eSite", "kind": "amsi", **body}, headers=world.landlord
    )


@pytest.mark.smoke
def test_a_connection_is_stored_and_read_back_without_its_password(client: TestClient) -> None:
    world = make_world(client)
    created = _create(client, world, connection=CONNECTION)
    assert created.status_code == 201, created.text
    read = client.get(f"/v1/integrations/{created.json()['id']}", headers=world.landlord)
    expected = {k: v for k, v in CONNECTION.items() if k != "password"} | {
        "password_set": True,
        "timeout_seconds": 10,
        "daily_sync": True,
    }
    for body in (created.json(), read.json()):
        assert body["connection"] == expected
        assert "s3cret-pw" not in json.dumps(body)


def test_a_patch_replaces_the_connection_and_keeps_the_password_left_out(
    client: TestClient,
) -> None:
    world = make_world(client)
    integration = _create(client, world, connection=CONNECTION).json()
    new = {k: v for k, v in CONNECTION.items() if k != "password"} | {"property_ids": ["003"]}
    patched = client.patch(
        f"/v1/integrations/{integration['id']}", json={"connection": new}, headers=world.landlord
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["connection"]["property_ids"] == ["003"]
    assert patched.json()["connection"]["password_set"] is True
    removed = client.patch(
        f"/v1/integrations/{integration['id']}", json={"connection": None}, headers=world.landlord
    )
    assert removed.json()["connection"] is None


def test_a_connection_without_a_password_at_first_reads_password_set_false(
    client: TestClient,
) -> None:
    world = make_world(client)
    integration = _create(client, world).json()
    assert integration["connection"] is None
    new = {k: v for k, v in CONNECTION.items() if k != "password"}
    patched = client.patch(
        f"/v1/integrations/{integration['id']}", json={"connection": new}, headers=world.landlord
    )
    assert patched.json()["connection"]["password_set"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "ftp://esite"}, "url"),
        ({"url": ""}, "url"),
        ({"portfolio": ""}, "portfolio"),
        ({"property_ids": ["001", "001"]}, "property_ids"),
        ({"property_ids": [" "]}, "property_ids"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_bad_connection_is_refused_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    world = make_world(client)
    refused = _create(client, world, connection=CONNECTION | change)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert any(field in e["field"] for e in refused.json()["errors"])
    listed = client.get("/v1/integrations", headers=world.landlord).json()["data"]
    assert listed == []


def test_only_a_connected_kind_takes_a_connection(client: TestClient) -> None:
    world = make_world(client)
    refused = client.post(
        "/v1/integrations",
        json={"name": "L12", "kind": "landlord12", "connection": CONNECTION},
        headers=world.landlord,
    )
    assert refused.status_code == 422, refused.text
    l12 = client.post(
        "/v1/integrations", json={"name": "L12", "kind": "landlord12"}, headers=world.landlord
    ).json()
    patched = client.patch(
        f"/v1/integrations/{l12['id']}", json={"connection": CONNECTION}, headers=world.landlord
    )
    assert patched.status_code == 422, patched.text
    assert patched.json()["errors"][0]["field"] == "connection"
    assert (
        client.get(f"/v1/integrations/{l12['id']}", headers=world.landlord).json()["connection"]
        is None
    )


# --- MRI (issue 17 "Settings per integration of kind mri") ------------------------------------

MRI_CONNECTION = {
    "url": "http://127.0.0.1:8200/mriapiservices/api.asp",
    "client_id": "C000123",
    "database": "RTDB",
    "user": "RTAPI",
    "partner_key": "0123456789abcdef" * 4,
    "password": "mri-s3cret",
    "property_ids": ["500"],
    "close_batches": True,
    "end_of_day": "17:00",
}


def _create_mri(client: TestClient, world: Any, **body: Any) -> Any:
    return client.post(
        "/v1/integrations", json={"name": "MRI", "kind": "mri", **body}, headers=world.landlord
    )


def test_an_mri_connection_is_stored_with_its_defaults_and_never_echoes_the_password(
    client: TestClient,
) -> None:
    world = make_world(client)
    created = _create_mri(client, world, connection=MRI_CONNECTION)
    assert created.status_code == 201, created.text
    read = client.get(f"/v1/integrations/{created.json()['id']}", headers=world.landlord)
    for body in (created.json(), read.json()):
        connection = body["connection"]
        assert {k: connection[k] for k in MRI_CONNECTION if k != "password"} == {
            k: v for k, v in MRI_CONNECTION.items() if k != "password"
        }
        assert connection["password_set"] is True
        assert (connection["format"], connection["site_id"]) == ("xml", "@")
        assert "mri-s3cret" not in json.dumps(body)
    # close_batches and end_of_day default to seed 002's: on, 17:00.
    minimal = {k: v for k, v in MRI_CONNECTION.items() if k not in ("close_batches", "end_of_day")}
    other = _create_mri(client, world, connection=minimal).json()["connection"]
    assert (other["close_batches"], other["end_of_day"]) == (True, "17:00")


def test_an_mri_patch_keeps_the_password_left_out(client: TestClient) -> None:
    world = make_world(client)
    integration = _create_mri(client, world, connection=MRI_CONNECTION).json()
    new = {k: v for k, v in MRI_CONNECTION.items() if k != "password"} | {"close_batches": False}
    patched = client.patch(
        f"/v1/integrations/{integration['id']}", json={"connection": new}, headers=world.landlord
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["connection"]["close_batches"] is False
    assert patched.json()["connection"]["password_set"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"client_id": "C0/1"}, "client_id"),  # "/" splits MRI's four-part user name
        ({"user": "rt:api"}, "user"),  # ":" ends Basic's user name
        ({"partner_key": ""}, "partner_key"),
        ({"end_of_day": "5pm"}, "end_of_day"),
        ({"end_of_day": "24:00"}, "end_of_day"),
        ({"format": "csv"}, "format"),
        ({"portfolio": "x"}, "portfolio"),
    ],
)
def test_a_bad_mri_connection_is_refused_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    world = make_world(client)
    refused = _create_mri(client, world, connection=MRI_CONNECTION | change)
    assert refused.status_code == 422, refused.text
    assert any(field in e["field"] for e in refused.json()["errors"]), refused.json()
    assert client.get("/v1/integrations", headers=world.landlord).json()["data"] == []


def test_each_kind_takes_its_own_connection(client: TestClient) -> None:
    world = make_world(client)
    amsi_on_mri = _create_mri(client, world, connection=CONNECTION)
    assert amsi_on_mri.status_code == 422, amsi_on_mri.text
    assert "mri connection" in amsi_on_mri.json()["detail"] + json.dumps(
        amsi_on_mri.json()["errors"]
    )
    mri_on_amsi = _create(client, world, connection=MRI_CONNECTION)
    assert mri_on_amsi.status_code == 422, mri_on_amsi.text
    amsi = _create(client, world, connection=CONNECTION).json()
    patched = client.patch(
        f"/v1/integrations/{amsi['id']}",
        json={"connection": {k: v for k, v in MRI_CONNECTION.items() if k != "password"}},
        headers=world.landlord,
    )
    assert patched.status_code == 422, patched.text
    assert patched.json()["errors"][0]["field"] == "connection"
    kept = client.get(f"/v1/integrations/{amsi['id']}", headers=world.landlord).json()
    assert kept["connection"]["portfolio"] == CONNECTION["portfolio"]
