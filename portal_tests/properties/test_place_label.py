"""The place label (street + unit), the one function the roster, the receipts and the
work-order feed call (issue 15 "one home per rule", style.md B17)."""

from __future__ import annotations

import pytest

from portal.properties.places import place_label


@pytest.mark.smoke
@pytest.mark.parametrize(
    ("street", "unit", "label"),
    [
        # Seed 000 §D's grid.
        ("2234 Chapala St", "#8", "2234 Chapala St #8"),
        ("2232 Chapala St", "", "2232 Chapala St"),
        # A unit named with its whole address: the street once.
        ("2234 Chapala St", "2234 Chapala St #8", "2234 Chapala St #8"),
        (
            "4500 Candelaria Rd NE",
            "4500 candelaria rd NE  Apt 101",
            "4500 candelaria rd NE  Apt 101",
        ),
        # A unit the street already names adds nothing; one it does not, stays.
        ("2118 Oak Street", "2118", "2118 Oak Street"),
        ("2118 Oak Street", "1", "2118 Oak Street 1"),
        ("4500 Candelaria Rd NE Apt 101", "Apt 1", "4500 Candelaria Rd NE Apt 101 Apt 1"),
        ("", "Willow Brooke 201", "Willow Brooke 201"),
        ("  ", "", ""),
    ],
)
def test_the_street_appears_once(street: str, unit: str, label: str) -> None:
    assert place_label(street, unit) == label
