"""Every reversal move outside the transition tables is a 409 (issue 6, acceptance 5): each
action tried on a payment in each status, ACH for returns and cards for chargebacks."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from portal.core.errors import InvalidTransition
from portal.core.ids import IdMinter
from portal.payments.models import (
    PAYMENT_TRANSITIONS,
    Payment,
    PaymentStatus,
    ReversalKind,
)
from portal.reversals import service
from portal.reversals.models import DISPUTE_TRANSITIONS, DisputeStatus
from portal_tests.factories import World
from portal_tests.payments.helpers import Payer, add_bank, add_card, pay
from portal_tests.reversals.helpers import (
    MONDAY,
    check,
    et,
    integrated_payer,
    move,
    operator_chargeback,
    operator_return,
    payment,
)

STATES = ("scheduled", "processing", "completed", "cancelled", "refunded", "reversed")


def build(client: TestClient, method: str) -> tuple[World, Payer, dict[str, str]]:
    """One payment in each state, paid by ``method``; the clock ends Wednesday 10:00, before
    any cut-off of the processing payment's day (made Wednesday)."""
    world, payer = integrated_payer(client, settings={"payments_per_resident_per_day": 20})
    move(client, world, payer, et(MONDAY, "14:00:00"))
    source = (add_bank if method == "bank" else add_card)(client, payer)["id"]
    ids = {
        "completed": pay(client, payer, source, amount="1.00")["id"],
        "refunded": pay(client, payer, source, amount="2.00")["id"],
        "reversed": pay(client, payer, source, amount="3.00")["id"],
    }
    move(client, world, payer, et("2026-07-08", "10:00:00"))
    ids["scheduled"] = pay(client, payer, source, amount="4.00", date="2026-07-20")["id"]
    ids["processing"] = pay(client, payer, source, amount="5.00")["id"]
    ids["cancelled"] = pay(client, payer, source, amount="6.00")["id"]
    assert client.post(f"/v1/payments/{ids['cancelled']}/void", headers=world.landlord).is_success
    assert client.post(f"/v1/payments/{ids['refunded']}/refund", headers=world.landlord).is_success
    reverse = operator_return if method == "bank" else operator_chargeback
    code = "R01" if method == "bank" else "10.4"
    assert reverse(client, world, ids["reversed"], code).status_code == 201
    return world, payer, ids


Action = Callable[[TestClient, World, str], httpx.Response]


def _void(client: TestClient, world: World, pid: str) -> httpx.Response:
    return client.post(f"/v1/payments/{pid}/void", headers=world.landlord)


def _refund(client: TestClient, world: World, pid: str) -> httpx.Response:
    return client.post(f"/v1/payments/{pid}/refund", headers=world.landlord)


def _return(client: TestClient, world: World, pid: str) -> httpx.Response:
    return operator_return(client, world, pid, "R01")


def _chargeback(client: TestClient, world: World, pid: str) -> httpx.Response:
    return operator_chargeback(client, world, pid, "10.4")


#: (action, method it applies to, states it is allowed from, its 409 code).
ACTIONS: list[tuple[str, Action, str, set[str], str]] = [
    ("void", _void, "bank", {"scheduled", "processing"}, "payment_not_voidable"),
    ("refund", _refund, "bank", {"completed"}, "payment_not_refundable"),
    ("return", _return, "bank", {"processing", "completed"}, "payment_not_returnable"),
    ("chargeback", _chargeback, "card", {"processing", "completed"}, "payment_not_chargeable"),
]


@pytest.mark.parametrize(
    ("name", "action", "method", "allowed", "code"),
    ACTIONS,
    ids=[a[0] for a in ACTIONS],
)
def test_each_action_from_each_status(
    client: TestClient,
    engine: Engine,
    name: str,
    action: Action,
    method: str,
    allowed: set[str],
    code: str,
) -> None:
    world, _payer, ids = build(client, method)
    before = {state: payment(client, world, pid) for state, pid in ids.items()}

    outcome = {state: action(client, world, pid) for state, pid in ids.items()}

    for state in STATES:
        response = outcome[state]
        if state in allowed:
            assert response.is_success, f"{name} from {state}: {response.text}"
        else:
            assert response.status_code == 409, f"{name} from {state}: {response.text}"
            assert response.json()["code"] == code, f"{name} from {state}"
            # A refused move leaves the payment as it was.
            assert payment(client, world, ids[state]) == before[state], state
    assert check(engine, world) == []


def test_the_service_refuses_a_move_outside_the_payment_table(
    client: TestClient, engine: Engine
) -> None:
    world, payer = integrated_payer(client)
    made = pay(client, payer, add_bank(client, payer)["id"])
    with Session(engine) as session:
        p = session.get(Payment, (world.workspace_id, made["id"]))
        assert p is not None
        ids = IdMinter(session, world.workspace_id, 7)
        with pytest.raises(InvalidTransition):
            service.apply(
                session,
                ids,
                [service.Reverse(p, ReversalKind.REFUND, PaymentStatus.REFUNDED)],
                settings={},
                now=p.initiated_at,
                initiated_by="test",
            )
        session.rollback()


def test_the_tables_have_every_status_and_only_reachable_ends() -> None:
    assert set(PAYMENT_TRANSITIONS) == set(PaymentStatus)
    assert set(DISPUTE_TRANSITIONS) == set(DisputeStatus)
    ends = {s for s, nxt in PAYMENT_TRANSITIONS.items() if not nxt}
    assert ends == {PaymentStatus.CANCELLED, PaymentStatus.REFUNDED, PaymentStatus.RETURNED}
    # A won dispute puts a charged-back payment back to completed (and nothing else does).
    assert PAYMENT_TRANSITIONS[PaymentStatus.CHARGED_BACK] == {PaymentStatus.COMPLETED}
    assert {s for s, nxt in DISPUTE_TRANSITIONS.items() if not nxt} == {
        DisputeStatus.WON,
        DisputeStatus.LOST,
    }
