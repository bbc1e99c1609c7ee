"""An integration's settings after creation (issue 15 item 5; seed 004 "Processing Options" and
"Enabled Features"): ``PATCH /v1/integrations/{id}``, the sixth processing option, the
sentence a disabled feature answers with, and the token sequence's one home."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from portal.auth import service
from portal.auth.models import Feature
from portal_tests.auth.test_router import ALL_OPTIONS_OFF, assert_problem, assert_unauthorized
from portal_tests.auth.test_service import issue
from portal_tests.auth.test_service import make_integration as make_integration_row
from portal_tests.factories import (
    OPERATOR,
    World,
    bearer,
    make_integration,
    make_token,
    make_world,
)


def patch(client: TestClient, world: World, integration_id: str, **body: Any) -> Any:
    return client.patch(f"/v1/integrations/{integration_id}", json=body, headers=world.landlord)


def patched(client: TestClient, world: World, integration_id: str, **body: Any) -> dict[str, Any]:
    response = patch(client, world, integration_id, **body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def fetched(client: TestClient, world: World, integration_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/integrations/{integration_id}", headers=world.landlord)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


class TestSixthOption:
    def test_send_balances_automatically_is_accepted_stored_and_reported(
        self, client: TestClient
    ) -> None:
        world = make_world(client)

        created = make_integration(
            client, world, processing_options={"send_balances_automatically": True}
        )

        wanted = {**ALL_OPTIONS_OFF, "send_balances_automatically": True}
        assert created["processing_options"] == wanted
        assert fetched(client, world, created["id"])["processing_options"] == wanted

    def test_it_is_not_the_background_data_option(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(client, world, processing_options={"send_in_background": True})

        options = patched(
            client, world, created["id"], processing_options={"send_balances_automatically": True}
        )["processing_options"]

        assert options["send_in_background"] is True
        assert options["send_balances_automatically"] is True
        options = patched(
            client, world, created["id"], processing_options={"send_in_background": False}
        )["processing_options"]
        assert (options["send_in_background"], options["send_balances_automatically"]) == (
            False,
            True,
        )


class TestUpdateIntegration:
    def test_changes_only_the_options_sent(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(client, world, processing_options={"sync_daily": True})

        body = patched(
            client, world, created["id"], processing_options={"send_after_deposit_slip": True}
        )

        wanted = {**ALL_OPTIONS_OFF, "sync_daily": True, "send_after_deposit_slip": True}
        assert body["processing_options"] == wanted
        assert fetched(client, world, created["id"])["processing_options"] == wanted
        listed = client.get("/v1/integrations", headers=world.landlord).json()["data"]
        assert [i["processing_options"] for i in listed] == [wanted]

    def test_every_option_can_be_turned_on_and_off(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(client, world)

        for option in ALL_OPTIONS_OFF:
            on = patched(client, world, created["id"], processing_options={option: True})
            assert on["processing_options"] == {**ALL_OPTIONS_OFF, option: True}, option
            off = patched(client, world, created["id"], processing_options={option: False})
            assert off["processing_options"] == ALL_OPTIONS_OFF, option

    def test_features_are_replaced_by_the_list_sent(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(client, world, features=["document_portal"])

        body = patched(
            client,
            world,
            created["id"],
            features=["maintenance_coordination", "applicant_screening", "applicant_screening"],
        )

        assert body["features"] == ["applicant_screening", "maintenance_coordination"]
        assert fetched(client, world, created["id"])["features"] == body["features"]
        assert patched(client, world, created["id"], features=[])["features"] == []

    def test_name_flavor_and_lockbox_format_change(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(client, world, lockbox_format="promas")

        body = patched(
            client, world, created["id"], name="Promas office", flavor="inosio", lockbox_format=None
        )

        assert (body["name"], body["flavor"], body["lockbox_format"]) == (
            "Promas office",
            "inosio",
            None,
        )
        again = patched(client, world, created["id"], lockbox_format="bostonpost")
        assert again["lockbox_format"] == "bostonpost"

    def test_left_out_or_null_keeps_the_value(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(
            client,
            world,
            features=["applicant_screening"],
            processing_options={"sync_daily": True},
            lockbox_format="promas",
        )

        body = patched(
            client, world, created["id"], name=None, features=None, processing_options=None
        )
        empty = patched(client, world, created["id"])

        for read in (body, empty):
            assert read["name"] == created["name"]
            assert read["features"] == ["applicant_screening"]
            assert read["processing_options"] == created["processing_options"]
            assert read["lockbox_format"] == "promas"

    def test_the_read_carries_the_active_token(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(client, world)
        token = make_token(client, world, created["id"])

        body = patched(client, world, created["id"], name="Renamed")

        assert body["active_token"]["id"] == token["id"]

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"features": ["teleportation"]}, "$.features[0]"),
            ({"processing_options": {"turbo": True}}, "$.processing_options.turbo"),
            ({"processing_options": {"sync_daily": None}}, "$.processing_options.sync_daily"),
            ({"processing_options": {"sync_daily": "often"}}, "$.processing_options.sync_daily"),
            ({"name": ""}, "$.name"),
            ({"flavor": "yardi"}, "$.flavor"),
            ({"lockbox_format": "csv"}, "$.lockbox_format"),
            ({"kind": "amsi"}, "$.kind"),
            ({"colour": "blue"}, "$.colour"),
        ],
    )
    def test_validated_as_at_creation_and_nothing_changes(
        self, client: TestClient, body: dict[str, Any], field: str
    ) -> None:
        world = make_world(client)
        created = make_integration(client, world, processing_options={"sync_daily": True})

        response = patch(client, world, created["id"], **body)

        problem = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in problem["errors"]] == [field]
        after = fetched(client, world, created["id"])
        assert {k: after[k] for k in ("name", "kind", "features", "processing_options")} == {
            k: created[k] for k in ("name", "kind", "features", "processing_options")
        }

    def test_unknown_integration_is_404(self, client: TestClient) -> None:
        world = make_world(client)

        response = patch(client, world, "int_nope", name="x")

        assert_problem(response, 404, "integration_not_found")

    def test_another_workspaces_integration_is_404(self, client: TestClient) -> None:
        world = make_world(client)
        other = make_world(client, name="Other workspace")
        theirs = make_integration(client, other)

        response = patch(client, world, theirs["id"], name="mine now")

        assert_problem(response, 404, "integration_not_found")
        assert fetched(client, other, theirs["id"])["name"] == theirs["name"]

    def test_needs_a_landlord(self, client: TestClient) -> None:
        world = make_world(client)
        created = make_integration(client, world)
        token = make_token(client, world, created["id"])["token"]
        path = f"/v1/integrations/{created['id']}"

        assert_unauthorized(client.patch(path, json={"name": "x"}), "unauthorized")
        assert_unauthorized(
            client.patch(path, json={"name": "x"}, headers=bearer(token)), "token_invalid"
        )
        assert_unauthorized(
            client.patch(path, json={"name": "x"}, headers=OPERATOR), "token_invalid"
        )


FEED_ROUTES = [
    ("GET", "/v1/integration/applicants", Feature.APPLICANT_SCREENING, "Retrieve Applicants"),
    (
        "POST",
        "/v1/integration/applicants/apl_x/accepted",
        Feature.APPLICANT_SCREENING,
        "Accepting applicants",
    ),
    (
        "GET",
        "/v1/integration/work-orders",
        Feature.MAINTENANCE_COORDINATION,
        "Retrieve Work Orders",
    ),
]


class TestFeatureRefusals:
    @pytest.mark.parametrize(("method", "path", "feature", "what"), FEED_ROUTES)
    def test_a_disabled_feature_answers_a_sentence(
        self, client: TestClient, method: str, path: str, feature: Feature, what: str
    ) -> None:
        world = make_world(client)
        created = make_integration(client, world)
        auth = bearer(make_token(client, world, created["id"])["token"])

        response = client.request(method, path, headers=auth)

        body = assert_problem(response, 403, "feature_not_enabled")
        label = feature.value.replace("_", " ")
        assert body["detail"].startswith(
            f"{what}: the {label} feature is not enabled for this integration."
        )
        assert "Feature." not in body["detail"]
        assert "<" not in body["detail"]
        assert body["feature"] == feature.value

    @pytest.mark.parametrize(("method", "path", "feature", "what"), FEED_ROUTES)
    def test_enabling_it_by_patch_opens_the_feed_to_the_same_token(
        self, client: TestClient, method: str, path: str, feature: Feature, what: str
    ) -> None:
        world = make_world(client)
        created = make_integration(client, world)
        auth = bearer(make_token(client, world, created["id"])["token"])

        patched(client, world, created["id"], features=[feature.value])
        opened = client.request(method, path, headers=auth)
        patched(client, world, created["id"], features=[])
        closed = client.request(method, path, headers=auth)

        # The accept route needs an applicant: past the feature check it is the 404 of its own.
        assert opened.status_code in (200, 404), opened.text
        assert opened.json().get("code") != "feature_not_enabled"
        assert_problem(closed, 403, "feature_not_enabled")

    @pytest.mark.parametrize(
        ("feature", "sentence"),
        [
            (
                Feature.APPLICANT_SCREENING,
                "the applicant screening feature is not enabled for this integration",
            ),
            (
                Feature.DOCUMENT_PORTAL,
                "the document portal feature is not enabled for this integration",
            ),
            (
                Feature.MAINTENANCE_COORDINATION,
                "the maintenance coordination feature is not enabled for this integration",
            ),
        ],
    )
    def test_every_feature_has_its_sentence(self, feature: Feature, sentence: str) -> None:
        with pytest.raises(service.FeatureNotEnabled) as refused:
            service.require_feature([], feature, "This call")

        assert refused.value.detail.startswith(f"This call: {sentence}.")
        assert refused.value.extra == {"feature": feature.value}
        service.require_feature([feature.value], feature, "This call")


class TestTokenSequence:
    @pytest.mark.smoke
    def test_numbers_follow_issue_order_from_one(self, session: Session) -> None:
        integration = make_integration_row(session, "ws_seq")

        assert service.next_token_seq(session, integration) == 1
        numbers = [issue(session, integration, integration.created_at)[0].seq for _ in range(3)]
        assert numbers == [1, 2, 3]
        assert service.next_token_seq(session, integration) == 4

    def test_numbers_are_per_integration(self, session: Session) -> None:
        first = make_integration_row(session, "ws_seq_a")
        second = make_integration_row(session, "ws_seq_b", seed=8)
        issue(session, first, first.created_at)
        issue(session, first, first.created_at)

        assert issue(session, second, second.created_at)[0].seq == 1

    def test_revoking_never_frees_a_number(self, session: Session) -> None:
        integration = make_integration_row(session, "ws_seq_r")
        row, _token = issue(session, integration, integration.created_at)
        service.revoke_token(session, integration, row.id, now=integration.created_at)

        assert issue(session, integration, integration.created_at)[0].seq == 2

    def test_a_scenarios_token_and_the_landlords_share_one_sequence(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        loaded = client.post(
            f"/v1/sandbox/workspaces/{world.workspace_id}/scenario",
            json={
                "scenario": "token sequence",
                "integrations": [
                    {"key": "l12", "name": "Landlord 12", "kind": "landlord12", "issue_token": True}
                ],
            },
            headers=OPERATOR,
        )
        assert loaded.status_code == 200, loaded.text
        integration_id = loaded.json()["keys"]["l12"]

        issued = [make_token(client, world, integration_id)["id"] for _ in range(2)]
        listed = client.get(
            f"/v1/integrations/{integration_id}/tokens", headers=world.landlord
        ).json()["data"]

        # The clock stood still: only the one sequence orders the three tokens.
        assert len({t["created_at"] for t in listed}) == 1
        assert [t["id"] for t in listed][1:] == issued
        assert [t["active"] for t in listed] == [False, False, True]
