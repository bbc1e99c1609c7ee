"""Residents' payment sources over HTTP: bank accounts and cards, their checks, what is kept of
them (brand, last 4, expiry; never the full number) and whose they are (issue 5, domain.md
§4.1, architecture.md §8 and §11)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import (
    ROUTING,
    Payer,
    add_account,
    add_bank,
    add_card,
    make_payer,
    pay,
    post_payment,
)
from portal_tests.residents.helpers import make_unit

PROBLEM_JSON = "application/problem+json"
SOURCES = "/v1/resident/payment-sources"
#: Distinctive numbers, so that finding one of them anywhere cannot be a coincidence.
ACCOUNT_NUMBER = "31415926535"
CARD_NUMBER = "4111111111111111"
AMEX_NUMBER = "378282246310005"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    return body


def add_source(client: TestClient, payer: Payer, **body: Any) -> httpx.Response:
    return client.post(SOURCES, json=body, headers=payer.auth)


def card(number: str, exp_month: int = 12, exp_year: int = 2030, **extra: Any) -> dict[str, Any]:
    return {"type": "card", "number": number, "exp_month": exp_month, "exp_year": exp_year, **extra}


def bank(account_number: str, routing_number: str = ROUTING) -> dict[str, Any]:
    return {
        "type": "bank_account",
        "routing_number": routing_number,
        "account_number": account_number,
    }


def other_payer(client: TestClient, world: World, email: str = "karyl@example.com") -> Payer:
    """A second resident of the workspace, on a unit of another property."""
    unit = make_unit(client, world, prop_external="ELM", unit_external="12", unit_name="12")
    add_account(client, world, unit["property_id"], "rent", number="5556667770")
    return make_payer(client, world, unit=unit, email=email, name="Karyl Rodriguez")


def cells(engine: Engine) -> list[str]:
    """Every cell of every table, as text (as portal_tests/auth/test_router.py scans for tokens)."""
    out: list[str] = []
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            for row in connection.execute(select(table)):
                for value in row:
                    if isinstance(value, dict | list):
                        out.append(json.dumps(value))
                    elif isinstance(value, bytes):
                        out.append(value.decode("latin-1"))
                    else:
                        out.append(str(value))
    return out


class TestAddBankAccount:
    @pytest.mark.smoke
    def test_valid_account_is_created_with_only_its_last_four(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))

        response = add_source(client, payer, **bank(ACCOUNT_NUMBER))

        assert response.status_code == 201, response.text
        body = response.json()
        assert {"id", "type", "last4", "status"} <= set(body)
        assert (body["type"], body["last4"], body["status"]) == ("bank_account", "6535", "active")
        assert body["id"].startswith("src_")
        assert body["brand"] is None

    @pytest.mark.parametrize(
        "routing_number",
        [
            pytest.param("110000001", id="checksum"),
            pytest.param("11000000", id="eight-digits"),
            pytest.param("11000000a", id="letter"),
            pytest.param("990000000", id="prefix-not-assigned"),
        ],
    )
    def test_bad_routing_number_is_invalid_routing_number(
        self, client: TestClient, routing_number: str
    ) -> None:
        payer = make_payer(client, make_world(client))

        response = add_source(client, payer, **bank(ACCOUNT_NUMBER, routing_number))

        problem = assert_problem(response, 422, "invalid_routing_number")
        assert [e["field"] for e in problem["errors"]] == ["$.routing_number"]

    @pytest.mark.parametrize(
        "account_number",
        [
            pytest.param("123", id="three-digits"),
            pytest.param("1" * 18, id="eighteen-digits"),
            pytest.param("12345678x", id="letter"),
        ],
    )
    def test_bad_account_number_is_invalid_account_number(
        self, client: TestClient, account_number: str
    ) -> None:
        payer = make_payer(client, make_world(client))

        response = add_source(client, payer, **bank(account_number))

        problem = assert_problem(response, 422, "invalid_account_number")
        assert [e["field"] for e in problem["errors"]] == ["$.account_number"]
        assert account_number not in response.text

    def test_a_refused_source_is_not_stored(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))

        add_source(client, payer, **bank(ACCOUNT_NUMBER, "110000001"))

        assert client.get(SOURCES, headers=payer.auth).json()["data"] == []


class TestAddCard:
    @pytest.mark.smoke
    def test_valid_card_keeps_brand_last_four_and_expiry(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))

        response = add_source(client, payer, **card(CARD_NUMBER, 7, 2031))

        assert response.status_code == 201, response.text
        body = response.json()
        assert (body["type"], body["last4"], body["status"]) == ("card", "1111", "active")
        assert (body["brand"], body["funding"]) == ("visa", "credit")
        assert (body["exp_month"], body["exp_year"]) == (7, 2031)

    @pytest.mark.parametrize(
        ("number", "brand"),
        [
            ("4242424242424242", "visa"),
            ("4000056655665556", "visa"),
            ("5555555555554444", "mastercard"),
            ("2223003122003222", "mastercard"),
            ("378282246310005", "amex"),
            ("371449635398431", "amex"),
            ("6011111111111117", "discover"),
        ],
    )
    def test_brand_is_detected_from_the_number(
        self, client: TestClient, number: str, brand: str
    ) -> None:
        payer = make_payer(client, make_world(client))

        body = add_card(client, payer, number)

        assert (body["brand"], body["last4"]) == (brand, number[-4:])

    def test_spaces_and_dashes_in_the_number_are_ignored(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))

        body = add_card(client, payer, "4242 4242-4242 4242")

        assert (body["brand"], body["last4"]) == ("visa", "4242")

    def test_debit_funding_is_kept(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))

        body = add_card(client, payer, "4000056655665556", funding="debit")

        assert body["funding"] == "debit"

    @pytest.mark.parametrize(
        "number",
        [
            pytest.param("4242424242424241", id="luhn"),
            pytest.param("4242", id="too-short"),
            pytest.param("42424242424242424242", id="twenty-digits"),
            pytest.param("4242abcd42424242", id="letters"),
        ],
    )
    def test_bad_number_is_invalid_card_number(self, client: TestClient, number: str) -> None:
        payer = make_payer(client, make_world(client))

        response = add_source(client, payer, **card(number))

        problem = assert_problem(response, 422, "invalid_card_number")
        assert [e["field"] for e in problem["errors"]] == ["$.number"]
        assert number not in response.text

    def test_card_expired_last_month_is_card_expired(self, client: TestClient) -> None:
        # The workspace clock is 2026-07-02: a card good through 06/2026 has expired.
        payer = make_payer(client, make_world(client))

        response = add_source(client, payer, **card(CARD_NUMBER, 6, 2026))

        assert_problem(response, 422, "card_expired")
        assert CARD_NUMBER not in response.text
        assert client.get(SOURCES, headers=payer.auth).json()["data"] == []

    def test_card_expiring_this_month_is_still_good(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))

        response = add_source(client, payer, **card(CARD_NUMBER, 7, 2026))

        assert response.status_code == 201, response.text

    def test_expiry_follows_the_workspace_clock_not_the_computer(self, client: TestClient) -> None:
        # The process clock of the suite is 2026-11-22; the workspace is in July 2026.
        payer = make_payer(client, make_world(client))

        response = add_source(client, payer, **card(CARD_NUMBER, 8, 2026))

        assert response.status_code == 201, response.text

    def test_declined_magic_card_can_be_added(self, client: TestClient) -> None:
        # Refused only when used (402 card_declined, see test_rules.py).
        payer = make_payer(client, make_world(client))

        body = add_card(client, payer, "4000000000000002")

        assert (body["status"], body["last4"]) == ("active", "0002")

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(card(CARD_NUMBER, exp_month=13), id="month-13"),
            pytest.param({"type": "card", "number": CARD_NUMBER}, id="no-expiry"),
            pytest.param({"type": "paypal", "email": "a@example.com"}, id="unknown-type"),
            pytest.param({**card(CARD_NUMBER), "cvc": "123"}, id="unknown-field"),
            pytest.param({**card(CARD_NUMBER), "funding": "prepaid"}, id="funding"),
        ],
    )
    def test_malformed_body_is_validation_failed(
        self, client: TestClient, body: dict[str, Any]
    ) -> None:
        payer = make_payer(client, make_world(client))

        response = client.post(SOURCES, json=body, headers=payer.auth)

        assert_problem(response, 422, "validation_failed")
        assert CARD_NUMBER not in response.text


class TestFullNumbersAreNeverKept:
    def test_neither_responses_nor_any_table_hold_a_full_number(
        self, client: TestClient, engine: Engine
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        created = [
            add_source(client, payer, **bank(ACCOUNT_NUMBER)),
            add_source(client, payer, **card(CARD_NUMBER)),
            add_source(client, payer, **card(AMEX_NUMBER, funding="debit")),
            # Refused ones too: an expired card and a bad routing number.
            add_source(client, payer, **card("4012888888881881", 1, 2026)),
            add_source(client, payer, **bank("27182818284", "110000001")),
        ]
        # Payments carry the source into payments, batches, e-mails and idempotency records.
        for n, response in enumerate(created[:2]):
            payment = post_payment(
                client,
                payer,
                response.json()["id"],
                "1.00",
                headers={"Idempotency-Key": f"k{n}"},
                date="2026-07-10" if n else None,
            )
            assert payment.status_code == 201, payment.text
        texts = [r.text for r in created]
        texts.append(client.get(SOURCES, headers=payer.auth).text)
        texts.append(client.get("/v1/resident/payments", headers=payer.auth).text)
        texts.append(client.get("/v1/payments", headers=world.landlord).text)

        stored = cells(engine)

        for number in (ACCOUNT_NUMBER, CARD_NUMBER, AMEX_NUMBER, "4012888888881881", "27182818284"):
            assert not [t for t in texts if number in t], number
            assert not [c for c in stored if number in c], number
        assert [c for c in stored if c == "6535"]  # the last 4 are kept


class TestWhoseSource:
    def test_listing_shows_only_the_callers_sources(self, client: TestClient) -> None:
        world = make_world(client)
        anthony = make_payer(client, world)
        karyl = other_payer(client, world)
        mine = [add_bank(client, anthony)["id"], add_card(client, anthony)["id"]]
        theirs = add_card(client, karyl, "5555555555554444")["id"]

        listed = client.get(SOURCES, headers=anthony.auth)
        listed_other = client.get(SOURCES, headers=karyl.auth)

        assert sorted(s["id"] for s in listed.json()["data"]) == sorted(mine)
        assert [s["id"] for s in listed_other.json()["data"]] == [theirs]

    def test_listing_pages_without_skips_or_repeats(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))
        made = {add_card(client, payer)["id"] for _ in range(5)}
        seen: list[str] = []
        cursor: str | None = None
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = client.get(SOURCES, params=params, headers=payer.auth).json()
            seen += [s["id"] for s in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break

        assert sorted(seen) == sorted(made)

    def test_paying_with_another_residents_source_is_payment_source_not_found(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        anthony = make_payer(client, world)
        karyl = other_payer(client, world)
        theirs = add_bank(client, karyl)["id"]

        response = post_payment(client, anthony, theirs)

        assert_problem(response, 404, "payment_source_not_found")
        assert client.get("/v1/payments", headers=world.landlord).json()["data"] == []

    def test_unknown_source_is_payment_source_not_found(self, client: TestClient) -> None:
        payer = make_payer(client, make_world(client))

        response = post_payment(client, payer, "src_doesnotexist")

        assert_problem(response, 404, "payment_source_not_found")

    def test_own_source_pays(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_card(client, payer)

        payment = pay(client, payer, source["id"])

        assert (payment["payment_source_id"], payment["method"]) == (source["id"], "card")

    def test_sources_need_a_resident_token(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.post(SOURCES, json=card(CARD_NUMBER), headers=world.landlord)

        assert response.status_code == 401, response.text
