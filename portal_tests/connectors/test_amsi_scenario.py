"""The AMSI scenario (issue 16 "Scenario"): ``seed_data/amsi-newport.json`` against its eSite
``seed_data/esite/newport.json``; a week of workspace time shows imports, payments, a return
and closed journals on both sides, and ``portal check`` agrees with the eSite's read-back."""

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
from portal_tests.reference.server import ThreadedReferenceServer
from portal_tests.residents.helpers import mailbox
from portal_tests.test_seed_data import workspace_like

SEED_DATA = Path(__file__).resolve().parents[2] / "seed_data"


def _load(client: TestClient, esite: ThreadedReferenceServer, ref: httpx.Client) -> Any:
    assert ref.post("/_ref/reset").status_code == 204
    seeded = ref.post("/_ref/seed", json=json.loads((SEED_DATA / "esite/newport.json").read_text()))
    assert seeded.status_code == 200, seeded.text
    doc = json.loads((SEED_DATA / "amsi-newport.json").read_text())
    # The file points at 127.0.0.1:8100, as the README starts the eSite; this one's port is free.
    doc["integrations"][0]["connection"]["url"] = esite.esite_url
    ws = workspace_like(client, doc)
    loaded = client.post(f"/v1/sandbox/workspaces/{ws['id']}/scenario", json=doc, headers=OPERATOR)
    assert loaded.status_code == 200, loaded.text
    return ws, loaded.json(), doc


def test_a_week_of_the_amsi_scenario_on_both_sides(
    client: TestClient, esite: ThreadedReferenceServer, ref: httpx.Client, engine: Engine
) -> None:
    ws, loaded, _doc = _load(client, esite, ref)
    advanced = client.post(
        f"/v1/sandbox/workspaces/{ws['id']}/clock/advance", json={"by": "P7D"}, headers=OPERATOR
    )
    assert advanced.status_code == 200, advanced.text
    drained(client)
    landlord = ws["landlord"]  # over HTTP the workspace's own landlord (its section is ignored)
    token = login(client, landlord["email"], landlord["password"])
    auth = {"Authorization": f"Bearer {token}"}
    integration_id = loaded["keys"]["esite"]

    runs = client.get(f"/v1/integrations/{integration_id}/imports", headers=auth).json()["data"]
    first = runs[-1]
    assert (first["trigger"], first["status"]) == ("schedule", "completed")
    assert first["counts"]["new"] == 1  # Jordan's lease in 01-104 (ResiID 4 again)
    invited = {m["to"] for m in mailbox(client, _World(ws["id"]), kind="invitation")}
    assert {"alex.sample@example.com", "jordan.reyes@example.com"} <= invited

    deliveries = client.get(f"/v1/integrations/{integration_id}/deliveries", headers=auth).json()[
        "data"
    ]
    assert [(d["operation"], d["state"]) for d in deliveries] == [
        ("AddPayment", "sent"),
        ("AddPayment", "sent"),
        ("AddPayment", "sent"),
        ("UpdateSettlementData", "sent"),
        ("ReturnPayment", "sent"),
        ("UpdateSettlementData", "sent"),
    ]
    batch = deliveries[0]["journal"]
    journals = {
        j["client_jnl_no"]: j
        for j in ref.get("/_ref/portfolios/Newport Portfolio/journals").json()["data"]
    }
    assert journals[batch]["state"] == "settled"
    assert journals[batch]["net"] == "4355.00"
    [returned] = [j for number, j in journals.items() if number != batch]
    assert returned["net"] == "-1300.00"
    assert [r["reason"] for r in returned["returns"]] == ["NSF"]

    with session_scope(engine) as session:
        assert list(check.esite(session, ws["id"])) == []
        assert ledger.run(session, ws["id"]).ok

    # The eSite starts over from its seed: the check reports what the portal sent and is not
    # there any more.
    assert ref.post("/_ref/reset").status_code == 204
    reseeded = ref.post(
        "/_ref/seed", json=json.loads((SEED_DATA / "esite/newport.json").read_text())
    )
    assert reseeded.status_code == 200, reseeded.text
    with session_scope(engine) as session:
        rules = {v.rule for v in check.esite(session, ws["id"])}
    assert rules == {"esite_posted_once", "esite_journal_settled"}


def test_the_check_reports_an_unreachable_esite(
    client: TestClient, esite: ThreadedReferenceServer, ref: httpx.Client, engine: Engine
) -> None:
    ws, loaded, _doc = _load(client, esite, ref)
    with session_scope(engine) as session:
        from portal.auth.models import Integration

        integration = session.get(Integration, (ws["id"], loaded["keys"]["esite"]))
        assert integration is not None
        integration.connection = {**(integration.connection or {}), "url": "http://127.0.0.1:9/x"}
    with session_scope(engine) as session:
        [violation] = check.esite(session, ws["id"])
    assert violation.rule == "esite_unreachable"


class _World:
    def __init__(self, workspace_id: str) -> None:
        self.workspace_id = workspace_id
