"""A whole eSite world from one seed document (issue 16 "Scenario"): ``portal reference amsi
--seed FILE`` and ``POST /_ref/seed``, checked whole before anything is applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from portal.cli import app as cli
from portal.reference.amsi import seeding
from portal.reference.amsi.state import World
from portal_tests.reference.conftest import FIXTURES
from portal_tests.reference.server import ReferenceServer

SHIPPED = Path(__file__).resolve().parents[2] / "seed_data" / "esite" / "newport.json"


def _seed(**property_: Any) -> dict[str, Any]:
    return {
        "portfolios": [
            {
                "name": "Newport",
                "user_id": "rt",
                "password": "pw",
                "properties": [{"property_id": "001", **property_}],
            }
        ]
    }


def test_the_shipped_seed_loads_its_units_and_leases() -> None:
    world = World()
    counts = seeding.apply(world, json.loads(SHIPPED.read_text()), base=SHIPPED.parent)
    assert counts == {"portfolios": 1, "properties": 1, "units": 4, "leases": 4}
    leases = world.portfolios["Newport Portfolio"].properties["001"].leases
    # ResiID 4 in two units: the key is the unit and the ResiID (connectors.md §0.6).
    assert {k for k in leases if k[2] == "4"} == {("01", "102", "4"), ("01", "104", "4")}


def test_a_seed_file_may_name_the_vendors_own_documents(tmp_path: Path) -> None:
    for name in ("AMSI-GetPropertyUnits.xml", "AMSI-GetPropertyResidents.xml"):
        (tmp_path / name).write_bytes((FIXTURES / name).read_bytes())
    seed = _seed(
        units_xml="AMSI-GetPropertyUnits.xml", residents_xml="AMSI-GetPropertyResidents.xml"
    )
    counts = seeding.apply(World(), seed, base=tmp_path)
    assert counts["units"] > 0
    assert counts["leases"] > 0


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        ({"portfolios": [{"name": "N", "user_id": "u"}]}, "portfolios[0].password"),
        (_seed(units=[{"BldgId": "01"}]), "portfolios[0].properties[0]"),
        (_seed(residents_xml="missing.xml"), "cannot read"),
        ([1, 2], "'portfolios' list"),
    ],
)
def test_a_bad_seed_names_where_and_changes_nothing(seed: Any, message: str) -> None:
    world = World()
    with pytest.raises(seeding.SeedError, match=message.replace("[", r"\[").replace("]", r"\]")):
        seeding.apply(world, seed, base=Path("/nonexistent"))
    assert world.portfolios == {}


def test_post_seed_over_the_admin_api(ref_admin: httpx.Client) -> None:
    assert ref_admin.post("/_ref/reset").status_code == 204
    loaded = ref_admin.post("/_ref/seed", json=json.loads(SHIPPED.read_text()))
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["leases"] == 4
    bad = ref_admin.post("/_ref/seed", json={"portfolios": [{"name": "x"}]})
    assert bad.status_code == 400
    assert bad.json()["code"] == "malformed_document"
    xml = ref_admin.post("/_ref/seed", content=b"<a/>", headers={"Content-Type": "application/xml"})
    assert xml.status_code == 415


def test_the_cli_starts_with_a_seed_file(tmp_path: Path) -> None:
    class Seeded(ReferenceServer):
        def command(self) -> list[str]:
            return [*super().command(), "--seed", str(SHIPPED)]

    with Seeded(tmp_path / "amsi.log") as server:
        leases = httpx.get(
            f"{server.base}/_ref/portfolios/Newport%20Portfolio/properties/001/leases"
        ).json()["data"]
    assert len(leases) == 4


def test_the_cli_refuses_a_bad_seed_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"portfolios": [{"name": "x"}]}')
    result = CliRunner().invoke(cli, ["reference", "amsi", "--seed", str(bad)])
    assert result.exit_code == 2
    assert "portfolios[0].user_id" in result.output
    assert "Traceback" not in result.output
