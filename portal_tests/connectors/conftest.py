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

from portal.core import http
from portal_tests.factories import World, make_world
from portal_tests.reference.conftest import (
    PASSWORD,
    PORTFOLIO,
    PROPERTY,
    USER_ID,
    seed,
)
from portal_tests.reference.server import ThreadedReferenceServer
from portal_tests.reference_mri.conftest import CREDENTIAL as MRI_CREDENTIAL
from portal_tests.reference_mri.conftest import PROPERTY as MRI_PROPERTY
from portal_tests.reference_mri.conftest import seed as mri_seed
from portal_tests.reference_mri.server import ThreadedMriServer

MERCHANT_ID = "24"


@pytest.fixture(scope="module")
def esite() -> Iterator[ThreadedReferenceServer]:
    with ThreadedReferenceServer() as server:
        yield server


@pytest.fixture
def ref(esite: ThreadedReferenceServer) -> Iterator[httpx.Client]:
    """The reference server's admin API, its world reset to the fixtures' (portfolio, property
    001 with the fixture documents' units and leases)."""
    with http.client(base_url=esite.base, timeout=10) as admin:
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


# --- MRI (issue 17) -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mri_server() -> Iterator[ThreadedMriServer]:
    with ThreadedMriServer() as server:
        yield server


@pytest.fixture
def mri_ref(mri_server: ThreadedMriServer) -> Iterator[httpx.Client]:
    """The reference MRI's admin API, reset to the fixture's world: one login, property 500
    with its 8 residents (current, co-resident, old, other, new; lease 01|103|2 blocked)."""
    with http.client(base_url=mri_server.base, timeout=10) as admin:
        mri_seed(admin)
        yield admin


def mri_connection(server: ThreadedMriServer, **overrides: Any) -> dict[str, Any]:
    return {
        "url": server.api_url,
        "client_id": MRI_CREDENTIAL["client_id"],
        "database": MRI_CREDENTIAL["database"],
        "user": MRI_CREDENTIAL["user"],
        "partner_key": MRI_CREDENTIAL["partner_key"],
        "password": MRI_CREDENTIAL["password"],
        "property_ids": [MRI_PROPERTY],
        "daily_sync": False,
        **overrides,
    }


@dataclass
class MriIntegration:
    world: World
    integration: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.integration["id"])


@pytest.fixture
def mri(client: TestClient, mri_server: ThreadedMriServer, mri_ref: httpx.Client) -> MriIntegration:
    """A landlord world with an MRI integration connected to the reference MRI."""
    world = make_world(client, settings={"payments_per_resident_per_day": 10})
    created = client.post(
        "/v1/integrations",
        json={"name": "MRI", "kind": "mri", "connection": mri_connection(mri_server)},
        headers=world.landlord,
    )
    assert created.status_code == 201, created.text
    return MriIntegration(world=world, integration=created.json())
