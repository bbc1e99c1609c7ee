"""The AMSI import, the rows: what one eSite lease becomes in the portal (the vendor-neutral
``imports.rows.Wanted``), or why it cannot be imported (connectors.md §1.4, §1.9). Pure
functions of the answers and the workspace's date.

- The key is the unit's ``PropertyId|BldgID|UnitID`` and the ``ResiID``: ResiID is unique only
  within a unit (§0.6). A lease read twice (in the ``C`` and the ``N`` answer, its status
  changed between the calls) is taken once, the first time.
- A lease is imported only with its unit in the ``GetPropertyUnits`` answer (§1.4: RT skipped
  such a lease with an alert), a ResiID of its own (not AMSI's whole Property-Building-Unit-ResiID
  string, seed 001: ``leases.amsi_full_id_refusal``, the one home of that rule), at least one
  occupant, and values that read. Anything else errs the row with a reason; it never stops the
  others.
- Every ``<Occupant>`` is a resident (§1.9), named ``OccuFirstName OccuLastName``, with the
  occupant's own ``Email``; the first ``Responsible`` one is the primary (INFERENCE, §1.9, §4.11;
  the first occupant when none is responsible).
- A new property gets the street its units share (GetPropertyUnits carries no property
  address); a new unit is named with its ``address1`` (the address RT took from
  GetPropertyUnits), with ``#UnitId`` when several units share it, or its UnitId without one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

from portal.connectors.amsi import leasing
from portal.connectors.imports.rows import (
    ID_MAX,
    NAME_MAX,
    PHONE_MAX,
    Address,
    Person,
    Plan,
    Wanted,
    error_entry,
    is_email,
    shared_address,
)
from portal.residents import leases as leases_service
from portal.residents.models import PaymentsSetting
from portal.residents.service import normalize_email


def plan(
    property_id: str, units: list[leasing.Unit], leases: list[leasing.Lease], today: date
) -> Plan:
    """Sort a property's leases into the ones to apply and the erred ones."""
    out = Plan(
        property_id=property_id,
        address=shared_address([Address(u.address1, u.city, u.state, u.zip) for u in units]),
        label=f"AMSI property {property_id}",
        units_read=len(units),
    )
    by_key = {unit.key: unit for unit in units}
    names = _unit_names(units)
    seen: set[tuple[str, str]] = set()
    for lease in leases:
        # A lease without its PropertyId is the property asked for.
        lease = lease if lease.property_id else replace(lease, property_id=property_id)
        if (lease.unit_key, lease.resi_id) in seen:
            continue
        seen.add((lease.unit_key, lease.resi_id))
        out.leases_read += 1
        reason = refusal(lease, property_id, by_key, today)
        if reason is not None:
            out.errors.append(
                error_entry(
                    lease.property_id, lease.bldg_id, lease.unit_id, lease.resi_id or None, reason
                )
            )
            continue
        out.wanted.append(
            Wanted(
                key=lease.unit_key,
                unit_name=names[lease.unit_key],
                resident_id=lease.resi_id,
                property_id=lease.property_id,
                bldg_id=lease.bldg_id,
                unit_id=lease.unit_id,
                balance_cents=lease.end_balance_cents,
                rent_cents=rent_cents(lease),
                start_date=lease.lease_begin or lease.move_in,
                end_date=end_date(lease, today),
                move_in=lease.move_in,
                accounting_payments=payments_flag(lease),
                people=people(lease),
            )
        )
    return out


