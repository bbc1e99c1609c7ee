"""The accounting client's receipt-batch API (issue 7; seeds 000 §E and 004 §D; domain.md §8):
Check Server for More Batches, Load Receipts, Mark Processed / Unprocessed, History, Show Last
Error, the lockbox files, and who sees which batch."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from portal.core.money import parse_cents
from portal_tests.factories import (
    OPERATOR,
    World,
    bearer,
    load_oak_street,
    login,
    make_integration,
    make_token,
)
from portal_tests.payments.helpers import Payer, add_bank, add_card, pay
from portal_tests.residents.helpers import mailbox
from portal_tests.reversals.helpers import (
    MONDAY,
    et,
    integrated_payer,
    move,
    operator_return,
)

#: Seed 004's "Load Receipts from Inosio Server" dropdown, exactly (the $2,700.00 batch is the
#: one selected in its first screenshot).
SEED_LABELS = [
    "Deposit on 2/23/2022, $2,700.00, 3 items, Id: 2732388606925747",
    "Deposit on 2/23/2022, $50.00, 1 item, Id: 4524433009648478",
    "Deposit on 2/23/2022, $100.00, 1 item, Id: 9363081796946967",
    "Deposit on 2/23/2022, $1,032.00, 1 item, Id: 2774276343810105",
    "Deposit on 2/23/2022, $2,565.00, 4 items, Id: 6455186897846405",
    "Deposit on 2/23/2022, $1,450.00, 2 items, Id: 8177022708113454",
    "Deposit on 2/25/2022, $22.00, 1 item, Id: 2530688385335306",
    "Deposit on 2/25/2022, $41.00, 2 items, Id: 8760846393525238",
]


def get(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> Any:
    response = client.get(path, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def unprocessed(client: TestClient, auth: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = get(client, "/v1/integration/receipt-batches", auth, **params)[
        "data"
    ]
    return out


def history(client: TestClient, auth: dict[str, str]) -> list[dict[str, Any]]:
    return unprocessed(client, auth, state="processed")


def load_receipts(client: TestClient, auth: dict[str, str], batch_id: str) -> Any:
    return get(client, f"/v1/integration/receipt-batches/{batch_id}", auth)


def mark(client: TestClient, auth: dict[str, str], batch_id: str, state: str) -> Any:
    response = client.post(f"/v1/integration/receipt-batches/{batch_id}/{state}", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def oak(client: TestClient) -> tuple[dict[str, Any], dict[str, str]]:
    """The shipped Inosio world, loaded with ``portal seed``'s route; its token."""
    return load_oak_street(client)


class TestTheSeedsDialog:
    @pytest.mark.smoke
    def test_check_server_shows_the_seeds_labels_exactly(
        self, client: TestClient, oak: tuple[dict[str, Any], dict[str, str]]
    ) -> None:
        _ws, auth = oak

        listed = unprocessed(client, auth)

        assert [b["label"] for b in listed] == SEED_LABELS
        assert {(b["kind"], b["processed"]) for b in listed} == {("deposit", False)}
        first = listed[0]
        assert (first["id"], first["deposit_date"], first["total"], first["item_count"]) == (
            "2732388606925747",
            "2022-02-23",
            "2700.00",
            3,
        )

    @pytest.mark.smoke
    def test_load_receipts_gives_the_seeds_three_lines(
        self, client: TestClient, oak: tuple[dict[str, Any], dict[str, str]]
    ) -> None:
        _ws, auth = oak

        batch = load_receipts(client, auth, "2732388606925747")

        assert batch["label"] == SEED_LABELS[0]
        lines = [
            (r["date"], r["description"], r["amount"], r["unpaid_charges"])
            for r in batch["receipts"]
        ]
        assert lines == [
            ("2022-02-22", "Anthony Kmetz for 2118 Oak Street", "1200.00", "0.00"),
            ("2022-02-22", "Anthony Kmetz for 2118 Oak Street", "1000.00", "0.00"),
            ("2022-02-22", "Jerry and Karyl Rodriguez for 2118 Oak Street", "500.00", "980.00"),
        ]
        for r in batch["receipts"]:
            assert r["memo"].startswith("Inosio Transaction")
            assert f"Trans #{r['transaction_id']}" in r["memo"]
            assert "Batch #2732388606925747" in r["memo"]
            assert (r["property_id"], r["unit_id"], r["item"]) == ("OAK", "2118", "payment")
        assert [r["resident_id"] for r in batch["receipts"]] == ["t0001", "t0001", "t0002"]
        assert [r["method"] for r in batch["receipts"]] == ["bank_account", "bank_account", "card"]
        assert sum(parse_cents(r["amount"]) for r in batch["receipts"]) == parse_cents(
            batch["total"]
        )


