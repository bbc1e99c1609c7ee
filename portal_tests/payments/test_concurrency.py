"""Retries and races on ``POST /v1/resident/payments``: the ``Idempotency-Key`` (architecture.md
§5) and simultaneous requests (issue 5 acceptance 6). The races are real: twenty threads, each
with its own ``TestClient`` on the same app and engine, released together by a barrier; they
run on SQLite and on PostgreSQL (``PORTAL_TEST_DATABASE_URL``)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from portal_tests.factories import World, make_world
from portal_tests.payments.helpers import (
    Payer,
    add_bank,
    batch,
    make_payer,
    post_payment,
)

PROBLEM_JSON = "application/problem+json"
THREADS = 20


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def landlord_payments(client: TestClient, world: World) -> list[dict[str, Any]]:
    response = client.get("/v1/payments", params={"limit": "500"}, headers=world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def batches(client: TestClient, world: World) -> list[dict[str, Any]]:
    response = client.get("/v1/deposit-batches", headers=world.landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def all_at_once(
    app: FastAPI, calls: list[Callable[[TestClient], httpx.Response]]
) -> list[httpx.Response]:
    """Run each call in its own thread with its own client, all released by one barrier.
    (The clients skip the lifespan: the ``client`` fixture already opened the app.)"""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[TestClient], httpx.Response]) -> httpx.Response:
        own = TestClient(app)
        barrier.wait(timeout=60)
        return call(own)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


class TestIdempotencyKey:
    @pytest.mark.smoke
    def test_same_key_and_body_replays_the_payment(self, client: TestClient) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        key = {"Idempotency-Key": "rent-2026-07"}

        first = post_payment(client, payer, source["id"], headers=key)
        again = post_payment(client, payer, source["id"], headers=key)

        assert (first.status_code, again.status_code) == (201, 201)
        assert again.headers["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in first.headers
        assert again.json() == first.json()
        assert [p["id"] for p in landlord_payments(client, world)] == [first.json()["id"]]
        deposit = batch(client, world, first.json()["deposit_batch_id"])
        assert (deposit["item_count"], deposit["total"]) == (1, "980.00")
        assert len(deposit["items"]) == 1

    def test_the_replay_does_not_run_the_rules_again(self, client: TestClient) -> None:
        # A fresh request would be the day's second payment (409); the retry is not one.
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        key = {"Idempotency-Key": "k1"}
        first = post_payment(client, payer, source["id"], headers=key)

        again = post_payment(client, payer, source["id"], headers=key)
        fresh = post_payment(client, payer, source["id"], headers={"Idempotency-Key": "k2"})

        assert again.json()["id"] == first.json()["id"]
        assert_problem(fresh, 409, "daily_payment_limit_reached")

    def test_same_key_other_body_is_idempotency_key_reused(self, client: TestClient) -> None:
        world = make_world(client, settings={"payments_per_resident_per_day": 2})
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        key = {"Idempotency-Key": "k1"}
        first = post_payment(client, payer, source["id"], "980.00", headers=key)

        other = post_payment(client, payer, source["id"], "970.00", headers=key)

        assert_problem(other, 422, "idempotency_key_reused")
        assert [p["id"] for p in landlord_payments(client, world)] == [first.json()["id"]]
        deposit = batch(client, world, first.json()["deposit_batch_id"])
        assert (deposit["item_count"], deposit["total"]) == (1, "980.00")

    def test_keys_belong_to_their_resident(self, client: TestClient) -> None:
        world = make_world(client)
        anthony = make_payer(client, world)
        unit = {"id": anthony.unit_id, "property_id": anthony.property_id}
        jerry = make_payer(client, world, unit=unit, email="jerry@example.com")
        key = {"Idempotency-Key": "same-key"}

        mine = post_payment(client, anthony, add_bank(client, anthony)["id"], headers=key)
        theirs = post_payment(client, jerry, add_bank(client, jerry)["id"], headers=key)

        assert (mine.status_code, theirs.status_code) == (201, 201)
        assert "Idempotent-Replayed" not in theirs.headers
        assert mine.json()["id"] != theirs.json()["id"]

    def test_a_refused_payment_keeps_nothing_so_the_key_can_be_retried(
        self, client: TestClient
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        key = {"Idempotency-Key": "k1"}
        blocked = client.patch(
            f"/v1/leases/{payer.lease_id}", json={"payments": "blocked"}, headers=world.landlord
        )
        assert blocked.status_code == 200, blocked.text
        assert_problem(
            post_payment(client, payer, source["id"], headers=key), 409, "payments_blocked"
        )
        client.patch(
            f"/v1/leases/{payer.lease_id}", json={"payments": "allowed"}, headers=world.landlord
        )

        retried = post_payment(client, payer, source["id"], headers=key)

        assert retried.status_code == 201, retried.text
        assert "Idempotent-Replayed" not in retried.headers


class TestSimultaneousPaymentsOfOneResident:
    @pytest.mark.parametrize("keys", ["distinct", "none"])
    def test_twenty_at_once_make_exactly_one_payment(
        self, client: TestClient, app: FastAPI, keys: str
    ) -> None:
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)

        def attempt(n: int) -> Callable[[TestClient], httpx.Response]:
            headers = {"Idempotency-Key": f"attempt-{n}"} if keys == "distinct" else None
            return lambda own: post_payment(own, payer, source["id"], headers=headers)

        responses = all_at_once(app, [attempt(n) for n in range(THREADS)])

        assert Counter(r.status_code for r in responses) == {201: 1, 409: THREADS - 1}
        for r in responses:
            if r.status_code == 409:
                assert_problem(r, 409, "daily_payment_limit_reached")
        [made] = [r.json() for r in responses if r.status_code == 201]
        assert [p["id"] for p in landlord_payments(client, world)] == [made["id"]]
        [only] = batches(client, world)
        assert (only["id"], only["item_count"], only["total"]) == (
            made["deposit_batch_id"],
            1,
            "980.00",
        )

    def test_twenty_at_once_with_one_key_make_exactly_one_payment(
        self, client: TestClient, app: FastAPI
    ) -> None:
        # Late arrivals replay the payment; those racing the first see the key in flight.
        world = make_world(client)
        payer = make_payer(client, world)
        source = add_bank(client, payer)
        key = {"Idempotency-Key": "one-key"}

        responses = all_at_once(
            app,
            [lambda own: post_payment(own, payer, source["id"], headers=key)] * THREADS,
        )

        assert {r.status_code for r in responses} <= {201, 409}
        made = {r.json()["id"] for r in responses if r.status_code == 201}
        assert len(made) == 1
        for r in responses:
            if r.status_code == 409:
                assert_problem(r, 409, "idempotency_key_in_flight")
        assert [p["id"] for p in landlord_payments(client, world)] == sorted(made)
        [only] = batches(client, world)
        assert (only["item_count"], only["total"]) == (1, "980.00")


class TestSimultaneousPaymentsIntoOneBatch:
    def test_twenty_residents_at_once_share_one_new_batch(
        self, client: TestClient, app: FastAPI
    ) -> None:
        # No batch exists yet: every request races to create the day's batch (the upsert) and
        # to add to its total and count (the atomic increments).
        world = make_world(client)
        first = make_payer(client, world, email="r0@example.com")
        unit = {"id": first.unit_id, "property_id": first.property_id}
        payers: list[Payer] = [first] + [
            make_payer(client, world, unit=unit, email=f"r{n}@example.com")
            for n in range(1, THREADS)
        ]
        sources = [add_bank(client, p)["id"] for p in payers]
        amounts = [f"{100 + n}.{n:02d}" for n in range(THREADS)]
        assert batches(client, world) == []

        def attempt(n: int) -> Callable[[TestClient], httpx.Response]:
            return lambda own: post_payment(own, payers[n], sources[n], amounts[n])

        responses = all_at_once(app, [attempt(n) for n in range(THREADS)])

        assert [r.status_code for r in responses] == [201] * THREADS, [
            r.text for r in responses if r.status_code != 201
        ]
        [only] = batches(client, world)
        assert {r.json()["deposit_batch_id"] for r in responses} == {only["id"]}
        expected_cents = sum(100_00 + n * 100 + n for n in range(THREADS))
        assert only["item_count"] == THREADS
        assert only["total"] == f"{expected_cents // 100}.{expected_cents % 100:02d}"
        detail = batch(client, world, only["id"])
        assert sorted(i["amount"] for i in detail["items"]) == sorted(amounts)
        assert len(landlord_payments(client, world)) == THREADS
