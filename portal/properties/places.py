"""The place label: where a resident lives, as accounting clients show it (seed 000 §D's
grid), the one home of that rule (style.md B17)."""

from __future__ import annotations


def place_label(street: str, unit: str) -> str:
    """Where a resident lives, as accounting clients show it: the street with the unit, the
    street once (seed 000 §D's grid: ``2234 Chapala St #8``). A unit named with its whole
    address (``4500 Candelaria Rd NE Apt 101``) is shown as it is, a unit the street already
    names adds nothing. The one home of the place label (style.md B17): the Send Balances
    roster, the receipts and the work-order feed call it."""
    street, unit = street.strip(), unit.strip()
    if not unit or _names(street, unit):
        return street or unit
    if street and _names(unit, street):
        return unit
    return f"{street} {unit}" if street else unit


def _names(text: str, part: str) -> bool:
    """Whether ``text`` contains ``part`` as whole words, whatever the case: unit ``1`` is
    not named by ``2118 Oak Street``, unit ``2118`` is."""
    words = " ".join(part.casefold().split())
    return f" {words} " in f" {' '.join(text.casefold().split())} "
