"""Boundaries pinned exactly, on the wire (issue 18 item 9: mutating ``>=`` into ``>`` or
``<=`` into ``<`` survived the suite):

- the largest amount: ``MAX_CENTS - 1`` is accepted, ``MAX_CENTS`` and ``MAX_CENTS + 1`` are
  422 ``invalid_amount`` (``portal/core/money.py``);
- an idempotency key expires at exactly its expiry instant, 24 hours after the first request
  (on the process clock outside a workspace, on the workspace clock inside one): one microsecond
  earlier it replays, at the instant it is free, and the nightly purge that runs at that instant
  drops it (``portal/core/idempotency.py``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from portal.core.clock import FixedClock
from portal.core.money import MAX_CENTS, MoneyError, format_cents, parse_cents
from portal_tests.balances.helpers import roster
from portal_tests.balances.test_router import BANK, Client12, line
from portal_tests.factories import (
    OPERATOR,
    START,
    World,
    advance,
    make_integration,
    make_token,
    make_world,
)
from portal_tests.residents.helpers import make_unit

#: 10^13 cents: the first amount refused.
AT_MAX = "100000000000.00"
JUST_BELOW = "99999999999.99"
JUST_ABOVE = "100000000000.01"


class TestMaxCents:
    def test_the_literals_are_the_boundary(self) -> None:
        assert (format_cents(MAX_CENTS - 1), format_cents(MAX_CENTS)) == (JUST_BELOW, AT_MAX)
        assert format_cents(MAX_CENTS + 1) == JUST_ABOVE

    @pytest.mark.parametrize(
        "value",
        [AT_MAX, JUST_ABOVE, f"-{AT_MAX}", f"-{JUST_ABOVE}", 100_000_000_000, 100_000_000_000.0],
    )
    def test_parse_refuses_max_cents_and_above(self, value: Any) -> None:
        with pytest.raises(MoneyError, match="too large"):
            parse_cents(value)

    @pytest.mark.parametrize(
        ("value", "cents"),
        [
            (JUST_BELOW, MAX_CENTS - 1),
            (f"-{JUST_BELOW}", -(MAX_CENTS - 1)),
            (99_999_999_999, MAX_CENTS - 100),
            (99_999_999_999.99, MAX_CENTS - 1),
        ],
    )
    def test_parse_accepts_just_below(self, value: Any, cents: int) -> None:
        assert parse_cents(value) == cents


def _invite(client: TestClient, world: World, unit_id: str, rent: Any) -> httpx.Response:
    return client.post(
        "/v1/residents/invite",
        json={
            "name": "Anthony Kmetz",
            "email": None,
            "unit_id": unit_id,
            "rent": rent,
            "start_date": "2026-08-01",
        },
        headers=world.landlord,
    )


class TestMaxCentsOnTheWire:
    """A landlord's invite carries the rent as an ``Amount``."""

    @pytest.mark.parametrize("rent", [AT_MAX, JUST_ABOVE, 100_000_000_000])
    def test_max_cents_and_above_are_422_invalid_amount(
        self, client: TestClient, rent: Any
    ) -> None:
        world = make_world(client)
        unit = make_unit(client, world)

        response = _invite(client, world, unit["id"], rent)

        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_amount", response.text
        residents = client.get("/v1/residents", headers=world.landlord).json()["data"]
        assert residents == []

    @pytest.mark.smoke
    def test_just_below_is_stored_and_read_back_exactly(self, client: TestClient) -> None:
        world = make_world(client)
        unit = make_unit(client, world)

        response = _invite(client, world, unit["id"], JUST_BELOW)

        assert response.status_code == 201, response.text
        lease_id = response.json()["lease_ids"][0]
        lease = client.get(f"/v1/leases/{lease_id}", headers=world.landlord)
        assert lease.status_code == 200, lease.text
        assert lease.json()["rent"] == JUST_BELOW


# --- idempotency expiry --------------------------------------------------------------------------

#: Midnight in New York (EDT): the nightly purge runs at this wall time every day.
MIDNIGHT = "2026-07-02T04:00:00Z"
#: 24 hours of workspace time later: the key's expiry instant, and the next nightly purge.
EXPIRY = "2026-07-03T04:00:00Z"
JUST_BEFORE_EXPIRY = "2026-07-03T03:59:59.999999Z"
REPLAYED = "idempotent-replayed"