class TestProcessedAndHistory:
    @pytest.mark.smoke
    def test_processed_moves_to_history_and_back_each_twice_harmless(
        self, client: TestClient, oak: tuple[dict[str, Any], dict[str, str]]
    ) -> None:
        _ws, auth = oak
        batch_id = "2732388606925747"
        before = load_receipts(client, auth, batch_id)

        first = mark(client, auth, batch_id, "processed")
        again = mark(client, auth, batch_id, "processed")

        assert first == again
        assert (first["processed"], first["processed_at"] is not None) == (True, True)
        assert batch_id not in [b["id"] for b in unprocessed(client, auth)]
        assert [b["id"] for b in history(client, auth)] == [batch_id]
        # Loading a processed batch again, for review, gives the same receipts.
        reloaded = load_receipts(client, auth, batch_id)
        assert reloaded["receipts"] == before["receipts"]
        assert reloaded["processed"] is True

        back = mark(client, auth, batch_id, "unprocessed")
        assert mark(client, auth, batch_id, "unprocessed") == back
        assert back["processed"] is False
        assert [b["label"] for b in unprocessed(client, auth)] == SEED_LABELS
        assert history(client, auth) == []

    def test_the_flag_belongs_to_the_integration(
        self, client: TestClient, oak: tuple[dict[str, Any], dict[str, str]]
    ) -> None:
        ws, auth = oak
        email, password = ws["landlord"]["email"], ws["landlord"]["password"]
        world = World(ws["id"], email, password, login(client, email, password), ws)
        second = make_integration(client, world, name="A second Landlord 12 database")
        other = bearer(make_token(client, world, second["id"])["token"])

        mark(client, auth, "2732388606925747", "processed")

        assert [b["label"] for b in unprocessed(client, other)] == SEED_LABELS
        assert history(client, other) == []


@dataclass
class Client:
    world: World
    payer: Payer
    integration: dict[str, Any]
    auth: dict[str, str]


@pytest.fixture
def landlord12(client: TestClient) -> Client:
    """An integrated payer on a property of external ID OAK; an integration with a token."""
    world, payer = integrated_payer(
        client, settings={"payments_per_resident_per_day": 9}, accounts=("rent", "security_deposit")
    )
    integration = make_integration(client, world)
    token = make_token(client, world, integration["id"])["token"]
    return Client(world, payer, integration, bearer(token))


def closed_monday(client: TestClient, c: Client, *amounts: str) -> list[dict[str, Any]]:
    """Payments of Monday 14:00 ET; the clock then moves past the cut-off (19:50)."""
    move(client, c.world, c.payer, et(MONDAY, "14:00:00"))
    source = add_bank(client, c.payer)["id"]
    made = [pay(client, c.payer, source, amount=a) for a in amounts]
    move(client, c.world, c.payer, et(MONDAY, "19:50:00"))
    return made


