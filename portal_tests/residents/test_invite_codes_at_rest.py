"""Invite codes at rest (issue 14, scope 8): the database keeps only a SHA-256 of each code,
as for integration tokens; the code goes out in the invitation e-mail (the mailbox is the
tester's copy of it) and is accepted by its digest. Every path that mints codes is covered:
the landlord's invite, an e-mail added to a waiting resident, balance intake (new residents
and waiting ones whose e-mail arrives) and scenarios."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from portal.core.idempotency import IdempotencyRecord, redact
from portal.residents.models import Resident
from portal_tests.balances.test_router import connect, line, sent
from portal_tests.factories import OPERATOR, bearer, login, make_world
from portal_tests.payments.test_concurrency import THREADS, all_at_once
from portal_tests.residents.helpers import invite, mailbox, make_unit

SEED_DATA = Path(__file__).resolve().parents[2] / "seed_data"
HEX64 = re.compile(r"[0-9a-f]{64}")


def sha256(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def stored_codes(engine: Engine, workspace_id: str) -> dict[str, str]:
    """Resident ID -> what the ``invite_code`` column holds, read straight from the table."""
    with Session(engine) as session:
        rows = session.execute(
            select(col(Resident.id), col(Resident.invite_code)).where(
                col(Resident.workspace_id) == workspace_id,
                col(Resident.invite_code).is_not(None),
            )
        ).all()
    return {rid: code for rid, code in rows if code is not None}


def mailed_codes(client: TestClient, workspace_id: str) -> dict[str, str]:
    """Resident ID -> the code their (latest) invitation e-mail carries."""
    response = client.get(
        f"/v1/sandbox/workspaces/{workspace_id}/mailbox",
        params={"limit": "500", "kind": "invitation"},
        headers=OPERATOR,
    )
    assert response.status_code == 200, response.text
    return {m["data"]["resident_id"]: m["data"]["invite_code"] for m in response.json()["data"]}


def assert_only_digests(engine: Engine, client: TestClient, workspace_id: str) -> dict[str, str]:
    """Every stored value is the digest of the code mailed to that resident; no mailed code
    appears anywhere in the column. Returns the mailed codes."""
    stored = stored_codes(engine, workspace_id)
    mailed = mailed_codes(client, workspace_id)
    assert mailed, "the scenario should invite somebody"
    assert all(HEX64.fullmatch(value) for value in stored.values()), stored
    assert not set(mailed.values()) & set(stored.values())
    for resident_id, code in mailed.items():
        assert stored[resident_id] == sha256(code)
    return mailed


def accept(client: TestClient, code: str) -> Any:
    return client.post(f"/v1/resident/invites/{code}/accept", json={"password": "s3cret-pass"})


class TestLandlordInvitations:
    @pytest.mark.smoke
    def test_the_column_holds_the_digest_and_the_mailed_code_is_accepted(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        invited = invite(client, world, unit["id"])

        mailed = assert_only_digests(engine, client, world.workspace_id)

        response = accept(client, mailed[invited["id"]])
        assert response.status_code == 200, response.text
        assert response.json()["resident_id"] == invited["id"]

    def test_the_mailbox_keeps_the_code_the_resident_types(self, client: TestClient) -> None:
        world = make_world(client)
        invite(client, world, make_unit(client, world)["id"])
        [mail] = mailbox(client, world, kind="invitation")
        assert len(mail["data"]["invite_code"]) == 16
        assert mail["data"]["invite_code"] in mail["body"]

    def test_concurrent_acceptances_of_one_code_accept_once(
        self, client: TestClient, app: FastAPI
    ) -> None:
        world = make_world(client)
        invited = invite(client, world, make_unit(client, world)["id"])
        [code] = mailed_codes(client, world.workspace_id).values()

        def accept_in(own: TestClient) -> httpx.Response:
            return own.post(f"/v1/resident/invites/{code}/accept", json={"password": "pw-123456"})

        responses = all_at_once(app, [accept_in] * THREADS)

        assert Counter(r.status_code for r in responses) == {200: 1, 409: THREADS - 1}
        assert {r.json()["code"] for r in responses if r.status_code == 409} == {
            "invite_already_accepted"
        }
        assert accept(client, code).status_code == 409
        assert [r.json()["resident_id"] for r in responses if r.status_code == 200] == [
            invited["id"]
        ]

    def test_the_digest_itself_is_not_an_invite_code(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        invited = invite(client, world, make_unit(client, world)["id"])
        digest = stored_codes(engine, world.workspace_id)[invited["id"]]

        response = accept(client, digest)

        assert response.status_code == 404, response.text
        assert response.json()["code"] == "invite_not_found"

    def test_an_email_added_to_a_waiting_resident_stores_a_digest(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        waiting = invite(client, world, make_unit(client, world)["id"], email=None)
        assert stored_codes(engine, world.workspace_id) == {}
        patched = client.patch(
            f"/v1/residents/{waiting['id']}",
            json={"email": "late@example.com"},
            headers=world.landlord,
        )
        assert patched.status_code == 200, patched.text

        mailed = assert_only_digests(engine, client, world.workspace_id)

        assert accept(client, mailed[waiting["id"]]).status_code == 200

    def test_reads_and_idempotent_replays_carry_no_code_nor_digest(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        unit = make_unit(client, world)
        body = {
            "name": "Kept Response",
            "email": "kept@example.com",
            "unit_id": unit["id"],
            "rent": "980.00",
            "start_date": "2026-08-01",
        }
        headers = {**world.landlord, "Idempotency-Key": "invite-once"}
        first = client.post("/v1/residents/invite", json=body, headers=headers)
        assert first.status_code == 201, first.text
        digest = stored_codes(engine, world.workspace_id)[first.json()["id"]]
        [code] = mailed_codes(client, world.workspace_id).values()
        replay = client.post("/v1/residents/invite", json=body, headers=headers)
        read = client.get(f"/v1/residents/{first.json()['id']}", headers=world.landlord)
        listed = client.get("/v1/residents", headers=world.landlord)
        with Session(engine) as session:
            kept = [r.body or "" for r in session.scalars(select(IdempotencyRecord))]

        assert replay.headers["Idempotent-Replayed"] == "true"
        for text in (first.text, replay.text, read.text, listed.text, *kept):
            assert code not in text
            assert digest not in text
            assert "invite_code" not in text

    def test_a_kept_response_never_holds_an_invite_code(self) -> None:
        assert redact({"resident": {"invite_code": "abc"}}) == {
            "resident": {"invite_code": "[redacted]"}
        }


class TestBalanceIntake:
    def test_new_residents_get_digests_and_their_codes_are_accepted(
        self, client: TestClient, engine: Engine
    ) -> None:
        c12 = connect(client)
        rows = [line(f"t{n:04d}") for n in range(1, 6)]
        rows.append(line("t0009", email=None))

        result = sent(client, c12, rows)

        assert (result["created"], result["invited"], result["waiting"]) == (6, 5, 1)
        mailed = assert_only_digests(engine, client, c12.world.workspace_id)
        assert len(mailed) == 5
        for code in mailed.values():
            assert accept(client, code).status_code == 200

    def test_a_waiting_resident_whose_email_arrives_gets_a_digest(
        self, client: TestClient, engine: Engine
    ) -> None:
        c12 = connect(client)
        sent(client, c12, [line("t0001", email=None)])
        assert stored_codes(engine, c12.world.workspace_id) == {}

        result = sent(client, c12, [line("t0001", email="arrived@example.com")])

        assert result["invited"] == 1
        [code] = assert_only_digests(engine, client, c12.world.workspace_id).values()
        assert accept(client, code).status_code == 200


class TestScenarios:
    @pytest.mark.parametrize("name", ["oak-street-landlord12.json", "send-balances-roster.json"])
    def test_loaded_worlds_store_digests_only(
        self, client: TestClient, engine: Engine, name: str
    ) -> None:
        doc = json.loads((SEED_DATA / name).read_text())
        section = doc["workspace"]
        world = make_world(
            client,
            seed=section["seed"],
            clock=section["clock"],
            settings=section.get("settings", {}),
        )
        loaded = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/scenario", json=doc, headers=OPERATOR
        )
        assert loaded.status_code == 200, loaded.text

        mailed = assert_only_digests(engine, client, world.workspace_id)
        assert not any(code in loaded.text for code in mailed.values())
        # A scenario's "approved" residents accepted their invitation at load (no code needed);
        # the ones still invited accept with the mailed code.
        landlord = bearer(login(client, world.email, world.password))  # the load moved the clock
        listed = client.get("/v1/residents", params={"limit": "500"}, headers=landlord)
        assert listed.status_code == 200, listed.text
        statuses = {r["id"]: r["status"] for r in listed.json()["data"]}
        still_invited = [rid for rid in mailed if statuses[rid] == "invite"]
        for rid in still_invited:
            response = accept(client, mailed[rid])
            assert response.status_code == 200, response.text
            assert response.json()["resident_id"] == rid
        already = [rid for rid in mailed if statuses[rid] != "invite"]
        for rid in already:
            assert accept(client, mailed[rid]).status_code in (404, 409)
        assert still_invited or already