def refusal(
    lease: leasing.Lease, property_id: str, units: dict[str, leasing.Unit], today: date
) -> str | None:
    """Why this lease cannot be imported, or None."""
    where = (
        f"PropertyId {lease.property_id}, BldgID {lease.bldg_id}, UnitID {lease.unit_id}, "
        f"ResiID {lease.resi_id or '(empty)'}"
    )
    if lease.problem is not None:
        return f"{where}: {lease.problem}"
    if not lease.resi_id:
        return f"{where}: the lease has no ResiID (the portal keys AMSI leases by it, §1.8)"
    if lease.property_id != property_id:
        return f"{where}: the lease names another property than the {property_id} asked for"
    if (full_id := leases_service.amsi_full_id_refusal(lease.resi_id)) is not None:
        return f"{where}: {full_id.detail}"
    if len(lease.resi_id) > ID_MAX or len(lease.unit_key) > ID_MAX:
        return f"{where}: the IDs are longer than the portal keeps ({ID_MAX} characters)"
    if lease.unit_key not in units:
        # RT joined leases to units and skipped a lease without one, with an alert (§1.4).
        return f"{where}: the unit is not in the GetPropertyUnits answer; the lease is skipped"
    if not lease.occupants:
        return f"{where}: the lease has no Occupant (each occupant is a resident, §1.9)"
    for n, occupant in enumerate(lease.occupants, 1):
        if not occupant.name:
            return f"{where}: Occupant[{n}] has neither OccuFirstName nor OccuLastName"
        if len(occupant.name) > NAME_MAX:
            return f"{where}: Occupant[{n}]'s name is over {NAME_MAX} characters"
        if occupant.email and not is_email(occupant.email):
            return f"{where}: Occupant[{n}]@Email {occupant.email!r} is not an e-mail address"
    if lease.actual_move_out is not None and lease.actual_move_out <= today:
        # RT's import made such a resident past (§1.9); the portal imports current residents.
        return f"{where}: moved out on {lease.actual_move_out.isoformat()} (ActualMoveOutDate)"
    return None


def rent_cents(lease: leasing.Lease) -> int:
    """§1.9: ``rentamount``, or when that is 0 the ``Amount`` of the first monthly ``RENT``
    recurring charge. RT took the charge for ``occustatuscode`` C only; the portal takes it for
    notice leases too, which owe rent until they leave (their rent was 0 in RT)."""
    if lease.rent_amount_cents:
        return lease.rent_amount_cents
    for charge in lease.recurring_charges:
        if charge.inc_code == "RENT" and charge.freq_code == "M":
            return charge.amount_cents
    return 0


def end_date(lease: leasing.Lease, today: date) -> date | None:
    """§1.9: month-to-month (the portal's end date None) once ``leaseenddate`` has passed
    without an ``ActualMoveOutDate``; else ``leaseenddate``."""
    if lease.lease_end is not None and lease.lease_end < today and lease.actual_move_out is None:
        return None
    return lease.lease_end


def payments_flag(lease: leasing.Lease) -> PaymentsSetting:
    """§1.9, seed 001 "Blocking Payments": ``BlockPaymentAccess`` ``y``/``Y`` blocks online
    payment; ``BlockAllAccess`` and ``CreditStatus`` were ignored by RT and are here."""
    return PaymentsSetting.BLOCKED if lease.block_payment_access else PaymentsSetting.ALLOWED


def people(lease: leasing.Lease) -> tuple[Person, ...]:
    """Every occupant, the primary (the first ``Responsible`` one) first."""
    occupants = list(lease.occupants)
    primary = next((o for o in occupants if o.responsible), occupants[0])
    ordered = [primary] + [o for o in occupants if o is not primary]
    return tuple(
        Person(
            name=o.name,
            email=normalize_email(o.email),
            phone=o.phone[:PHONE_MAX] if o.phone else None,
        )
        for o in ordered
    )


def _unit_names(units: list[leasing.Unit]) -> dict[str, str]:
    """A unit is named with its ``address1`` (the unit's own address, so the place label shows
    it whole: ``places.place_label``), with ``#UnitId`` when several units share that address,
    or its UnitId when it has none."""
    shared = Counter(u.address1 for u in units if u.address1)
    return {
        u.key: u.unit_id
        if not u.address1
        else (f"{u.address1} #{u.unit_id}" if shared[u.address1] > 1 else u.address1)
        for u in units
    }
