"""Balance intake, the roster: the client's grid of the residents an integration sent (seed
S0: Status, Resident, Email, Phone, Property, Amount, Last Payment, Balance), by resident ID."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from portal.core.pagination import keyset
from portal.properties.places import place_label
from portal.residents.intake_rows import CLIENT_STATUS
from portal.residents.models import AccountingRecord, Lease, LeaseResident, Resident, ResidentStatus


@dataclass(frozen=True)
class RosterLine:
    resident_id: str
    lease_id: str
    status: str
    name: str
    email: str | None
    phone: str | None
    property: str
    rent_cents: int
    balance_cents: int
    disputed_cents: int


def roster(
    session: Session, ws: str, integration_id: str, *, after: str | None, limit: int
) -> list[RosterLine]:
    """The client's grid (seed S0: Status, Resident, Email, Phone, Property, Amount, Last
    Payment, Balance) for the residents this integration sent, by resident ID."""
    query = (
        select(AccountingRecord, Lease)
        .join(
            Lease,
            (col(Lease.workspace_id) == col(AccountingRecord.workspace_id))
            & (col(Lease.external_resident_id) == col(AccountingRecord.external_resident_id)),
        )
        .where(
            col(AccountingRecord.workspace_id) == ws,
            col(AccountingRecord.integration_id) == integration_id,
        )
    )
    query = keyset(query, col(AccountingRecord.external_resident_id), after=after, limit=limit)
    page = list(session.execute(query))
    people = _people_of(session, ws, [lease.id for _record, lease in page])
    lines = []
    for record, lease in page:
        person = people.get(lease.id)
        lines.append(
            RosterLine(
                resident_id=record.external_resident_id,
                lease_id=lease.id,
                status=CLIENT_STATUS[person.status] if person else "DELETED",
                name=person.name if person else record.name,
                email=person.email if person else record.email,
                phone=person.phone if person else record.phone,
                property=place_label(record.property_address, record.unit_name),
                rent_cents=lease.rent_cents,
                balance_cents=lease.balance_cents,
                disputed_cents=lease.disputed_cents,
            )
        )
    return lines


def _people_of(session: Session, ws: str, lease_ids: list[str]) -> dict[str, Resident]:
    """Lease ID -> its first living resident, for one page of leases."""
    rows = session.execute(
        select(col(LeaseResident.lease_id), Resident)
        .join(
            Resident,
            (col(Resident.workspace_id) == col(LeaseResident.workspace_id))
            & (col(Resident.id) == col(LeaseResident.resident_id)),
        )
        .where(
            col(LeaseResident.workspace_id) == ws,
            col(LeaseResident.lease_id).in_(lease_ids),
            col(Resident.status) != ResidentStatus.DELETED,
        )
        .order_by(col(LeaseResident.lease_id), col(Resident.id))
    )
    people: dict[str, Resident] = {}
    for lease_id, resident in rows:
        people.setdefault(lease_id, resident)
    return people
