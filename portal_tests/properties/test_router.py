"""The HTTP contract of properties, units and deposit accounts (architecture.md §5, §7;
formats.md §4 for routing and account numbers)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from stdnum.us import rtn

from portal_tests.factories import World, make_world

PROBLEM_JSON = "application/problem+json"
START = datetime(2026, 7, 2, 14, 0, tzinfo=UTC)
ROUTING = "110000000"  # the sandbox's test routing number (architecture.md §8)
#: A distinctive account number that must never come back whole.
SECRET_ACCOUNT = "98765432104242424"
NO_ACCOUNTS = {"rent": None, "security_deposit": None, "application_fee": None}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    return body


def with_valid_check_digit(first_eight: str) -> str:
    return first_eight + rtn.calc_check_digit(first_eight)


def post_property(client: TestClient, world: World, **overrides: Any) -> httpx.Response:
    body: dict[str, Any] = {
        "name": "Oak Street",
        "external_id": "OAK",
        "address": {
            "street": "2118 Oak Street",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62704",
        },
    }
    body.update(overrides)
    return client.post("/v1/properties", json=body, headers=world.landlord)


def make_property(client: TestClient, world: World, **overrides: Any) -> dict[str, Any]:
    response = post_property(client, world, **overrides)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def post_unit(client: TestClient, world: World, property_id: str, **body: Any) -> httpx.Response:
    return client.post(f"/v1/properties/{property_id}/units", json=body, headers=world.landlord)


def make_unit(client: TestClient, world: World, property_id: str, **body: Any) -> dict[str, Any]:
    response = post_unit(client, world, property_id, **body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def post_account(client: TestClient, world: World, **overrides: Any) -> httpx.Response:
    body: dict[str, Any] = {
        "type": "rent",
        "account_number": "123456789",
        "routing_number": ROUTING,
        "property_ids": [],
    }
    body.update(overrides)
    return client.post("/v1/deposit-accounts", json=body, headers=world.landlord)


def make_account(client: TestClient, world: World, **overrides: Any) -> dict[str, Any]:
    response = post_account(client, world, **overrides)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def walk_pages(client: TestClient, world: World, path: str, limit: int = 1) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(50):
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = client.get(path, params=params, headers=world.landlord)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["data"]) <= limit
        ids.extend(item["id"] for item in page["data"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("pagination did not end")


# --- properties -------------------------------------------------------------------------------


class TestCreateProperty:
    @pytest.mark.smoke
    def test_returns_the_property_with_no_units_and_no_accounts(self, client: TestClient) -> None:
        world = make_world(client)

        response = post_property(client, world)

        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {
            "id",
            "name",
            "external_id",
            "address",
            "units",
            "deposit_accounts",
            "post_reversals",
            "integration_id",
            "created_at",
        }
        assert body["post_reversals"] is True
        assert body["integration_id"] is None
        assert body["id"].startswith("prop_")
        assert body["name"] == "Oak Street"
        assert body["external_id"] == "OAK"
        assert body["address"] == {
            "street": "2118 Oak Street",
            "city": "Springfield",
            "state": "IL",
            "postal_code": "62704",
        }
        assert body["units"] == []
        assert body["deposit_accounts"] == NO_ACCOUNTS
        assert datetime.fromisoformat(body["created_at"]) == START

    def test_only_the_street_is_required(self, client: TestClient) -> None:
        world = make_world(client)

        body = make_property(client, world, external_id=None, address={"street": "1 Elm"})

        assert body["external_id"] is None
        assert body["address"] == {
            "street": "1 Elm",
            "city": None,
            "state": None,
            "postal_code": None,
        }

    def test_created_at_follows_the_workspace_clock(self, client: TestClient) -> None:
        world = make_world(client, clock={"now": "2027-01-15T09:30:00Z"})

        body = make_property(client, world)

        assert datetime.fromisoformat(body["created_at"]) == datetime(
            2027, 1, 15, 9, 30, tzinfo=UTC
        )

    def test_needs_a_landlord(self, client: TestClient) -> None:
        response = client.post("/v1/properties", json={"name": "x", "address": {"street": "y"}})

        assert_problem(response, 401, "unauthorized")

    def test_unknown_fields_are_refused(self, client: TestClient) -> None:
        world = make_world(client)

        response = post_property(client, world, color="red")

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.color"]


class TestAddressValidation:
    @pytest.mark.parametrize("state", ["IL", "NY", "DC"])
    def test_two_capital_letters_are_a_state(self, client: TestClient, state: str) -> None:
        world = make_world(client)

        body = make_property(client, world, address={"street": "1 Elm", "state": state})

        assert body["address"]["state"] == state

    @pytest.mark.parametrize("state", ["il", "Il", "ILL", "I", "I1", ""])
    def test_anything_else_is_refused(self, client: TestClient, state: str) -> None:
        world = make_world(client)

        response = post_property(client, world, address={"street": "1 Elm", "state": state})

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.address.state"]

    @pytest.mark.parametrize("postal_code", ["62704", "62704-1234", "00501"])
    def test_zip_and_zip_plus_4_are_postal_codes(
        self, client: TestClient, postal_code: str
    ) -> None:
        world = make_world(client)

        body = make_property(client, world, address={"street": "1 Elm", "postal_code": postal_code})

        assert body["address"]["postal_code"] == postal_code

    @pytest.mark.parametrize(
        "postal_code", ["6270", "627045", "627041234", "62704-123", "62704 1234", "abcde", ""]
    )
    def test_other_postal_codes_are_refused(self, client: TestClient, postal_code: str) -> None:
        world = make_world(client)

        response = post_property(
            client, world, address={"street": "1 Elm", "postal_code": postal_code}
        )

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.address.postal_code"]

    def test_the_street_is_required(self, client: TestClient) -> None:
        world = make_world(client)

        response = post_property(client, world, address={"city": "Springfield"})

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.address.street"]


class TestPropertyExternalIdUniqueness:
    def test_a_taken_external_id_is_409_naming_the_other_property(self, client: TestClient) -> None:
        world = make_world(client)
        first = make_property(client, world, name="Oak Street", external_id="OAK")

        response = post_property(client, world, name="Oak Annex", external_id="OAK")

        body = assert_problem(response, 409, "property_external_id_taken")
        assert first["id"] in body["detail"]
        assert "Oak Street" in body["detail"]
        listed = client.get("/v1/properties", headers=world.landlord).json()["data"]
        assert [p["id"] for p in listed] == [first["id"]]

    def test_properties_without_external_id_do_not_clash(self, client: TestClient) -> None:
        world = make_world(client)

        make_property(client, world, external_id=None)
        make_property(client, world, external_id=None)

        assert len(client.get("/v1/properties", headers=world.landlord).json()["data"]) == 2

    def test_another_workspace_may_use_the_same_external_id(self, client: TestClient) -> None:
        a = make_world(client, seed=1)
        b = make_world(client, seed=2)
        make_property(client, a, external_id="OAK")

        response = post_property(client, b, external_id="OAK")

        assert response.status_code == 201, response.text


class TestListProperties:
    def test_lists_by_id_with_units_and_accounts(self, client: TestClient) -> None:
        world = make_world(client)
        props = [make_property(client, world, external_id=f"P{n}") for n in range(3)]
        unit = make_unit(client, world, props[1]["id"], name="101")
        account = make_account(client, world, property_ids=[props[1]["id"]])

        response = client.get("/v1/properties", headers=world.landlord)

        assert response.status_code == 200
        body = response.json()
        assert body["next_cursor"] is None
        assert [p["id"] for p in body["data"]] == sorted(p["id"] for p in props)
        listed = {p["id"]: p for p in body["data"]}
        assert listed[props[1]["id"]]["units"] == [unit]
        assert listed[props[1]["id"]]["deposit_accounts"]["rent"] == account["id"]
        assert listed[props[0]["id"]]["units"] == []
        assert listed[props[0]["id"]]["deposit_accounts"] == NO_ACCOUNTS

    def test_pages_cover_every_property_once(self, client: TestClient) -> None:
        world = make_world(client)
        ids = [make_property(client, world, external_id=f"P{n}")["id"] for n in range(5)]

        assert walk_pages(client, world, "/v1/properties", limit=2) == sorted(ids)

    def test_filter_by_external_id(self, client: TestClient) -> None:
        world = make_world(client)
        make_property(client, world, external_id="OAK")
        elm = make_property(client, world, external_id="ELM")

        found = client.get("/v1/properties", params={"external_id": "ELM"}, headers=world.landlord)
        none = client.get("/v1/properties", params={"external_id": "X"}, headers=world.landlord)

        assert [p["id"] for p in found.json()["data"]] == [elm["id"]]
        assert none.json() == {"data": [], "next_cursor": None}

    def test_a_cursor_this_server_did_not_issue_is_400(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/properties", params={"cursor": "!!"}, headers=world.landlord)

        assert_problem(response, 400, "invalid_cursor")

    def test_limit_above_500_is_422(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/properties", params={"limit": 501}, headers=world.landlord)

        assert_problem(response, 422, "validation_failed")


class TestGetProperty:
    def test_shows_its_units_and_deposit_accounts(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        units = [make_unit(client, world, prop["id"], name=name) for name in ("101", "102")]
        rent = make_account(client, world, type="rent", property_ids=[prop["id"]])
        fees = make_account(client, world, type="application_fee", property_ids=[prop["id"]])

        response = client.get(f"/v1/properties/{prop['id']}", headers=world.landlord)

        assert response.status_code == 200
        body = response.json()
        assert body["units"] == sorted(units, key=lambda u: u["id"])
        assert body["deposit_accounts"] == {
            "rent": rent["id"],
            "security_deposit": None,
            "application_fee": fees["id"],
        }
        assert {k: v for k, v in body.items() if k not in ("units", "deposit_accounts")} == {
            k: v for k, v in prop.items() if k not in ("units", "deposit_accounts")
        }

    def test_unknown_property_is_404(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/properties/prop_nope", headers=world.landlord)

        assert_problem(response, 404, "property_not_found")


# --- units ------------------------------------------------------------------------------------


class TestCreateUnit:
    @pytest.mark.smoke
    def test_returns_the_unit(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)

        response = post_unit(client, world, prop["id"], name="2118", external_id="OAK-2118")

        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {"id", "property_id", "name", "external_id", "created_at"}
        assert body["id"].startswith("unit_")
        assert body["property_id"] == prop["id"]
        assert (body["name"], body["external_id"]) == ("2118", "OAK-2118")
        assert datetime.fromisoformat(body["created_at"]) == START

    def test_external_id_is_optional(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)

        assert make_unit(client, world, prop["id"], name="A")["external_id"] is None

    def test_unknown_property_is_404(self, client: TestClient) -> None:
        world = make_world(client)

        response = post_unit(client, world, "prop_nope", name="A")

        assert_problem(response, 404, "property_not_found")

    def test_a_name_is_required(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)

        response = post_unit(client, world, prop["id"], name="")

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.name"]


class TestUnitUniqueness:
    def test_a_name_taken_in_the_property_is_409(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        first = make_unit(client, world, prop["id"], name="101")

        response = post_unit(client, world, prop["id"], name="101")

        body = assert_problem(response, 409, "unit_name_taken")
        assert first["id"] in body["detail"]

    def test_the_same_name_in_another_property_is_fine(self, client: TestClient) -> None:
        world = make_world(client)
        oak = make_property(client, world, external_id="OAK")
        elm = make_property(client, world, external_id="ELM")
        make_unit(client, world, oak["id"], name="101")

        assert make_unit(client, world, elm["id"], name="101")["property_id"] == elm["id"]

    def test_an_external_id_taken_anywhere_in_the_workspace_is_409(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        oak = make_property(client, world, external_id="OAK")
        elm = make_property(client, world, external_id="ELM")
        first = make_unit(client, world, oak["id"], name="101", external_id="U1")

        response = post_unit(client, world, elm["id"], name="202", external_id="U1")

        body = assert_problem(response, 409, "unit_external_id_taken")
        assert first["id"] in body["detail"]


class TestListAndGetUnits:
    def test_lists_a_propertys_units_by_id_in_pages(self, client: TestClient) -> None:
        world = make_world(client)
        oak = make_property(client, world, external_id="OAK")
        elm = make_property(client, world, external_id="ELM")
        ids = [make_unit(client, world, oak["id"], name=str(n))["id"] for n in range(4)]
        make_unit(client, world, elm["id"], name="elsewhere")

        listed = walk_pages(client, world, f"/v1/properties/{oak['id']}/units", limit=3)

        assert listed == sorted(ids)

    def test_units_of_an_unknown_property_is_404(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/properties/prop_nope/units", headers=world.landlord)

        assert_problem(response, 404, "property_not_found")

    def test_get_unit(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world, make_property(client, world)["id"], name="101")

        response = client.get(f"/v1/units/{unit['id']}", headers=world.landlord)

        assert response.status_code == 200
        assert response.json() == unit

    def test_unknown_unit_is_404(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/units/unit_nope", headers=world.landlord)

        assert_problem(response, 404, "unit_not_found")


# --- deposit accounts -------------------------------------------------------------------------


class TestCreateDepositAccount:
    @pytest.mark.smoke
    def test_returns_the_account_with_the_last_four_digits_only(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)

        response = post_account(
            client,
            world,
            type="security_deposit",
            name="Trust account",
            account_number="000123456789",
            property_ids=[prop["id"]],
        )

        assert response.status_code == 201, response.text
        body = response.json()
        assert set(body) == {
            "id",
            "type",
            "name",
            "account_last4",
            "routing_number",
            "property_ids",
            "created_at",
        }
        assert body["id"].startswith("dacct_")
        assert body["type"] == "security_deposit"
        assert body["name"] == "Trust account"
        assert body["account_last4"] == "6789"
        assert body["routing_number"] == ROUTING
        assert body["property_ids"] == [prop["id"]]
        assert datetime.fromisoformat(body["created_at"]) == START
        served = client.get(f"/v1/properties/{prop['id']}", headers=world.landlord).json()
        assert served["deposit_accounts"]["security_deposit"] == body["id"]

    def test_name_and_properties_may_be_empty(self, client: TestClient) -> None:
        world = make_world(client)

        body = make_account(client, world, property_ids=[])

        assert body["name"] is None
        assert body["property_ids"] == []

    def test_serves_several_properties(self, client: TestClient) -> None:
        world = make_world(client)
        ids = [make_property(client, world, external_id=f"P{n}")["id"] for n in range(3)]

        body = make_account(client, world, property_ids=[ids[2], ids[0], ids[1], ids[0]])

        assert body["property_ids"] == sorted(ids)

    def test_an_unknown_property_is_404_and_nothing_is_created(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)

        response = post_account(client, world, property_ids=[prop["id"], "prop_nope"])

        body = assert_problem(response, 404, "property_not_found")
        assert "prop_nope" in body["detail"]
        listed = client.get("/v1/deposit-accounts", headers=world.landlord).json()
        assert listed["data"] == []

    def test_a_property_with_an_account_of_that_type_is_409(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        existing = make_account(client, world, type="rent", property_ids=[prop["id"]])

        response = post_account(client, world, type="rent", property_ids=[prop["id"]])

        body = assert_problem(response, 409, "deposit_account_type_taken")
        assert prop["id"] in body["detail"]
        assert existing["id"] in body["detail"]

    def test_another_type_for_the_same_property_is_fine(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        make_account(client, world, type="rent", property_ids=[prop["id"]])

        body = make_account(client, world, type="application_fee", property_ids=[prop["id"]])

        assert body["property_ids"] == [prop["id"]]

    def test_an_unknown_type_is_422(self, client: TestClient) -> None:
        world = make_world(client)

        response = post_account(client, world, type="pet_fee")

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.type"]


class TestRoutingNumbers:
    @pytest.mark.parametrize(
        "routing_number", ["110000000", "021000021", "011000015", "111000025", "091000019"]
    )
    def test_valid_routing_numbers_are_accepted(
        self, client: TestClient, routing_number: str
    ) -> None:
        world = make_world(client)

        body = make_account(client, world, routing_number=routing_number)

        assert body["routing_number"] == routing_number

    @pytest.mark.parametrize(
        ("routing_number", "rule"),
        [
            pytest.param("112000025", "check digit", id="checksum-112000025"),
            pytest.param("123456789", "check digit", id="checksum-123456789"),
            pytest.param(with_valid_check_digit("13000000"), "starts with", id="prefix-13"),
            pytest.param(with_valid_check_digit("50123456"), "starts with", id="prefix-50"),
            pytest.param("11000000", "9 digits long", id="8-digits"),
            pytest.param("1100000000", "9 digits long", id="10-digits"),
            pytest.param("11000000A", "only the digits", id="letter"),
            pytest.param("ABCDEFGHI", "only the digits", id="letters"),
            pytest.param("", "9 digits long", id="empty"),
        ],
    )
    def test_invalid_routing_numbers_are_422_naming_the_rule(
        self, client: TestClient, routing_number: str, rule: str
    ) -> None:
        world = make_world(client)

        response = post_account(client, world, routing_number=routing_number)

        body = assert_problem(response, 422, "invalid_routing_number")
        assert [e["field"] for e in body["errors"]] == ["$.routing_number"]
        assert body["errors"][0]["code"] == "invalid_routing_number"
        assert rule in body["errors"][0]["message"]

    def test_prefix_cases_really_have_a_valid_check_digit(self) -> None:
        for first_eight in ("13000000", "50123456"):
            assert rtn.is_valid(with_valid_check_digit(first_eight))

    def test_both_numbers_wrong_is_validation_failed_naming_both(self, client: TestClient) -> None:
        world = make_world(client)

        response = post_account(client, world, routing_number="1", account_number="1")

        body = assert_problem(response, 422, "validation_failed")
        assert sorted(e["field"] for e in body["errors"]) == [
            "$.account_number",
            "$.routing_number",
        ]


class TestAccountNumbers:
    @pytest.mark.parametrize("account_number", ["1234", "12345678901234567"])
    def test_4_to_17_digits_are_accepted(self, client: TestClient, account_number: str) -> None:
        world = make_world(client)

        body = make_account(client, world, account_number=account_number)

        assert body["account_last4"] == account_number[-4:]

    @pytest.mark.parametrize(
        ("account_number", "rule"),
        [
            pytest.param("123", "4 to 17 digits", id="too-short"),
            pytest.param("1" * 18, "4 to 17 digits", id="too-long"),
            pytest.param("12ab5678", "only the digits", id="letters"),
            pytest.param("1234 5678", "only the digits", id="space"),
        ],
    )
    def test_invalid_account_numbers_are_422(
        self, client: TestClient, account_number: str, rule: str
    ) -> None:
        world = make_world(client)

        response = post_account(client, world, account_number=account_number)

        body = assert_problem(response, 422, "invalid_account_number")
        assert [e["field"] for e in body["errors"]] == ["$.account_number"]
        assert rule in body["errors"][0]["message"]
        assert account_number not in response.text

    def test_a_json_number_is_not_an_account_number(self, client: TestClient) -> None:
        world = make_world(client)

        response = post_account(client, world, account_number=123456789)

        body = assert_problem(response, 422, "validation_failed")
        assert [e["field"] for e in body["errors"]] == ["$.account_number"]


class TestAccountNumberIsNeverShown:
    def test_no_response_holds_the_whole_account_number(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        other = make_property(client, world, external_id="ELM")
        created = post_account(
            client, world, account_number=SECRET_ACCOUNT, property_ids=[prop["id"]]
        )
        account_id = created.json()["id"]
        responses = [
            created,
            client.get(f"/v1/deposit-accounts/{account_id}", headers=world.landlord),
            client.get("/v1/deposit-accounts", headers=world.landlord),
            client.put(
                f"/v1/deposit-accounts/{account_id}/properties",
                json={"property_ids": [prop["id"], other["id"]]},
                headers=world.landlord,
            ),
            client.get(f"/v1/properties/{prop['id']}", headers=world.landlord),
            client.get("/v1/properties", headers=world.landlord),
        ]

        for response in responses:
            assert response.status_code in (200, 201), response.text
            assert SECRET_ACCOUNT not in response.text, response.request.url
        assert created.json()["account_last4"] == SECRET_ACCOUNT[-4:]

    @pytest.mark.parametrize("routing_number", ["112000025", "11000000", "11000000A"])
    def test_an_error_about_the_routing_number_does_not_echo_it(
        self, client: TestClient, routing_number: str
    ) -> None:
        world = make_world(client)

        response = post_account(
            client, world, account_number=SECRET_ACCOUNT, routing_number=routing_number
        )

        assert_problem(response, 422, "invalid_routing_number")
        assert SECRET_ACCOUNT not in response.text

    def test_business_errors_do_not_echo_it(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        make_account(client, world, property_ids=[prop["id"]])

        conflict = post_account(
            client, world, account_number=SECRET_ACCOUNT, property_ids=[prop["id"]]
        )
        missing = post_account(
            client, world, account_number=SECRET_ACCOUNT, property_ids=["prop_nope"]
        )

        assert_problem(conflict, 409, "deposit_account_type_taken")
        assert_problem(missing, 404, "property_not_found")
        assert SECRET_ACCOUNT not in conflict.text + missing.text


class TestListAndGetDepositAccounts:
    def test_pages_cover_every_account_once(self, client: TestClient) -> None:
        world = make_world(client)
        ids = [make_account(client, world)["id"] for _ in range(4)]

        assert walk_pages(client, world, "/v1/deposit-accounts", limit=3) == sorted(ids)

    def test_get_shows_the_properties_served(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        account = make_account(client, world, property_ids=[prop["id"]])

        response = client.get(f"/v1/deposit-accounts/{account['id']}", headers=world.landlord)

        assert response.status_code == 200
        assert response.json() == account

    def test_unknown_account_is_404(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/deposit-accounts/dacct_nope", headers=world.landlord)

        assert_problem(response, 404, "deposit_account_not_found")


class TestReplaceServedProperties:
    def put(
        self, client: TestClient, world: World, account_id: str, property_ids: list[str]
    ) -> httpx.Response:
        return client.put(
            f"/v1/deposit-accounts/{account_id}/properties",
            json={"property_ids": property_ids},
            headers=world.landlord,
        )

    def test_replaces_the_list(self, client: TestClient) -> None:
        world = make_world(client)
        oak, elm, ash = (make_property(client, world, external_id=x) for x in ("O", "E", "A"))
        account = make_account(client, world, property_ids=[oak["id"], elm["id"]])

        response = self.put(client, world, account["id"], [elm["id"], ash["id"]])

        assert response.status_code == 200, response.text
        assert response.json()["property_ids"] == sorted([elm["id"], ash["id"]])
        again = client.get(f"/v1/deposit-accounts/{account['id']}", headers=world.landlord)
        assert again.json() == response.json()
        rent_of = {
            p["id"]: p["deposit_accounts"]["rent"]
            for p in client.get("/v1/properties", headers=world.landlord).json()["data"]
        }
        assert rent_of == {oak["id"]: None, elm["id"]: account["id"], ash["id"]: account["id"]}

    def test_an_empty_list_serves_nothing(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        account = make_account(client, world, property_ids=[prop["id"]])

        response = self.put(client, world, account["id"], [])

        assert response.json()["property_ids"] == []
        got = client.get(f"/v1/properties/{prop['id']}", headers=world.landlord).json()
        assert got["deposit_accounts"] == NO_ACCOUNTS

    def test_the_same_list_again_changes_nothing(self, client: TestClient) -> None:
        world = make_world(client)
        prop = make_property(client, world)
        account = make_account(client, world, property_ids=[prop["id"]])

        response = self.put(client, world, account["id"], [prop["id"]])

        assert response.status_code == 200, response.text
        assert response.json() == account

    def test_a_property_served_by_another_account_of_the_type_is_409(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        oak = make_property(client, world, external_id="OAK")
        elm = make_property(client, world, external_id="ELM")
        theirs = make_account(client, world, property_ids=[elm["id"]])
        mine = make_account(client, world, property_ids=[oak["id"]])

        response = self.put(client, world, mine["id"], [oak["id"], elm["id"]])

        body = assert_problem(response, 409, "deposit_account_type_taken")
        assert elm["id"] in body["detail"]
        assert theirs["id"] in body["detail"]
        again = client.get(f"/v1/deposit-accounts/{mine['id']}", headers=world.landlord)
        assert again.json()["property_ids"] == [oak["id"]]

    def test_an_unknown_property_is_404(self, client: TestClient) -> None:
        world = make_world(client)
        account = make_account(client, world)

        response = self.put(client, world, account["id"], ["prop_nope"])

        assert_problem(response, 404, "property_not_found")

    def test_an_unknown_account_is_404(self, client: TestClient) -> None:
        world = make_world(client)

        response = self.put(client, world, "dacct_nope", [])

        assert_problem(response, 404, "deposit_account_not_found")
