"""Money moves exactly once under concurrency (issue 14): twenty requests released together at
one payment — refunds, voids, cancels, returns, chargebacks, or a mix — make exactly one
reversal; the rest are 409 with the rule's own code, and the ledger stays whole.

The races are real: each request runs in its own thread with its own ``TestClient`` (its own
event loop and database connection), released by one barrier. On PostgreSQL (CI's second run)
they race for the rows; every status change locks its row before checking its rule, and the
final UPDATE is a compare-and-set. SQLite serializes writers, so there they prove the rules
are checked inside the transaction that changes the row."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from portal_tests.factories import World
from portal_tests.payments.helpers import Payer, add_bank, add_card, pay
from portal_tests.payments.test_concurrency import THREADS, all_at_once, assert_problem
from portal_tests.reversals.helpers import (
    MONDAY,
    batches,
    check,
    et,
    integrated_payer,
    lease_balance,
    move,
    operator_chargeback,
    operator_return,
    payment,
)

Call = Callable[[TestClient], httpx.Response]


def _deposited(client: TestClient, *, card: bool = False) -> tuple[World, Payer, dict[str, Any]]:
    """980.00 paid Monday 14:00 ET, deposited Tuesday 06:00; now Tuesday 10:00."""
    world, payer = integrated_payer(client)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    source = add_card(client, payer) if card else add_bank(client, payer)
    made = pay(client, payer, source["id"])
    move(client, world, payer, et("2026-07-07", "10:00:00"))
    assert payment(client, world, made["id"])["status"] == "completed"
    assert lease_balance(client, world, payer) == "0.00"
    return world, payer, made


def _processing(client: TestClient) -> tuple[World, Payer, dict[str, Any]]:
    """980.00 paid Monday 14:00 ET, still processing in its open batch."""
    world, payer = integrated_payer(client)
    move(client, world, payer, et(MONDAY, "14:00:00"))
    made = pay(client, payer, add_bank(client, payer)["id"])
    return world, payer, made


def _refund(world: World, payment_id: str, n: int, keyed: bool = True) -> Call:
    headers = {**world.landlord, **({"Idempotency-Key": f"refund-{n}"} if keyed else {})}
    return lambda own: own.post(f"/v1/payments/{payment_id}/refund", headers=headers)


def _return(world: World, payment_id: str, n: int, code: str = "R01") -> Call:
    return lambda own: operator_return(
        own, world, payment_id, code, **{"Idempotency-Key": f"return-{n}"}
    )


def _one_winner(responses: list[httpx.Response], ok: int, code: str) -> httpx.Response:
    """Exactly one success; every other answer is 409 ``code`` as problem+json."""
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {ok: 1, 409: len(responses) - 1}, [
        (r.status_code, r.text[:200]) for r in responses if r.status_code != ok
    ]
    for r in responses:
        if r.status_code == 409:
            assert_problem(r, 409, code)
    [winner] = [r for r in responses if r.status_code == ok]
    return winner


def _reversals(client: TestClient, world: World, payment_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = payment(client, world, payment_id)["reversals"]
    return found


class TestRefunds:
    @pytest.mark.parametrize("keyed", [True, False], ids=["distinct-keys", "no-key"])
    def test_twenty_refunds_at_once_refund_once(
        self, client: TestClient, app: FastAPI, engine: Engine, keyed: bool
    ) -> None:
        world, payer, made = _deposited(client)

        responses = all_at_once(app, [_refund(world, made["id"], n, keyed) for n in range(THREADS)])

        winner = _one_winner(responses, 201, "payment_not_refundable")
        [only] = _reversals(client, world, made["id"])
        assert (only["id"], only["kind"], only["amount"]) == (
            winner.json()["id"],
            "refund",
            "-980.00",
        )
        assert payment(client, world, made["id"])["status"] == "refunded"
        assert lease_balance(client, world, payer) == "980.00"
        [reversal_batch] = [b for b in batches(client, world) if b["kind"] == "reversal"]
        assert (reversal_batch["item_count"], reversal_batch["total"]) == (1, "-980.00")
        assert check(engine, world) == []

    def test_refunds_and_returns_racing_reverse_once(
        self, client: TestClient, app: FastAPI, engine: Engine
    ) -> None:
        world, payer, made = _deposited(client)
        calls = [
            _refund(world, made["id"], n) if n % 2 else _return(world, made["id"], n)
            for n in range(THREADS)
        ]

        responses = all_at_once(app, calls)

        assert sum(1 for r in responses if r.status_code == 201) == 1
        codes = {r.json()["code"] for r in responses if r.status_code != 201}
        # Whichever won, the losers name the rule that now refuses them.
        assert codes <= {"payment_not_refundable", "payment_not_returnable"}, codes
        assert len(_reversals(client, world, made["id"])) == 1
        assert lease_balance(client, world, payer) == "980.00"
        assert check(engine, world) == []


class TestVoidsAndCancels:
    def test_twenty_landlord_voids_at_once_void_once(
        self, client: TestClient, app: FastAPI, engine: Engine
    ) -> None:
        world, _payer, made = _processing(client)

        def void(own: TestClient) -> httpx.Response:
            return own.post(f"/v1/payments/{made['id']}/void", headers=world.landlord)

        responses = all_at_once(app, [void] * THREADS)

        _one_winner(responses, 200, "payment_not_voidable")
        [only] = _reversals(client, world, made["id"])
        assert only["kind"] == "void"
        [emptied] = [b for b in batches(client, world) if b["id"] == made["deposit_batch_id"]]
        assert (emptied["item_count"], emptied["total"]) == (0, "0.00")
        assert check(engine, world) == []

    def test_twenty_resident_cancels_at_once_cancel_once(
        self, client: TestClient, app: FastAPI, engine: Engine
    ) -> None:
        world, payer, made = _processing(client)

        def cancel(own: TestClient) -> httpx.Response:
            return own.post(f"/v1/resident/payments/{made['id']}/cancel", headers=payer.auth)

        responses = all_at_once(app, [cancel] * THREADS)

        _one_winner(responses, 200, "payment_not_voidable")
        assert len(_reversals(client, world, made["id"])) == 1
        [emptied] = [b for b in batches(client, world) if b["id"] == made["deposit_batch_id"]]
        assert (emptied["item_count"], emptied["total"]) == (0, "0.00")
        assert check(engine, world) == []

    def test_a_void_racing_returns_before_the_deposit_reverses_once(
        self, client: TestClient, app: FastAPI, engine: Engine
    ) -> None:
        world, _payer, made = _processing(client)

        def void(own: TestClient) -> httpx.Response:
            return own.post(f"/v1/payments/{made['id']}/void", headers=world.landlord)

        calls = [void if n % 2 else _return(world, made["id"], n) for n in range(THREADS)]
        responses = all_at_once(app, calls)

        assert sum(1 for r in responses if r.status_code in (200, 201)) == 1
        assert len(_reversals(client, world, made["id"])) == 1
        assert check(engine, world) == []


class TestReturnsAndChargebacks:
    def test_twenty_returns_at_once_return_once(
        self, client: TestClient, app: FastAPI, engine: Engine
    ) -> None:
        world, payer, made = _deposited(client)

        responses = all_at_once(app, [_return(world, made["id"], n) for n in range(THREADS)])

        _one_winner(responses, 201, "payment_not_returnable")
        [only] = _reversals(client, world, made["id"])
        assert (only["kind"], only["return_code"]) == ("return", "R01")
        assert lease_balance(client, world, payer) == "980.00"
        assert check(engine, world) == []

    def test_twenty_chargebacks_at_once_charge_back_once(
        self, client: TestClient, app: FastAPI, engine: Engine
    ) -> None:
        world, _payer, made = _deposited(client, card=True)

        def chargeback(own: TestClient) -> httpx.Response:
            return operator_chargeback(own, world, made["id"])

        responses = all_at_once(app, [chargeback] * THREADS)

        _one_winner(responses, 201, "payment_not_chargeable")
        assert len(_reversals(client, world, made["id"])) == 1
        assert len(payment(client, world, made["id"])["disputes"]) == 1
        assert check(engine, world) == []

    @pytest.mark.parametrize("answer", ["accept", "challenge"])
    def test_twenty_answers_to_one_dispute_answer_it_once(
        self, client: TestClient, app: FastAPI, engine: Engine, answer: str
    ) -> None:
        world, _payer, made = _deposited(client, card=True)
        charged = operator_chargeback(client, world, made["id"])
        assert charged.status_code == 201, charged.text
        [dispute] = payment(client, world, made["id"])["disputes"]

        def respond(own: TestClient) -> httpx.Response:
            return own.post(f"/v1/disputes/{dispute['id']}/{answer}", headers=world.landlord)

        responses = all_at_once(app, [respond] * THREADS)

        _one_winner(responses, 200, "dispute_not_open")
        [after] = payment(client, world, made["id"])["disputes"]
        assert after["status"] == ("lost" if answer == "accept" else "under_review")
        assert check(engine, world) == []
