"""A whole MRI world from one seed document: ``portal reference mri --seed FILE`` and
``POST /_ref/seed``, checked whole before anything is applied."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.reference.mri import seeding
from portal.reference.mri.state import World
from portal_tests.reference_mri.conftest import CREDENTIAL, FIXTURES, RESIDENTS_XML, leases

NOW = datetime(2016, 6, 24, 15, 0, tzinfo=UTC)


def seed_document(**property_: Any) -> dict[str, Any]:
    return {
        "credentials": [CREDENTIAL],
        "properties": [{"property_id": "500", **property_}],
        "settings": {"end_of_day": "17:00", "time_zone": "America/Chicago"},
    }


def write_seed(tmp_path: Path, data: dict[str, Any]) -> Path:
    (tmp_path / RESIDENTS_XML).write_bytes((FIXTURES / RESIDENTS_XML).read_bytes())
    path = tmp_path / "mri.json"
    path.write_text(json.dumps(data))
    return path


def test_a_seed_file_may_name_mris_own_document(tmp_path: Path) -> None:
    path = write_seed(tmp_path, seed_document(residents_xml=RESIDENTS_XML))
    world = World()
    counts = seeding.apply(world, json.loads(path.read_text()), now=NOW, base=tmp_path)
    assert counts["credentials"] == 1
    assert counts["properties"][0]["residents"] == 8
    assert world.switches.end_of_day == "17:00"
    assert world.login(f"C000123/RTDB/RTAPI/{CREDENTIAL['partner_key']}", "s3cret!") is not None


def test_residents_and_charges_as_json() -> None:
    value = [
        {
            "ResidentNameID": "1",
            "BuildingID": "A",
            "UnitID": "1",
            "LeaseID": "1",
            "ResidentStatus": "Current",
            "LeaseBalance": "5.00",
        }
    ]
    charges = [
        {
            "BuildingID": "A",
            "UnitID": "1",
            "LeaseID": "1",
            "ChargeCode": "SEC",
            "Amount": "100.00",
            "UnpaidAmount": "100.00",
        }
    ]
    world = World()
    seeding.apply(world, seed_document(residents={"value": value}, charges=charges), now=NOW)
    lease = world.properties["500"].leases[("A", "1", "1")]
    assert lease.balance_cents == 500
    assert [c.charge_code for c in lease.charges] == ["SEC"]


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"credentials": [{**CREDENTIAL, "user": ""}]}, "credentials[0].user"),
        ({"properties": [{"property_id": ""}]}, "properties[0].property_id"),
        ({"properties": [{"property_id": "1", "residents_xml": "nope.xml"}]}, "cannot read"),
        (
            {"properties": [{"property_id": "1", "residents": {"value": [{"X": "1"}]}}]},
            "properties[0]: value[0].ResidentNameID is missing",
        ),
        ({"settings": {"end_of_day": "25:00"}}, "settings.end_of_day"),
        ({"settings": []}, "settings must be an object"),
    ],
)
def test_a_bad_seed_changes_nothing(tmp_path: Path, change: dict[str, Any], detail: str) -> None:
    world = World()
    before = world.counters()
    with pytest.raises(seeding.SeedError, match=detail.replace("[", r"\[").replace("]", r"\]")):
        seeding.apply(world, {**seed_document(), **change}, now=NOW, base=tmp_path)
    assert (world.credentials, world.properties, world.counters()) == ({}, {}, before)
    assert world.switches.end_of_day is None


def test_post_seed(seeded: httpx.Client) -> None:
    value = [
        {
            "ResidentNameID": "1",
            "BuildingID": "A",
            "UnitID": "1",
            "LeaseID": "1",
            "ResidentStatus": "Current",
            "LeaseBalance": "5.00",
        }
    ]
    body = {"properties": [{"property_id": "600", "residents": {"value": value}}]}
    response = seeded.post("/_ref/seed", json=body)
    assert response.status_code == 200, response.text
    assert leases(seeded, "600")["A|1|1"]["balance"] == "5.00"
    bad = seeded.post(
        "/_ref/seed", json={"properties": [{"property_id": "601", "residents_xml": "x"}]}
    )
    assert bad.status_code == 400
    assert "only be named in a seed file" in bad.json()["detail"]
    xml = seeded.post("/_ref/seed", content=b"<a/>", headers={"Content-Type": "application/xml"})
    assert xml.status_code == 415


def test_the_cli_refuses_a_bad_seed_in_one_line(tmp_path: Path) -> None:
    path = write_seed(tmp_path, seed_document(residents_xml="missing.xml"))
    result = CliRunner().invoke(cli, ["reference", "mri", "--seed", str(path)])
    assert result.exit_code == 2
    assert "cannot read" in result.output
