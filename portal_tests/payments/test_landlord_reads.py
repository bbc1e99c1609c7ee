"""What the landlord reads of payments and deposit batches (issue 5): ``GET /v1/payments``
with its filters and cursor, ``GET /v1/payments/{id}``, ``GET /v1/deposit-batches`` by deposit
date and business date, ``GET /v1/deposit-batches/{id}`` with its items; and what a resident
may read of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import (
    Payer,
    add_account,
    add_bank,
    add_card,
    batch,
    make_payer,
    pay,
    set_clock,
)
from portal_tests.residents.helpers import make_unit

PROBLEM_JSON = "application/problem+json"
PASSWORD = "s3cret-pass"


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def cents(amount: str) -> int:
    whole, frac = amount.split(".")
    return int(whole) * 100 + int(frac)


def relogin(client: TestClient, world: World, payer: Payer, email: str) -> None:
    response = client.post(
        "/v1/resident/login",
        json={"email": email, "password": PASSWORD, "workspace_id": world.workspace_id},
    )
    assert response.status_code == 200, response.text
    payer.token = response.json()["access_token"]


def walk(client: TestClient, path: str, headers: dict[str, str], **query: str) -> list[str]:
    """Every ID of a list, page by page."""
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["data"]) <= int(query.get("limit", "50"))
        seen += [item["id"] for item in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


@dataclass
class Portfolio:
    """Two residents on two properties and six payments over two business dates:

    - Thursday 2026-07-02 (deposited Friday 07-03, so completed): Anthony's rent 980.00 (bank)
      and security deposit 500.00, Karyl's rent 500.00 (card);
    - Monday 2026-07-06 (open): Anthony's 200.00, Karyl's 300.00;
    - scheduled for Monday 2026-07-20: Anthony's 100.00.
    """

    world: World
    anthony: Payer
    karyl: Payer
    ids: dict[str, str]

    def id_of(self, *names: str) -> list[str]:
        return sorted(self.ids[n] for n in names)


def portfolio(client: TestClient) -> Portfolio:
    world = make_world(client, settings={"payments_per_resident_per_day": 3})
    anthony = make_payer(client, world, accounts=("rent", "security_deposit"))
    elm = make_unit(client, world, prop_external="ELM", unit_external="12", unit_name="12")
    add_account(client, world, elm["property_id"], "rent", number="5556667770")
    karyl = make_payer(client, world, unit=elm, email="karyl@example.com", name="Karyl Rodriguez")
    bank_a, card_k = add_bank(client, anthony)["id"], add_card(client, karyl)["id"]
    ids = {
        "a_rent": pay(client, anthony, bank_a, "980.00")["id"],
        "a_deposit": pay(client, anthony, bank_a, "500.00", type="security_deposit")["id"],
        "k_rent": pay(client, karyl, card_k, "500.00")["id"],
        "a_scheduled": pay(client, anthony, bank_a, "100.00", date="2026-07-20")["id"],
    }
    set_clock(client, world, "2026-07-06T14:00:00Z")  # Monday 10:00 New York
    relogin(client, world, anthony, "anthony@example.com")
    relogin(client, world, karyl, "karyl@example.com")
    ids["a_monday"] = pay(client, anthony, bank_a, "200.00")["id"]
    ids["k_monday"] = pay(client, karyl, card_k, "300.00")["id"]
    return Portfolio(world, anthony, karyl, ids)


def payment_ids(client: TestClient, world: World, **query: str) -> list[str]:
    response = client.get("/v1/payments", params=query, headers=world.landlord)
    assert response.status_code == 200, response.text
    return sorted(p["id"] for p in response.json()["data"])


def batches(client: TestClient, world: World, **query: str) -> list[dict[str, Any]]:
    response = client.get("/v1/deposit-batches", params=query, headers=world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


class TestListPayments:
    def test_filters_by_status_lease_and_business_date(self, client: TestClient) -> None:
        p = portfolio(client)
        w = p.world

        assert payment_ids(client, w) == p.id_of(*p.ids)
        assert payment_ids(client, w, status="completed") == p.id_of(
            "a_rent", "a_deposit", "k_rent"
        )
        assert payment_ids(client, w, status="processing") == p.id_of("a_monday", "k_monday")
        assert payment_ids(client, w, status="scheduled") == p.id_of("a_scheduled")
        assert payment_ids(client, w, status="refunded") == []
        assert payment_ids(client, w, lease_id=p.karyl.lease_id) == p.id_of("k_rent", "k_monday")
        assert payment_ids(client, w, lease_id=p.anthony.lease_id) == p.id_of(
            "a_rent", "a_deposit", "a_scheduled", "a_monday"
        )
        assert payment_ids(client, w, to="2026-07-02") == p.id_of("a_rent", "a_deposit", "k_rent")
        assert payment_ids(client, w, **{"from": "2026-07-03"}) == p.id_of(
            "a_monday", "k_monday", "a_scheduled"
        )
        assert payment_ids(client, w, **{"from": "2026-07-06", "to": "2026-07-06"}) == p.id_of(
            "a_monday", "k_monday"
        )
        assert payment_ids(client, w, **{"from": "2026-07-07", "to": "2026-07-19"}) == []
        assert payment_ids(client, w, status="processing", lease_id=p.karyl.lease_id) == p.id_of(
            "k_monday"
        )

    def test_status_labels_and_deposit_dates(self, client: TestClient) -> None:
        p = portfolio(client)

        listed = {
            x["id"]: x for x in client.get("/v1/payments", headers=p.world.landlord).json()["data"]
        }

        thursday = listed[p.ids["a_rent"]]
        assert (thursday["status"], thursday["status_label"]) == ("completed", "Paid")
        assert (thursday["business_date"], thursday["deposit_date"]) == (
            "2026-07-02",
            "2026-07-03",
        )
        monday = listed[p.ids["k_monday"]]
        assert (monday["status_label"], monday["deposit_date"]) == ("Processing", "2026-07-07")
        assert monday["method"] == "card"
        scheduled = listed[p.ids["a_scheduled"]]
        assert (scheduled["status_label"], scheduled["deposit_date"]) == ("Pending", None)

    @pytest.mark.parametrize("limit", ["1", "2", "4"])
    def test_cursor_pages_without_skips_or_repeats(self, client: TestClient, limit: str) -> None:
        p = portfolio(client)

        seen = walk(client, "/v1/payments", p.world.landlord, limit=limit)
        filtered = walk(
            client, "/v1/payments", p.world.landlord, limit=limit, lease_id=p.anthony.lease_id
        )

        assert len(seen) == len(set(seen)) == 6
        assert sorted(seen) == p.id_of(*p.ids)
        assert sorted(filtered) == p.id_of("a_rent", "a_deposit", "a_scheduled", "a_monday")

    def test_a_payment_made_between_pages_is_not_repeated(self, client: TestClient) -> None:
        world = make_world(client, settings={"payments_per_resident_per_day": 10})
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        made = {pay(client, payer, source["id"], f"{n}.00")["id"] for n in range(1, 5)}
        first = client.get("/v1/payments", params={"limit": "2"}, headers=world.landlord).json()
        made.add(pay(client, payer, source["id"], "9.00")["id"])

        rest = walk(client, "/v1/payments", world.landlord, limit="2", cursor=first["next_cursor"])

        seen = [x["id"] for x in first["data"]] + rest
        assert len(seen) == len(set(seen))
        assert set(seen) <= made

    @pytest.mark.parametrize(
        ("query", "status", "code"),
        [
            ({"status": "paid"}, 422, "validation_failed"),
            ({"from": "2026-02-30"}, 422, "validation_failed"),
            ({"limit": "0"}, 422, "validation_failed"),
            ({"cursor": "not-a-cursor"}, 400, "invalid_cursor"),
        ],
    )
    def test_bad_query_is_a_problem(
        self, client: TestClient, query: dict[str, str], status: int, code: str
    ) -> None:
        world = make_world(client)

        response = client.get("/v1/payments", params=query, headers=world.landlord)

        assert_problem(response, status, code)

    def test_needs_a_landlord(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)

        assert client.get("/v1/payments", headers=payer.auth).status_code == 401
        assert client.get("/v1/payments").status_code == 401


class TestGetPayment:
    @pytest.mark.smoke
    def test_one_payment_reads_as_in_the_list_and_as_the_resident_sees_it(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        made = pay(client, payer, add_bank(client, payer)["id"])

        one = client.get(f"/v1/payments/{made['id']}", headers=world.landlord)
        own = client.get(f"/v1/resident/payments/{made['id']}", headers=payer.auth)
        [listed] = client.get("/v1/payments", headers=world.landlord).json()["data"]

        assert one.status_code == 200, one.text
        # The landlord's read adds the payment's reversal history and disputes.
        detail = one.json()
        assert (detail.pop("reversals"), detail.pop("disputes")) == ([], [])
        assert detail == made == own.json() == listed
        assert (made["lease_id"], made["resident_id"], made["unit_id"]) == (
            payer.lease_id,
            payer.resident_id,
            payer.unit_id,
        )
        assert (made["type"], made["amount"], made["deposit_date"]) == (
            "rent",
            "980.00",
            "2026-07-03",
        )

    def test_unknown_payment_is_payment_not_found(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/payments/pay_doesnotexist", headers=world.landlord)

        assert_problem(response, 404, "payment_not_found")

    def test_another_workspaces_payment_is_payment_not_found(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        made = pay(client, payer, add_bank(client, payer)["id"])
        stranger = make_world(client, seed=8)

        assert_problem(
            client.get(f"/v1/payments/{made['id']}", headers=stranger.landlord),
            404,
            "payment_not_found",
        )
        assert client.get("/v1/payments", headers=stranger.landlord).json()["data"] == []
        assert_problem(
            client.get(
                f"/v1/deposit-batches/{made['deposit_batch_id']}", headers=stranger.landlord
            ),
            404,
            "deposit_batch_not_found",
        )


class TestResidentReads:
    def test_a_resident_lists_only_their_own_payments(self, client: TestClient) -> None:
        p = portfolio(client)

        mine = walk(client, "/v1/resident/payments", p.karyl.auth, limit="1")

        assert sorted(mine) == p.id_of("k_rent", "k_monday")

    def test_another_residents_payment_is_payment_not_found(self, client: TestClient) -> None:
        world = make_world(client)
        anthony = make_payer(client, world)
        unit = {"id": anthony.unit_id, "property_id": anthony.property_id}
        jerry = make_payer(client, world, unit=unit, email="jerry@example.com")
        made = pay(client, anthony, add_bank(client, anthony)["id"])

        response = client.get(f"/v1/resident/payments/{made['id']}", headers=jerry.auth)

        assert_problem(response, 404, "payment_not_found")
        assert client.get("/v1/resident/payments", headers=jerry.auth).json()["data"] == []


class TestDepositBatches:
    @pytest.mark.smoke
    def test_one_days_batch_lists_its_items_with_totals_equal_to_their_sums(
        self, client: TestClient
    ) -> None:
        # The Inosio screen: Anthony Kmetz 1,200.00 and 1,000.00, Jerry and Karyl Rodriguez
        # 500.00 -> one batch of 2,700.00 and 3 items.
        world = make_world(client, settings={"payments_per_resident_per_day": 2})
        anthony = make_payer(client, world)
        unit = {"id": anthony.unit_id, "property_id": anthony.property_id}
        jerry = make_payer(
            client, world, unit=unit, email="jerry@example.com", name="Jerry and Karyl Rodriguez"
        )
        source = add_bank(client, anthony)["id"]
        made = [
            pay(client, anthony, source, "1200.00"),
            pay(client, anthony, source, "1000.00"),
            pay(client, jerry, add_card(client, jerry)["id"], "500.00"),
        ]

        detail = batch(client, world, made[0]["deposit_batch_id"])

        assert {m["deposit_batch_id"] for m in made} == {detail["id"]}
        assert (detail["total"], detail["item_count"]) == ("2700.00", 3)
        assert (detail["kind"], detail["status"], detail["deposit_type"]) == (
            "deposit",
            "open",
            "rent",
        )
        assert (detail["business_date"], detail["deposit_date"]) == ("2026-07-02", "2026-07-03")
        assert detail["account_last4"] == "3200"
        # Same instant (the workspace clock stands still): listed by transaction ID.
        items = detail["items"]
        assert [i["transaction_id"] for i in items] == sorted(m["transaction_id"] for m in made)
        assert sorted((i["payment_id"], i["resident_name"], i["amount"]) for i in items) == sorted(
            [
                (made[0]["id"], "Anthony Kmetz", "1200.00"),
                (made[1]["id"], "Anthony Kmetz", "1000.00"),
                (made[2]["id"], "Jerry and Karyl Rodriguez", "500.00"),
            ]
        )
        assert {i["method"] for i in detail["items"]} == {"bank_account", "card"}
        [listed] = batches(client, world)
        assert listed["items"] is None
        assert {k: v for k, v in listed.items() if k != "items"} == {
            k: v for k, v in detail.items() if k != "items"
        }

    def test_by_deposit_date_and_by_business_date(self, client: TestClient) -> None:
        p = portfolio(client)
        w = p.world

        deposited = batches(client, w, date="2026-07-03")
        monday = batches(client, w, business_date="2026-07-06")

        assert len(deposited) == 3
        assert {(b["status"], b["business_date"]) for b in deposited} == {
            ("deposited", "2026-07-02")
        }
        assert sorted((b["deposit_type"], b["total"]) for b in deposited) == [
            ("rent", "500.00"),
            ("rent", "980.00"),
            ("security_deposit", "500.00"),
        ]
        assert len(monday) == 2
        assert {(b["status"], b["deposit_date"]) for b in monday} == {("open", "2026-07-07")}
        assert sorted(b["total"] for b in monday) == ["200.00", "300.00"]
        assert sorted(b["id"] for b in batches(client, w, date="2026-07-07")) == sorted(
            b["id"] for b in monday
        )
        assert batches(client, w, date="2026-07-06") == []
        assert batches(client, w, business_date="2026-07-03") == []
        assert len(batches(client, w, status="deposited")) == 3
        assert len(batches(client, w, kind="reversal")) == 0
        assert len(batches(client, w, kind="deposit", status="open")) == 2

    def test_every_batch_total_and_count_equal_its_items(self, client: TestClient) -> None:
        p = portfolio(client)

        all_ids = walk(client, "/v1/deposit-batches", p.world.landlord, limit="2")

        assert len(all_ids) == len(set(all_ids)) == 5
        paid_in_batches: list[str] = []
        for batch_id in all_ids:
            detail = batch(client, p.world, batch_id)
            assert detail["item_count"] == len(detail["items"])
            assert cents(detail["total"]) == sum(cents(i["amount"]) for i in detail["items"])
            expected = "completed" if detail["status"] == "deposited" else "processing"
            assert {i["status"] for i in detail["items"]} == {expected}
            paid_in_batches += [i["payment_id"] for i in detail["items"]]
        assert sorted(paid_in_batches) == p.id_of(
            "a_rent", "a_deposit", "k_rent", "a_monday", "k_monday"
        )

    def test_items_name_their_residents(self, client: TestClient) -> None:
        p = portfolio(client)
        [karyls] = [
            b
            for b in batches(client, p.world, business_date="2026-07-06")
            if b["total"] == "300.00"
        ]

        detail = batch(client, p.world, karyls["id"])

        [item] = detail["items"]
        assert (item["resident_name"], item["resident_id"], item["lease_id"]) == (
            "Karyl Rodriguez",
            p.karyl.resident_id,
            p.karyl.lease_id,
        )
        assert (item["property_id"], item["unit_id"]) == (p.karyl.property_id, p.karyl.unit_id)
        assert detail["account_last4"] == "7770"

    def test_unknown_batch_is_deposit_batch_not_found(self, client: TestClient) -> None:
        world = make_world(client)

        response = client.get("/v1/deposit-batches/1234567890123456", headers=world.landlord)

        assert_problem(response, 404, "deposit_batch_not_found")

    @pytest.mark.parametrize(
        "query",
        [{"date": "07/03/2026"}, {"business_date": "2026-13-01"}, {"status": "closing"}],
    )
    def test_bad_query_is_validation_failed(
        self, client: TestClient, query: dict[str, str]
    ) -> None:
        world = make_world(client)

        response = client.get("/v1/deposit-batches", params=query, headers=world.landlord)

        assert_problem(response, 422, "validation_failed")
