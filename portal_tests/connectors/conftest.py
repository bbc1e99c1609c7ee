"""Fixtures for the connectors' tests: a real reference eSite on a free port (one per module,
reset and seeded with the vendor's fixture documents before each test), and an AMSI
integration of a test world pointing at it. The portal reaches it only over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from portal_tests.factories import World, make_world
from portal_tests.reference.conftest import (
    PASSWORD,
    PORTFOLIO,
    PROPERTY,
    USER_ID,
    seed,
)
from portal_tests.reference.server import ThreadedReferenceServer

MERCHANT_ID = "24"


@pytest.fixture(scope="module")
def esite() -> Iterator[ThreadedReferenceServer]:
    with ThreadedReferenceServer() as server:
        yield server


@pytest.fixture
def ref(esite: ThreadedReferenceServer) -> Iterator[httpx.Client]:
    """The reference server's admin API, its world reset to the fixtures' (portfolio, property
    001 with the fixture documents' units and leases)."""
    with httpx.Client(base_url=esite.base, timeout=10) as admin:
        seed(admin)
        yield admin


def connection(esite: ThreadedReferenceServer, **overrides: Any) -> dict[str, Any]:
    return {
        "url": esite.esite_url,
        "portfolio": PORTFOLIO,
        "user_id": USER_ID,
        "password": PASSWORD,
        "merchant_id": MERCHANT_ID,
        "property_ids": [PROPERTY],
        # Tests that advance the clock import only when they mean to (test_amsi_daily_sync).
        "daily_sync": False,
        **overrides,
    }


@dataclass
class Amsi:
    world: World
    integration: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.integration["id"])


@pytest.fixture
def amsi(client: TestClient, esite: ThreadedReferenceServer, ref: httpx.Client) -> Amsi:
    """A landlord world with an AMSI integration connected to the reference eSite."""
    # Several payments a day per resident: a day's journal with more than one item.
    world = make_world(client, settings={"payments_per_resident_per_day": 10})
    created = client.post(
        "/v1/integrations",
        json={"name": "eSite", "kind": "amsi", "connection": connection(esite)},
        headers=world.landlord,
    )
    assert created.status_code == 201, created.text
    return Amsi(world=world, integration=created.json())