def _create(client: TestClient, name: str) -> httpx.Response:
    """The operator's workspace creation: outside any workspace, on the process clock."""
    return client.post(
        "/v1/sandbox/workspaces",
        json={"name": name, "seed": 3},
        headers={**OPERATOR, "Idempotency-Key": "create-1"},
    )


class TestIdempotencyExpiryOnTheProcessClock:
    def test_one_microsecond_before_expiry_the_key_replays(
        self, client: TestClient, clock: FixedClock
    ) -> None:
        first = _create(client, "A")
        assert first.status_code == 201, first.text
        clock.advance(timedelta(hours=24) - timedelta(microseconds=1))

        replay = _create(client, "A")
        reused = _create(client, "B")

        assert replay.status_code == 201, replay.text
        assert replay.headers.get(REPLAYED) == "true"
        assert replay.json()["id"] == first.json()["id"]
        assert reused.status_code == 422, reused.text
        assert reused.json()["code"] == "idempotency_key_reused"

    def test_at_the_expiry_instant_the_key_is_free(
        self, client: TestClient, clock: FixedClock
    ) -> None:
        first = _create(client, "A")
        assert first.status_code == 201, first.text
        clock.advance(timedelta(hours=24))

        fresh = _create(client, "B")

        assert fresh.status_code == 201, fresh.text
        assert REPLAYED not in fresh.headers
        assert fresh.json()["name"] == "B"
        assert fresh.json()["id"] != first.json()["id"]


def _connect(client: TestClient, now: str = START) -> Client12:
    world = make_world(client, clock={"now": now})
    created = make_integration(client, world)
    return Client12(world, created, make_token(client, world, created["id"])["token"])


def _sent(client: TestClient, c: Client12, rent: str) -> httpx.Response:
    """A Send Balances call inside the workspace, on the workspace clock, with one key."""
    return client.post(
        "/v1/integration/balances",
        json={"bank_account": BANK, "residents": [line("t0001", rent=rent)]},
        headers=c.headers("sync-1"),
    )


class TestIdempotencyExpiryOnTheWorkspaceClock:
    def test_one_microsecond_before_expiry_the_key_replays(self, client: TestClient) -> None:
        c = _connect(client, MIDNIGHT)
        first = _sent(client, c, "750.00")
        assert first.status_code == 200, first.text
        advance(client, c.world.workspace_id, to=JUST_BEFORE_EXPIRY)

        replay = _sent(client, c, "750.00")
        reused = _sent(client, c, "800.00")

        assert replay.status_code == 200, replay.text
        assert replay.headers.get(REPLAYED) == "true"
        assert reused.status_code == 422, reused.text
        assert reused.json()["code"] == "idempotency_key_reused"

    def test_the_purge_at_the_expiry_instant_drops_the_key(self, client: TestClient) -> None:
        # Sent at midnight: the next midnight's purge runs at the very expiry instant.
        c = _connect(client, MIDNIGHT)
        first = _sent(client, c, "750.00")
        assert first.status_code == 200, first.text

        body = advance(client, c.world.workspace_id, to=EXPIRY)

        purges = [(j["due_at"], j["result"]) for j in body["jobs"] if "purged" in j["result"]]
        assert purges == [(EXPIRY, {"purged": 1})]
        fresh = _sent(client, c, "800.00")
        assert fresh.status_code == 200, fresh.text
        assert REPLAYED not in fresh.headers

    def test_at_the_expiry_instant_a_key_no_purge_dropped_is_free(self, client: TestClient) -> None:
        # Sent at 10:00 New York: no purge runs at its expiry instant, so the claim itself
        # must find the key expired.
        c = _connect(client)  # 2026-07-02T14:00:00Z
        first = _sent(client, c, "750.00")
        assert first.status_code == 200, first.text
        advance(client, c.world.workspace_id, to="2026-07-03T14:00:00Z")

        fresh = _sent(client, c, "800.00")

        assert fresh.status_code == 200, fresh.text
        assert REPLAYED not in fresh.headers
        assert roster(client, c)["t0001"]["amount"] == "800.00"
