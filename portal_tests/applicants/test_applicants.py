"""Applications and the applicants feed (issue 8; domain.md §8.5; seed 004 "Retrieve
Applicants"): screening and decisions, denials with adverse-action letters, only approved
applicants in the feed with ``applicant_screening``, typed Applicant / Co-Applicant, frozen
once the client accepts them."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import World, bearer, make_integration, make_token
from portal_tests.payments.helpers import Payer
from portal_tests.residents.helpers import mailbox
from portal_tests.reversals.helpers import et, integrated_payer, move

APPLICANTS = [
    {"name": "Thomas J. Stieffel", "email": "tom@example.com", "monthly_income": "4200.00"},
    {"name": "Ann Stieffel", "email": "ann@example.com", "type": "Co-Applicant"},
]


def apply(client: TestClient, payer: Payer, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/resident/applications",
        json={
            "unit_id": payer.unit_id,
            "desired_move_in": "2026-09-01",
            "applicants": APPLICANTS,
            **body,
        },
        headers=payer.auth,
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def act(client: TestClient, world: World, app_id: str, verb: str, **body: Any) -> Any:
    return client.post(f"/v1/applicants/{app_id}/{verb}", json=body or None, headers=world.landlord)


def approved(client: TestClient, world: World, payer: Payer) -> dict[str, Any]:
    app = apply(client, payer)
    assert act(client, world, app["id"], "screen").status_code == 200
    decided = act(client, world, app["id"], "decision", decision="approve")
    assert decided.status_code == 200, decided.text
    data: dict[str, Any] = decided.json()
    return data


def feed(client: TestClient, auth: dict[str, str], **params: Any) -> Any:
    response = client.get("/v1/integration/applicants", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def setup(client: TestClient) -> tuple[World, Payer, dict[str, str]]:
    world, payer = integrated_payer(client)
    integration = make_integration(client, world, features=["applicant_screening"])
    return world, payer, bearer(make_token(client, world, integration["id"])["token"])


class TestApplying:
    def test_submitted_with_co_applicants_and_the_landlord_is_told(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup

        app = apply(client, payer)

        assert app["status"] == "submitted"
        assert [(a["type"], a["name"]) for a in app["applicants"]] == [
            ("Applicant", "Thomas J. Stieffel"),
            ("Co-Applicant", "Ann Stieffel"),
        ]
        assert app["applicants"][0]["monthly_income"] == "4200.00"
        [mail] = mailbox(client, world, kind="application_received")
        assert mail["to"] == world.email

    @pytest.mark.smoke
    @pytest.mark.parametrize(
        "people",
        [
            [{"name": "A", "email": "a@x.test", "type": "Co-Applicant"}],
            [{"name": "A", "email": "a@x.test"}, {"name": "B", "email": "b@x.test"}],
        ],
    )
    def test_one_applicant_first(
        self,
        client: TestClient,
        setup: tuple[World, Payer, dict[str, str]],
        people: list[dict[str, str]],
    ) -> None:
        _world, payer, _auth = setup

        response = client.post(
            "/v1/resident/applications",
            json={"unit_id": payer.unit_id, "desired_move_in": "2026-09-01", "applicants": people},
            headers=payer.auth,
        )

        assert response.status_code == 422
        assert response.json()["code"] == "invalid_applicants"


class TestDecisions:
    @pytest.mark.smoke
    def test_screening_then_approval_tells_each_applicant(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup

        app = approved(client, world, payer)

        assert app["status"] == "approved"
        mails = mailbox(client, world, kind="application_approved")
        assert sorted(m["to"] for m in mails) == ["ann@example.com", "tom@example.com"]

    def test_a_denial_needs_reasons_and_sends_the_letter(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, auth = setup
        app = apply(client, payer)
        act(client, world, app["id"], "screen")

        bare = act(client, world, app["id"], "decision", decision="deny")
        assert bare.status_code == 422
        assert bare.json()["code"] == "adverse_action_reasons_required"
        denied = act(
            client,
            world,
            app["id"],
            "decision",
            decision="deny",
            reasons=["Insufficient income", "Eviction record"],
        )

        assert denied.status_code == 200, denied.text
        assert (denied.json()["status"], denied.json()["reasons"]) == (
            "denied",
            ["Insufficient income", "Eviction record"],
        )
        letters = mailbox(client, world, kind="adverse_action")
        assert sorted(m["to"] for m in letters) == ["ann@example.com", "tom@example.com"]
        assert all("Insufficient income" in m["body"] for m in letters)
        # Denied applicants never appear in the feed.
        assert feed(client, auth)["data"] == []

    @pytest.mark.parametrize(
        ("steps", "verb", "body"),
        [
            ([], "decision", {"decision": "approve"}),
            (["screen"], "screen", {}),
            (["screen", "approve"], "decision", {"decision": "deny", "reasons": ["x"]}),
        ],
    )
    def test_moves_outside_the_table_are_409(
        self,
        client: TestClient,
        setup: tuple[World, Payer, dict[str, str]],
        steps: list[str],
        verb: str,
        body: dict[str, Any],
    ) -> None:
        world, payer, _auth = setup
        app = apply(client, payer)
        for step in steps:
            if step == "screen":
                act(client, world, app["id"], "screen")
            else:
                act(client, world, app["id"], "decision", decision="approve")

        response = act(client, world, app["id"], verb, **body)

        assert response.status_code == 409
        assert response.json()["code"] == "invalid_transition"


class TestCorrections:
    @pytest.mark.parametrize("field", ["name", "email"])
    def test_a_null_name_or_email_keeps_it(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]], field: str
    ) -> None:
        # A null e-mail was a 500, a null name a 409 from the database (test_schemathesis.py);
        # as for residents, null leaves a field every applicant has as it is.
        world, payer, _auth = setup
        app = apply(client, payer)
        person = app["applicants"][0]

        response = client.patch(
            f"/v1/applicants/{app['id']}/people/{person['id']}",
            json={field: None, "phone": "555-0100"},
            headers=world.landlord,
        )

        assert response.status_code == 200, response.text
        assert response.json()[field] == person[field]
        assert response.json()["phone"] == "555-0100"

    def test_an_email_must_look_like_one(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup
        app = apply(client, payer)
        person = app["applicants"][0]

        response = client.patch(
            f"/v1/applicants/{app['id']}/people/{person['id']}",
            json={"email": "not an address"},
            headers=world.landlord,
        )

        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "$.email"


class TestTheFeed:
    @pytest.mark.smoke
    def test_only_approved_applicants_typed_as_the_client_knows_them(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, auth = setup
        pending = apply(client, payer)
        assert feed(client, auth)["data"] == []
        act(client, world, pending["id"], "screen")
        assert feed(client, auth)["data"] == []

        act(client, world, pending["id"], "decision", decision="approve")

        items = feed(client, auth)["data"]
        assert [(i["type"], i["name"], i["status"], i["accepted"]) for i in items] == [
            ("Applicant", "Thomas J. Stieffel", "approved", False),
            ("Co-Applicant", "Ann Stieffel", "approved", False),
        ]
        assert {i["application_id"] for i in items} == {pending["id"]}
        assert items[1]["primary_applicant_id"] == items[0]["id"]
        assert (items[0]["unit_id"], items[0]["property_id"]) == ("2118", "OAK")
        assert items[0]["monthly_income"] == "4200.00"

    def test_without_the_feature_it_is_403(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, _auth = setup
        approved(client, world, payer)
        plain = make_integration(client, world, name="no features")
        auth = bearer(make_token(client, world, plain["id"])["token"])

        for method, path in (
            ("GET", "/v1/integration/applicants"),
            ("POST", "/v1/integration/applicants/apl_x/accepted"),
        ):
            response = client.request(method, path, headers=auth)
            assert response.status_code == 403, path
            assert response.json()["code"] == "feature_not_enabled"

    def test_integration_tokens_cannot_write_applicants(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, auth = setup
        app = approved(client, world, payer)
        person = app["applicants"][0]["id"]

        for method in ("POST", "PUT", "PATCH", "DELETE"):
            response = client.request(method, "/v1/integration/applicants", headers=auth)
            assert response.status_code == 405, method
        refused = client.patch(
            f"/v1/applicants/{app['id']}/people/{person}", json={"name": "X"}, headers=auth
        )
        assert refused.status_code == 401

    def test_since_returns_only_later_changes(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, auth = setup
        app = approved(client, world, payer)
        last = max(i["last_modified"] for i in feed(client, auth)["data"])
        move(client, world, payer, et("2026-07-07"))

        edited = client.patch(
            f"/v1/applicants/{app['id']}/people/{app['applicants'][1]['id']}",
            json={"phone": "555-0142"},
            headers=world.landlord,
        )
        assert edited.status_code == 200, edited.text

        assert [(i["name"], i["phone"]) for i in feed(client, auth, since=last)["data"]] == [
            ("Ann Stieffel", "555-0142")
        ]

    @pytest.mark.parametrize(
        "since",
        # No offset (was a 500: a naive instant reached the UTC column), and a number
        # (was read as a Unix timestamp).
        ["2026-07-01T00:00:00", "0.5"],
    )
    def test_since_must_be_an_rfc_3339_instant(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]], since: str
    ) -> None:
        _world, _payer, auth = setup

        response = client.get("/v1/integration/applicants", params={"since": since}, headers=auth)

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_datetime"
        assert response.json()["errors"][0]["field"] == "query.since"


class TestAcceptance:
    def test_an_accepted_applicant_never_changes(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        world, payer, auth = setup
        app = approved(client, world, payer)
        primary = app["applicants"][0]["id"]
        before = feed(client, auth)["data"][0]

        accepted = client.post(f"/v1/integration/applicants/{primary}/accepted", headers=auth)
        again = client.post(f"/v1/integration/applicants/{primary}/accepted", headers=auth)

        assert accepted.status_code == again.status_code == 200
        assert accepted.json() == again.json()
        assert accepted.json()["accepted"] is True
        assert {
            k: v
            for k, v in accepted.json().items()
            if k not in ("accepted", "accepted_at", "last_modified")
        } == {
            k: v for k, v in before.items() if k not in ("accepted", "accepted_at", "last_modified")
        }
        move(client, world, payer, et("2026-07-08"))
        for path, body in (
            (f"/v1/applicants/{app['id']}/people/{primary}", {"name": "Tom Stieffel"}),
            (f"/v1/applicants/{app['id']}", {"desired_move_in": "2026-10-01"}),
        ):
            refused = client.patch(path, json=body, headers=world.landlord)
            assert refused.status_code == 409, path
            assert refused.json()["code"] == "applicant_frozen"
        record = next(i for i in feed(client, auth)["data"] if i["id"] == primary)
        assert record == accepted.json()
        # The co-applicant, not accepted, may still be corrected.
        co = app["applicants"][1]["id"]
        ok = client.patch(
            f"/v1/applicants/{app['id']}/people/{co}",
            json={"name": "Ann M. Stieffel"},
            headers=world.landlord,
        )
        assert ok.status_code == 200

    def test_only_an_approved_applicant_can_be_accepted(
        self, client: TestClient, setup: tuple[World, Payer, dict[str, str]]
    ) -> None:
        _world, payer, auth = setup
        app = apply(client, payer)

        response = client.post(
            f"/v1/integration/applicants/{app['applicants'][0]['id']}/accepted", headers=auth
        )

        assert response.status_code == 404
        assert response.json()["code"] == "applicant_not_found"
