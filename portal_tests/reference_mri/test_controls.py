"""The property manager's side of the reference MRI (connectors.md §3.3 "Tester controls"):
batches read back and closed (by hand, or at the end of business day on the server clock), a
receipt voided, ``BlockEPayments`` flipped, residents moved, a pending move-in added, and the
behaviour switches."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from portal_tests.reference_mri.conftest import (
    LEASE_DETAILS,
    PENDING,
    PROPERTY,
    RENT_ROLL,
    Mri,
    batches,
    error_message,
    leases,
    payment_xml,
    records,
)

PAT = "01|102|1"


@pytest.fixture
def clock(seeded: httpx.Client) -> Iterator[httpx.Client]:
    """The server clock at 2016-06-24 10:00 in Chicago (15:00Z), end of day 17:00 there."""
    seeded.put("/_ref/clock", json={"now": "2016-06-24T15:00:00Z"})
    settings = {"end_of_day": "17:00", "time_zone": "America/Chicago"}
    assert seeded.patch("/_ref/settings", json=settings).status_code == 200
    yield seeded
    seeded.put("/_ref/clock", json={"system": True})


class TestBatches:
    def test_the_pinned_read_back(self, seeded: httpx.Client, mri: Mri) -> None:
        mri.post(payment_xml())
        mri.post(payment_xml(ExternalTransactionNumber="2", PaymentAmount="20.05"))
        response = seeded.get(f"/_ref/properties/{PROPERTY}/batches")
        batch = response.json()["data"][0]
        assert batch["external_batch_id"] == "325698"
        assert batch["batch_id"] == "00000000019001"
        assert batch["state"] == "open"
        assert batch["total"] == "520.05"
        assert [r["amount"] for r in batch["receipts"]] == ["500.00", "20.05"]
        receipt = batch["receipts"][0]
        assert (receipt["transaction_id"], receipt["resident_name_id"], receipt["status"]) == (
            "00000501PP",
            "0000000001",
            "posted",
        )
        listed = seeded.get(f"/_ref/properties/{PROPERTY}/receipts").json()["data"]
        assert [r["external_transaction_number"] for r in listed] == ["4567890", "2"]

    def test_close_all_one_property_or_one_batch(self, seeded: httpx.Client, mri: Mri) -> None:
        mri.post(payment_xml(ExternalTransactionNumber="1", ExternalBatchId="A"))
        mri.post(payment_xml(ExternalTransactionNumber="2", ExternalBatchId="B"))
        one = seeded.post("/_ref/batches/close", json={"external_batch_id": "A"}).json()
        assert [b["external_batch_id"] for b in one["data"]] == ["A"]
        assert one["data"][0]["close_reason"] == "admin"
        assert {k: b["state"] for k, b in batches(seeded).items()} == {"A": "closed", "B": "open"}
        rest = seeded.post("/_ref/batches/close").json()
        assert [b["external_batch_id"] for b in rest["data"]] == ["B"]
        missing = seeded.post("/_ref/batches/close", json={"property_id": "999"})
        assert missing.status_code == 404

    def test_end_of_day_closes_at_the_hour_on_the_server_clock(
        self, clock: httpx.Client, mri: Mri
    ) -> None:
        mri.post(payment_xml())
        clock.put("/_ref/clock", json={"now": "2016-06-24T21:59:00Z"})
        assert batches(clock)["325698"]["state"] == "open"
        clock.put("/_ref/clock", json={"now": "2016-06-24T22:30:00Z"})
        batch = batches(clock)["325698"]
        assert (batch["state"], batch["closed_at"], batch["close_reason"]) == (
            "closed",
            "2016-06-24T22:00:00Z",
            "end_of_day",
        )
        late = mri.post(payment_xml(ExternalTransactionNumber="2"))
        assert (error_message(late) or "").startswith("Batch closed")
        # A batch opened after the hour stays open until the next day's.
        mri.post(payment_xml(ExternalTransactionNumber="3", ExternalBatchId="325699"))
        clock.put("/_ref/clock", json={"now": "2016-06-25T21:00:00Z"})
        assert batches(clock)["325699"]["state"] == "open"
        clock.put("/_ref/clock", json={"now": "2016-06-25T22:00:00Z"})
        assert batches(clock)["325699"]["closed_at"] == "2016-06-25T22:00:00Z"


class TestVoid:
    def test_void_gives_the_balance_back_and_leaves_the_batch_total(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        mri.post(payment_xml())
        voided = seeded.post("/_ref/receipts/00000501PP/void", json={"reason": "nsf"})
        assert (voided.json()["status"], voided.json()["void_reason"]) == ("voided", "nsf")
        assert leases(seeded)[PAT]["balance"] == "1730.00"
        batch = batches(seeded)["325698"]
        assert (batch["total"], batch["count"], batch["totals"]["voided"]) == (
            "0.00",
            0,
            "500.00",
        )
        assert seeded.post("/_ref/receipts/00000501PP/void").status_code == 409
        assert seeded.post("/_ref/receipts/99999999PP/void").status_code == 404
        # The number stays used: a repost is still a duplicate.
        assert (error_message(mri.post(payment_xml())) or "").startswith("Duplicate")


class TestLeasesAndResidents:
    def test_flip_block_epayments_and_set_the_balance(self, seeded: httpx.Client, mri: Mri) -> None:
        path = f"/_ref/properties/{PROPERTY}/leases/01/102/1"
        lease = seeded.patch(path, json={"block_epayments": True, "balance": "99.99"}).json()
        assert (lease["block_epayments"], lease["balance"]) == (True, "99.99")
        assert lease["ledger"][-1]["kind"] == "adjustment"
        got = {
            r["ResidentNameID"]: r for r in records(mri.get(LEASE_DETAILS, "json", RMPROPID="500"))
        }
        assert (got["0000000001"]["BlockEPayments"], got["0000000001"]["LeaseBalance"]) == (
            "Y",
            "99.99",
        )
        roll = records(mri.get(RENT_ROLL, "json", PROPERTYID="500", UNITID="102"))
        assert roll[0]["BlockEPayments"] == "Y"
        assert seeded.patch(path.replace("/1", "/9"), json={}).status_code == 404
        bad = seeded.patch(path, json={"balance": "1.234"})
        assert bad.status_code == 422

    def test_move_residents_between_current_old_and_new(
        self, seeded: httpx.Client, mri: Mri
    ) -> None:
        base = f"/_ref/properties/{PROPERTY}/residents"
        seeded.patch(f"{base}/0000000001", json={"status": "Old"})
        seeded.patch(f"{base}/0000000002", json={"status": "New", "email": "sam@example.com"})
        got = {
            r["ResidentNameID"]: r for r in records(mri.get(LEASE_DETAILS, "json", RMPROPID="500"))
        }
        assert (got["0000000001"]["ResidentStatus"], got["0000000001"]["IsCurrent"]) == ("Old", "N")
        assert (got["0000000002"]["ResidentStatus"], got["0000000002"]["IsCurrent"]) == ("New", "Y")
        assert got["0000000002"]["Email"] == "sam@example.com"
        pending = records(mri.get(PENDING, "json", PropertyID="500"))
        assert [r["ResidentID"] for r in pending] == ["0000000002", "0000000006"]
        assert seeded.patch(f"{base}/nobody", json={"status": "Old"}).status_code == 404
        assert seeded.patch(f"{base}/0000000001", json={"status": "Gone"}).status_code == 422

    def test_add_a_pending_move_in(self, seeded: httpx.Client, mri: Mri) -> None:
        body = {
            "resident_name_id": "00S0009003",
            "first_name": "Future",
            "last_name": "Tenant",
            "building_id": "01",
            "unit_id": "103",
            "scheduled_move_in": "2016-09-01",
            "lease_end": "2017-08-31",
            "rent": "875.00",
            "balance": "875.00",
            "email": "future@example.com",
        }
        path = f"/_ref/properties/{PROPERTY}/pending-move-ins"
        created = seeded.post(path, json=body)
        assert created.status_code == 201, created.text
        lease = created.json()
        assert (lease["lease_id"], lease["balance"], lease["rent"]) == ("3", "875.00", "875.00")
        pending = records(mri.get(PENDING, PropertyID="500"))
        assert pending[-1]["ResidentID"] == "00S0009003"
        assert pending[-1]["ScheduledMoveInDate"] == "2016-09-01T00:00:00.0000000"
        details = records(mri.get(LEASE_DETAILS, "json", RMPROPID="500"))
        assert details[-1]["ResidentNameID"] == "00S0009003"
        assert (details[-1]["BuildingAddress"], details[-1]["LeaseBalance"]) == (
            "9951 Acklin Drive",
            "875.00",
        )
        paid = records(mri.post(payment_xml(ResidentNameID="00S0009003")))[0]
        assert paid["TransactionID"] == "00000501PP"
        assert seeded.post(path, json=body).status_code == 409


class TestSettings:
    def test_read_and_change(self, seeded: httpx.Client) -> None:
        defaults = seeded.get("/_ref/settings").json()
        assert defaults == {
            "duplicates": "reject",
            "duplicate_check_number": False,
            "over_length": "reject",
            "block_epayments": "accept",
            "negative_amounts": "reject",
            "skip": "start_row",
            "page_size": 300,
            "end_of_day": None,
            "time_zone": "UTC",
            "control_total": "ignore",
        }
        changed = seeded.patch("/_ref/settings", json={"end_of_day": "17:00"}).json()
        assert changed["end_of_day"] == "17:00"
        cleared = seeded.patch("/_ref/settings", json={"end_of_day": None}).json()
        assert cleared["end_of_day"] is None

    @pytest.mark.parametrize(
        "body",
        [{"end_of_day": "5pm"}, {"time_zone": "Mars/Base"}, {"page_size": 0}, {"nope": 1}],
    )
    def test_bad_switches_are_422(self, seeded: httpx.Client, body: dict[str, object]) -> None:
        response = seeded.patch("/_ref/settings", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_failed"