class TestWhatIsListed:
    def test_an_open_batch_is_not_yet_a_receipt_batch(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        move(client, c.world, c.payer, et(MONDAY, "14:00:00"))
        made = pay(client, c.payer, add_bank(client, c.payer)["id"])

        assert unprocessed(client, c.auth) == []
        response = client.get(
            f"/v1/integration/receipt-batches/{made['deposit_batch_id']}", headers=c.auth
        )
        assert response.status_code == 404
        assert response.json()["code"] == "receipt_batch_not_found"

        move(client, c.world, c.payer, et(MONDAY, "19:45:00"))
        [listed] = unprocessed(client, c.auth)
        assert listed["id"] == made["deposit_batch_id"]

    def test_a_batch_emptied_by_a_void_is_not_listed(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        move(client, c.world, c.payer, et(MONDAY, "14:00:00"))
        made = pay(client, c.payer, add_bank(client, c.payer)["id"])
        client.post(f"/v1/payments/{made['id']}/void", headers=c.world.landlord)

        move(client, c.world, c.payer, et("2026-07-07", "10:00:00"))

        assert unprocessed(client, c.auth) == []

    def test_newest_last_with_a_cursor_that_neither_skips_nor_repeats(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        days = ["2026-07-06", "2026-07-07", "2026-07-08", "2026-07-09", "2026-07-10"]
        for day in days:
            move(client, c.world, c.payer, et(day, "14:00:00"))
            pay(client, c.payer, add_bank(client, c.payer, f"55566{day[-2:]}77")["id"])
        move(client, c.world, c.payer, et("2026-07-13", "10:00:00"))

        seen: list[str] = []
        cursor = None
        while True:
            params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
            page = get(client, "/v1/integration/receipt-batches", c.auth, **params)
            seen += [b["business_date"] for b in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
            # A batch processed meanwhile does not shift the next page.
            mark(client, c.auth, page["data"][0]["id"], "processed")
        assert seen == days

    def test_another_integrations_property_is_404_and_unowned_is_shared(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        [made] = closed_monday(client, c, "980.00")
        other = make_integration(client, c.world, name="AMSI", kind="amsi")
        other_auth = bearer(make_token(client, c.world, other["id"])["token"])
        batch_id = made["deposit_batch_id"]
        # Nobody owns the property: both see the batch.
        assert [b["id"] for b in unprocessed(client, other_auth)] == [batch_id]

        owned = client.patch(
            f"/v1/properties/{c.payer.property_id}",
            json={"integration_id": other["id"]},
            headers=c.world.landlord,
        )
        assert owned.status_code == 200, owned.text

        assert unprocessed(client, c.auth) == []
        for path in ("", "/lockbox", "/processed"):
            method = client.post if path == "/processed" else client.get
            response = method(f"/v1/integration/receipt-batches/{batch_id}{path}", headers=c.auth)
            assert response.status_code == 404, path
        assert [b["id"] for b in unprocessed(client, other_auth)] == [batch_id]

    def test_another_workspaces_batch_is_404(self, client: TestClient, landlord12: Client) -> None:
        c = landlord12
        [made] = closed_monday(client, c, "980.00")
        stranger_world, _ = integrated_payer(client)
        stranger = make_integration(client, stranger_world)
        auth = bearer(make_token(client, stranger_world, stranger["id"])["token"])

        response = client.get(
            f"/v1/integration/receipt-batches/{made['deposit_batch_id']}", headers=auth
        )

        assert response.status_code == 404
        assert unprocessed(client, auth) == []

    def test_balances_sent_by_a_client_make_its_properties_its_own(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        sent = client.post(
            "/v1/integration/balances",
            json={
                "bank_account": {"account_number": "00037029011"},
                "residents": [
                    {
                        "resident_id": "t0005",
                        "property_id": "OAK",
                        "property_address": "2118 Oak Street",
                        "unit_id": "2118",
                        "unit": "2118",
                        "name": "Anthony Kmetz",
                        "email": "anthony@example.com",
                        "rent": "980.00",
                        "balance": "980.00",
                    }
                ],
            },
            headers=c.auth,
        )
        assert sent.status_code == 200, sent.text

        prop = client.get(f"/v1/properties/{c.payer.property_id}", headers=c.world.landlord)

        assert prop.json()["integration_id"] == c.integration["id"]


class TestReversals:
    def test_an_r01_after_the_deposit_is_a_reversal_batch_the_day_of_the_return(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        [made] = closed_monday(client, c, "980.00")
        move(client, c.world, c.payer, et("2026-07-08", "10:00:00"))
        mark(client, c.auth, made["deposit_batch_id"], "processed")
        returned = operator_return(client, c.world, made["id"], "R01").json()
        assert unprocessed(client, c.auth) == []  # the reversal batch is open until 19:45

        move(client, c.world, c.payer, et("2026-07-08", "19:45:00"))

        [listed] = unprocessed(client, c.auth)
        assert (listed["id"], listed["kind"], listed["total"]) == (
            returned["deposit_batch_id"],
            "reversal",
            "-980.00",
        )
        assert listed["label"] == (
            f"Reversal on 7/9/2026, -$980.00, 1 item, Id: {returned['deposit_batch_id']}"
        )
        [r] = load_receipts(client, c.auth, listed["id"])["receipts"]
        assert (r["item"], r["amount"], r["reason"], r["return_code"]) == (
            "reversal",
            "-980.00",
            "NSF",
            "R01",
        )
        assert r["original_transaction_id"] == made["transaction_id"]
        assert r["transaction_id"] == returned["transaction_id"]
        assert r["date"] == "2026-07-08"

    def test_a_return_before_the_deposit_is_a_negative_receipt_of_the_batch(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        move(client, c.world, c.payer, et(MONDAY, "14:00:00"))
        source = add_bank(client, c.payer)["id"]
        kept = pay(client, c.payer, source, amount="500.00")
        gone = pay(client, c.payer, source, amount="480.00")
        operator_return(client, c.world, gone["id"], "R01")
        move(client, c.world, c.payer, et(MONDAY, "19:50:00"))

        batch = load_receipts(client, c.auth, kept["deposit_batch_id"])

        assert (batch["total"], batch["item_count"]) == ("500.00", 3)
        assert [(r["item"], r["amount"]) for r in batch["receipts"]] == [
            ("payment", "500.00"),
            ("payment", "480.00"),
            ("reversal", "-480.00"),
        ]
        assert batch["label"].startswith("Deposit on 7/7/2026, $500.00, 3 items")


class TestLockbox:
    @pytest.mark.smoke
    def test_promas_parses_back_to_the_receipts_and_total(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        made = closed_monday(client, c, "500.00", "480.25")
        batch_id = made[0]["deposit_batch_id"]
        batch = load_receipts(client, c.auth, batch_id)

        response = client.get(
            f"/v1/integration/receipt-batches/{batch_id}/lockbox",
            params={"format": "promas"},
            headers=c.auth,
        )

        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        assert f"promas-{batch_id}.csv" in response.headers["content-disposition"]
        rows = list(csv.reader(io.StringIO(response.text)))
        assert rows == [
            [
                r["date"],
                r["unit_id"],
                r["amount"],
                f"Trans #{r['transaction_id']} Batch #{batch_id}",
                r["resident_id"],
            ]
            for r in batch["receipts"]
        ]
        assert sum(parse_cents(row[2]) for row in rows) == parse_cents(batch["total"])

    def test_boston_post_has_its_header_and_crlf(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        move(client, c.world, c.payer, et(MONDAY, "14:00:00"))
        made = [
            pay(client, c.payer, add_bank(client, c.payer)["id"], amount="500.00"),
            pay(client, c.payer, add_card(client, c.payer)["id"], amount="480.25"),
        ]
        move(client, c.world, c.payer, et(MONDAY, "19:50:00"))
        batch_id = made[0]["deposit_batch_id"]
        batch = load_receipts(client, c.auth, batch_id)

        text = client.get(
            f"/v1/integration/receipt-batches/{batch_id}/lockbox",
            params={"format": "bostonpost"},
            headers=c.auth,
        ).text

        assert text.endswith("\r\n")
        assert "\n" not in text.replace("\r\n", "")
        header, *rows = list(csv.reader(io.StringIO(text)))
        assert header == [
            "household_id",
            "unit_id",
            "total_pmt_amt",
            "due_date",
            "Route Number",
            "Account Number",
            "Check Number",
            "Check Amount",
            "Deposit Date",
        ]
        assert [dict(zip(header, row, strict=True)) for row in rows] == [
            {
                "household_id": "t0005",
                "unit_id": "2118",
                "total_pmt_amt": r["amount"],
                "due_date": "07012026",
                "Route Number": "110000000" if r["method"] == "bank_account" else "",
                "Account Number": "6789" if r["method"] == "bank_account" else "4242",
                "Check Number": r["transaction_id"],
                "Check Amount": r["amount"],
                "Deposit Date": "07072026",
            }
            for r in batch["receipts"]
        ]
        assert sum(parse_cents(row[2]) for row in rows) == parse_cents(batch["total"])

    def test_file_based_clients_get_the_files_with_the_batch_deposit_report(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        make_integration(client, c.world, name="MRI file", kind="mri", lockbox_format="bostonpost")
        [made] = closed_monday(client, c, "980.00")

        move(client, c.world, c.payer, et("2026-07-07", "07:00:00"))

        [mail] = mailbox(client, c.world, kind="batch_deposit_report")
        [attachment] = mail["attachments"]
        assert attachment["filename"] == f"bostonpost-{made['deposit_batch_id']}.csv"
        file = client.get(
            f"/v1/sandbox/workspaces/{c.world.workspace_id}/mailbox/{mail['id']}/attachments/1",
            headers=OPERATOR,
        )
        assert file.status_code == 200
        assert file.text.startswith("household_id,unit_id,")
        assert made["transaction_id"] in file.text
        missing = client.get(
            f"/v1/sandbox/workspaces/{c.world.workspace_id}/mailbox/{mail['id']}/attachments/2",
            headers=OPERATOR,
        )
        assert missing.status_code == 404

    def test_api_clients_get_no_files(self, client: TestClient, landlord12: Client) -> None:
        c = landlord12
        closed_monday(client, c, "980.00")

        move(client, c.world, c.payer, et("2026-07-07", "07:00:00"))

        [mail] = mailbox(client, c.world, kind="batch_deposit_report")
        assert mail["attachments"] == []


class TestShowLastError:
    def test_a_batch_not_found_is_the_last_error(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12

        client.get("/v1/integration/receipt-batches/0000000000000000", headers=c.auth)

        error = get(client, "/v1/integration/last-error", c.auth)["error"]
        assert (error["status"], error["code"]) == (404, "receipt_batch_not_found")
        assert error["path"] == "/v1/integration/receipt-batches/0000000000000000"

    def test_a_superseded_token_is_the_last_error(
        self, client: TestClient, landlord12: Client
    ) -> None:
        c = landlord12
        newer = bearer(make_token(client, c.world, c.integration["id"])["token"])

        refused = client.get("/v1/integration/receipt-batches", headers=c.auth)

        assert refused.status_code == 401
        error = get(client, "/v1/integration/last-error", newer)["error"]
        assert (error["status"], error["code"]) == (401, "token_revoked")
