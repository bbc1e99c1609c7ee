"""Issue 15 item 9: Send Balances can name a property's security-deposit account (seed 000 §C:
the bank accounts of the client's account codes; seed 002 "Security Deposits": those payments
post to the security deposit ledger and behave like rent payments), the intake creates it,
and security-deposit payments go to it, in that account's own deposit batches."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from portal_tests.balances.helpers import accept, send, sent
from portal_tests.balances.test_router import connect, line, problem
from portal_tests.payments.helpers import add_bank, batch, pay, post_payment

TRUST = {"account_number": "00037029099"}


def property_named(client: TestClient, landlord: dict[str, str], external_id: str) -> Any:
    response = client.get("/v1/properties", params={"external_id": external_id}, headers=landlord)
    assert response.status_code == 200, response.text
    [prop] = response.json()["data"]
    return prop


def accounts(client: TestClient, landlord: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/v1/deposit-accounts", headers=landlord)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


class TestSecurityDepositAccount:
    def test_intake_creates_the_named_account_and_deposits_go_to_it(
        self, client: TestClient
    ) -> None:
        c = connect(client)
        sent(
            client,
            c,
            [line("t0001")],
            properties=[{"property_id": "CHAP2234", "security_deposit_account": TRUST}],
        )
        prop = property_named(client, c.world.landlord, "CHAP2234")
        by_type = {a["type"]: a for a in accounts(client, c.world.landlord)}
        trust = by_type["security_deposit"]
        assert (trust["account_last4"], trust["property_ids"]) == ("9099", [prop["id"]])
        assert prop["deposit_accounts"]["security_deposit"] == trust["id"]
        assert prop["deposit_accounts"]["rent"] == by_type["rent"]["id"]

        payer = accept(client, c, "t0001@example.com")
        source = add_bank(client, payer)["id"]
        deposit = pay(client, payer, source, "500.00", type="security_deposit")

        held = batch(client, c.world, deposit["deposit_batch_id"])
        assert (held["deposit_type"], held["deposit_account_id"]) == (
            "security_deposit",
            trust["id"],
        )
        assert (held["total"], held["item_count"]) == ("500.00", 1)

    def test_without_it_a_security_deposit_has_nowhere_to_go(self, client: TestClient) -> None:
        c = connect(client)
        sent(client, c, [line("t0001")])
        payer = accept(client, c, "t0001@example.com")
        source = add_bank(client, payer)["id"]

        refused = post_payment(client, payer, source, "500.00", type="security_deposit")

        problem(refused, 409, "no_deposit_account")

    def test_a_second_call_keeps_the_account_and_adds_nothing(self, client: TestClient) -> None:
        c = connect(client)
        named = [{"property_id": "CHAP2234", "security_deposit_account": TRUST}]
        sent(client, c, [line("t0001")], properties=named)
        sent(client, c, [line("t0001")], properties=named)
        # Another account named later does not replace the one the property has.
        other = [{"property_id": "CHAP2234", "security_deposit_account": {"account_number": "5"}}]
        sent(client, c, [line("t0001")], properties=other)

        prop = property_named(client, c.world.landlord, "CHAP2234")
        trusts = [a for a in accounts(client, c.world.landlord) if a["type"] == "security_deposit"]
        served = {a["account_last4"]: a["property_ids"] for a in trusts}
        assert served == {"9099": [prop["id"]], "5": []}

    def test_a_property_of_no_row_is_refused_and_nothing_written(self, client: TestClient) -> None:
        c = connect(client)
        named = [
            {"property_id": "CHAP2234", "security_deposit_account": TRUST},
            {"property_id": "NOWHERE", "security_deposit_account": TRUST},
        ]

        body = problem(
            send(client, c, [line("t0001")], properties=named), 422, "unknown_property_id"
        )

        assert [(e["field"], e["row"]) for e in body["errors"]] == [
            ("$.properties[1].property_id", 1)
        ]
        assert accounts(client, c.world.landlord) == []

    def test_an_account_without_its_number_is_refused(self, client: TestClient) -> None:
        c = connect(client)
        named = [{"property_id": "CHAP2234", "security_deposit_account": {"routing_number": "1"}}]

        body = problem(
            send(client, c, [line("t0001")], properties=named), 422, "bank_account_missing"
        )

        assert body["errors"][0]["field"] == "$.properties[0].security_deposit_account"
        assert accounts(client, c.world.landlord) == []
