"""The MRI scenario (issue 17 "Scenario"): ``seed_data/mri-acklin.json`` against its reference
MRI ``seed_data/mri/acklin.json``; a week of workspace time shows the import (old residents
absent, future ones present), real-time receipts, batches closed at 17:00, the cancel notice
in the mailbox, and ``portal check`` agreeing with MRI's read-back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal.connectors import check
from portal.core.db import session_scope
from portal.payments import check as ledger
from portal_tests.connectors.helpers import drained
from portal_tests.factories import OPERATOR, login
from portal_tests.reference_mri.server import ThreadedMriServer
from portal_tests.test_seed_data import workspace_like

SEED_DATA = Path(__file__).resolve().parents[2] / "seed_data"
PAYMENTS = "MRI_S-PMRM_PaymentDetailsByPropertyID"
CLOSE = "MRI_S-PMRM_CloseBatch"


def seed_mri(admin: httpx.Client) -> None:
    """The reference MRI as ``--seed seed_data/mri/acklin.json`` leaves it, over its admin API
    (``residents_xml`` names a file, which only a file seed may)."""
    seed = json.loads((SEED_DATA / "mri/acklin.json").read_text())
    assert admin.post("/_ref/reset").status_code == 204
    for credential in seed["credentials"]:
        assert admin.post("/_ref/credentials", json=credential).status_code == 201
    for prop in seed["properties"]:
        document = (SEED_DATA / "mri" / prop["residents_xml"]).read_bytes()
        put = admin.put(
            f"/_ref/properties/{prop['property_id']}/residents",
            content=document,
            headers={"Content-Type": "application/xml"},
        )
        assert put.status_code == 200, put.text
    assert admin.patch("/_ref/settings", json=seed["settings"]).status_code == 200


def load(client: TestClient, server: ThreadedMriServer, admin: httpx.Client) -> Any:
    seed_mri(admin)
    doc = json.loads((SEED_DATA / "mri-acklin.json").read_text())
    # The file points at 127.0.0.1:8200, as the README starts MRI; this one's port is free.
    doc["integrations"][0]["connection"]["url"] = server.api_url
    ws = workspace_like(client, doc)
    loaded = client.post(f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR)
    assert loaded.status_code == 200, loaded.text
    drained(client)
    return ws, loaded.json()


def _get(client: TestClient, path: str, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get(path, params={"limit": "500"}, headers=auth)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def test_a_week_of_the_mri_scenario_on_both_sides(
    client: TestClient, mri_server: ThreadedMriServer, mri_ref: httpx.Client, engine: Engine
) -> None:
    ws, loaded = load(client, mri_server, mri_ref)
    advanced = client.post(
        f"/v1/sandbox/workspaces/{ws['id']}/clock/advance", json={"by": "P7D"}, headers=OPERATOR
    )
    assert advanced.status_code == 200, advanced.text
    drained(client)
    landlord = ws["landlord"]
    auth = {"Authorization": f"Bearer {login(client, landlord['email'], landlord['password'])}"}
    integration_id = loaded["keys"]["mri"]

    # The import: current and future residents, never the old one.
    runs = _get(client, f"/v1/integrations/{integration_id}/imports", auth)
    first = runs[-1]
    assert (first["trigger"], first["status"]) == ("schedule", "completed"), first
    mail = _get(client, f"/v1/sandbox/workspaces/{ws['id']}/mailbox", OPERATOR)
    invited = {m["to"] for m in mail if m["kind"] == "invitation"}
    assert {"robin.park@acklin.example", "casey.nguyen@acklin.example"} <= invited
    assert "dana.moss@acklin.example" not in invited
    # The void: a notice to the landlord, and no call to MRI for it.
    [notice] = [m for m in mail if m["kind"] == "connector_notice"]
    assert "Void payment" in notice["subject"]

    deliveries = _get(client, f"/v1/integrations/{integration_id}/deliveries", auth)
    assert {d["state"] for d in deliveries} == {"sent"}, deliveries
    operations = [d["operation"] for d in deliveries]
    assert operations.count(PAYMENTS) == 5  # deposit, Kim's 50.00, two autopays, Pat's debit
    assert operations.count(CLOSE) >= 3

    batches = {
        b["external_batch_id"]: b
        for b in mri_ref.get("/_ref/properties/500/batches").json()["data"]
    }
    assert {b["state"] for b in batches.values()} == {"closed"}
    assert {b["close_reason"] for b in batches.values()} == {"api"}
    deposits = [b for b in batches.values() if b["totals"]["security_deposits"] != "0.00"]
    assert [b["totals"]["security_deposits"] for b in deposits] == ["300.00"]
    receipts = mri_ref.get("/_ref/properties/500/receipts").json()["data"]
    assert sorted(r["amount"] for r in receipts) == sorted(
        ["300.00", "50.00", "1150.00", "980.00", "-1150.00"]
    )

    with session_scope(engine) as session:
        assert list(check.mri(session, ws["id"])) == []
        assert ledger.run(session, ws["id"]).ok

    # MRI starts over from its seed: the check reports what the portal sent and is not there.
    seed_mri(mri_ref)
    with session_scope(engine) as session:
        rules = {v.rule for v in check.mri(session, ws["id"])}
    assert rules == {"mri_posted_once", "mri_batch_closed"}


def test_the_check_reports_an_unreachable_mri(
    client: TestClient, mri_server: ThreadedMriServer, mri_ref: httpx.Client, engine: Engine
) -> None:
    ws, loaded = load(client, mri_server, mri_ref)
    with session_scope(engine) as session:
        from portal.auth.models import Integration

        integration = session.get(Integration, (ws["id"], loaded["keys"]["mri"]))
        assert integration is not None
        integration.connection = {**(integration.connection or {}), "url": "http://127.0.0.1:9/x"}
    with session_scope(engine) as session:
        [violation] = check.mri(session, ws["id"])
    assert violation.rule == "mri_unreachable"
